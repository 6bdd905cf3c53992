/**
 * What istiod's deployment controller applies for a `Gateway` of class istio: the chart's
 * `kube-gateway` template (istio-discovery/files/kube-gateway.yaml, Istio 1.30) rendered with the
 * installed values: ServiceAccount, Deployment and Service `<name>-istio`, owned by the Gateway.
 * The Service has the status port and one port per distinct listener port, named after the listener.
 */
import { GATEWAY_NAME_LABEL, deploymentName } from './translate.js';

type Obj = Record<string, any>;

/** The installed mesh's values that the template reads (from the injector ConfigMap's `values`). */
export interface GatewayValues {
  hub: string;
  tag: string;
  resources?: Obj;
  clusterId?: string;
}

const OMIT = ['kubectl.kubernetes.io/last-applied-configuration', 'gateway.istio.io/name-override', 'gateway.istio.io/service-account', 'gateway.istio.io/controller-version'];

function infraAnnotations(gw: Obj): Record<string, string> {
  const src = (gw.spec?.infrastructure?.annotations ?? gw.metadata?.annotations ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(src).filter(([k]) => !OMIT.includes(k)));
}

function infraLabels(gw: Obj): Record<string, string> {
  return { ...((gw.spec?.infrastructure?.labels ?? gw.metadata?.labels ?? {}) as Record<string, string>) };
}

export function servicePorts(gw: Obj): Obj[] {
  const ports: Obj[] = [{ name: 'status-port', port: 15021, protocol: 'TCP', appProtocol: 'tcp' }];
  const seen = new Set<number>();
  for (const [i, l] of ((gw.spec?.listeners ?? []) as Obj[]).entries()) {
    if (seen.has(l.port)) continue;
    seen.add(l.port);
    const name = String(l.name ?? '').replaceAll('.', '-').slice(0, 63) || `${String(l.protocol).toLowerCase()}-${i}`;
    ports.push({ name, port: l.port, protocol: 'TCP', appProtocol: String(l.protocol).toLowerCase() });
  }
  return ports;
}

export function renderGateway(gw: Obj, values: GatewayValues): Obj[] {
  const name = gw.metadata.name as string;
  const ns = gw.metadata.namespace as string;
  const deploy = deploymentName(gw);
  const sa = (gw.metadata.annotations?.['gateway.istio.io/service-account'] as string | undefined) ?? deploy;
  const cls = gw.spec.gatewayClassName as string;
  const owner = [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name, uid: gw.metadata.uid }];
  const annotations = infraAnnotations(gw);
  const labels = { ...infraLabels(gw), [GATEWAY_NAME_LABEL]: name, 'gateway.networking.k8s.io/gateway-class-name': cls };
  const managed = { ...labels, 'gateway.istio.io/managed': 'istio.io-gateway-controller' };
  const field = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });
  const resource = (r: string) => ({ valueFrom: { resourceFieldRef: { resource: r, divisor: '1' } } });
  const probe = (extra: Obj) => ({ httpGet: { path: '/healthz/ready', port: 15021, scheme: 'HTTP' }, successThreshold: 1, timeoutSeconds: 1, ...extra });
  const serviceType = (gw.metadata.annotations?.['networking.istio.io/service-type'] as string | undefined) ?? 'LoadBalancer';
  const addresses = (gw.spec?.addresses ?? []) as Obj[];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns, annotations, labels, ownerReferences: owner } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: deploy, namespace: ns, annotations, labels: managed, ownerReferences: owner },
      spec: {
        selector: { matchLabels: { [GATEWAY_NAME_LABEL]: name } },
        template: {
          metadata: {
            annotations: { ...annotations, 'istio.io/rev': 'default', 'prometheus.io/path': '/stats/prometheus', 'prometheus.io/port': '15020', 'prometheus.io/scrape': 'true' },
            labels: { 'sidecar.istio.io/inject': 'false', 'service.istio.io/canonical-name': deploy, 'service.istio.io/canonical-revision': 'latest', ...managed },
          },
          spec: {
            securityContext: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] },
            serviceAccountName: sa,
            containers: [
              {
                name: 'istio-proxy',
                image: `${values.hub}/proxyv2:${values.tag}`,
                ...(values.resources ? { resources: values.resources } : {}),
                securityContext: { capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true },
                ports: [
                  { containerPort: 15020, name: 'metrics', protocol: 'TCP' },
                  { containerPort: 15021, name: 'status-port', protocol: 'TCP' },
                  { containerPort: 15090, protocol: 'TCP', name: 'http-envoy-prom' },
                ],
                args: ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel', 'warning', '--proxyComponentLogLevel', 'misc:error', '--log_output_level', 'default:info'],
                env: [
                  { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
                  { name: 'CA_ADDR', value: 'istiod.istio-system.svc:15012' },
                  { name: 'POD_NAME', ...field('metadata.name') },
                  { name: 'POD_NAMESPACE', ...field('metadata.namespace') },
                  { name: 'INSTANCE_IP', ...field('status.podIP') },
                  { name: 'SERVICE_ACCOUNT', ...field('spec.serviceAccountName') },
                  { name: 'HOST_IP', ...field('status.hostIP') },
                  { name: 'ISTIO_CPU_LIMIT', ...resource('limits.cpu') },
                  { name: 'PROXY_CONFIG', value: '{}\n' },
                  { name: 'ISTIO_META_POD_PORTS', value: '[]' },
                  { name: 'ISTIO_META_APP_CONTAINERS', value: '' },
                  { name: 'GOMEMLIMIT', ...resource('limits.memory') },
                  { name: 'GOMAXPROCS', ...resource('limits.cpu') },
                  { name: 'ISTIO_META_CLUSTER_ID', value: values.clusterId ?? 'Kubernetes' },
                  { name: 'ISTIO_META_NODE_NAME', ...field('spec.nodeName') },
                  { name: 'ISTIO_META_INTERCEPTION_MODE', value: 'REDIRECT' },
                  { name: 'ISTIO_META_WORKLOAD_NAME', value: deploy },
                  { name: 'ISTIO_META_OWNER', value: `kubernetes://apis/apps/v1/namespaces/${ns}/deployments/${deploy}` },
                  { name: 'ISTIO_META_MESH_ID', value: 'cluster.local' },
                  { name: 'TRUST_DOMAIN', value: 'cluster.local' },
                ],
                startupProbe: probe({ failureThreshold: 30, initialDelaySeconds: 1, periodSeconds: 1 }),
                readinessProbe: probe({ failureThreshold: 4, initialDelaySeconds: 0, periodSeconds: 15 }),
                volumeMounts: [
                  { name: 'workload-socket', mountPath: '/var/run/secrets/workload-spiffe-uds' },
                  { name: 'credential-socket', mountPath: '/var/run/secrets/credential-uds' },
                  { name: 'workload-certs', mountPath: '/var/run/secrets/workload-spiffe-credentials' },
                  { mountPath: '/var/run/secrets/istio', name: 'istiod-ca-cert' },
                  { mountPath: '/var/lib/istio/data', name: 'istio-data' },
                  { mountPath: '/etc/istio/proxy', name: 'istio-envoy' },
                  { mountPath: '/var/run/secrets/tokens', name: 'istio-token' },
                  { name: 'istio-podinfo', mountPath: '/etc/istio/pod' },
                ],
              },
            ],
            volumes: [
              { emptyDir: {}, name: 'workload-socket' },
              { emptyDir: {}, name: 'credential-socket' },
              { emptyDir: {}, name: 'workload-certs' },
              { emptyDir: { medium: 'Memory' }, name: 'istio-envoy' },
              { name: 'istio-data', emptyDir: {} },
              { name: 'istio-podinfo', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } }] } },
              { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { path: 'istio-token', expirationSeconds: 43200, audience: 'istio-ca' } }] } },
              { name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { annotations, labels, name: deploy, namespace: ns, ownerReferences: owner },
      spec: {
        ipFamilyPolicy: 'PreferDualStack',
        ports: servicePorts(gw),
        selector: { [GATEWAY_NAME_LABEL]: name },
        ...(addresses.length && serviceType === 'LoadBalancer' ? { loadBalancerIP: addresses[0]!.value } : {}),
        type: serviceType,
      },
    },
  ];
}
