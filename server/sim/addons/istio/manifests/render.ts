/**
 * What `istioctl install` applies for a resolved spec, component by component, shaped as Istio
 * 1.30.3's charts render them (manifests/charts/{base,istio-control/istio-discovery,gateways}).
 */
import YAML from 'yaml';
import type { KubeObject } from './objects.js';
import { crdObjects } from './crds.js';
import type { IstioOperatorSpec } from './profiles.js';
import { ISTIO_NAMESPACE } from '../version.js';

export type ComponentName = 'Base' | 'Pilot' | 'IngressGateways' | 'EgressGateways';

export interface RenderedComponent {
  name: ComponentName;
  /** The ✔ line istioctl prints when it is ready. */
  title: string;
  objects: KubeObject[];
}

const NS = ISTIO_NAMESPACE;

function labels(component: ComponentName, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, 'install.operator.istio.io/owning-resource': 'unknown', 'operator.istio.io/component': component };
}

function meshConfigOf(spec: IstioOperatorSpec): Record<string, unknown> {
  const demo = spec.values.profile === 'demo';
  const mesh: Record<string, unknown> = {
    ...(demo ? { accessLogFile: '/dev/stdout' } : {}),
    defaultConfig: { discoveryAddress: 'istiod.istio-system.svc:15012' },
    defaultProviders: { metrics: ['prometheus'] },
    enablePrometheusMerge: true,
    rootNamespace: 'istio-system',
    trustDomain: 'cluster.local',
  };
  return mergeDeep(mesh, spec.meshConfig);
}

function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = cur && typeof cur === 'object' && !Array.isArray(cur) && v && typeof v === 'object' && !Array.isArray(v) ? mergeDeep(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

function base(spec: IstioOperatorSpec): KubeObject[] {
  const l = labels('Base');
  return [
    ...crdObjects(l),
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'istio-reader-service-account', namespace: NS, labels: { app: 'istio-reader', release: 'istio', ...l } },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'istio-reader-clusterrole-istio-system', labels: { app: 'istio-reader', release: 'istio', ...l } },
      rules: [
        { apiGroups: ['config.istio.io', 'security.istio.io', 'networking.istio.io', 'authentication.istio.io', 'rbac.istio.io', 'telemetry.istio.io', 'extensions.istio.io'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['endpoints', 'pods', 'services', 'nodes', 'replicationcontrollers', 'namespaces', 'secrets'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['networking.istio.io'], resources: ['workloadentries'], verbs: ['get', 'watch', 'list'] },
        { apiGroups: ['networking.x-k8s.io', 'gateway.networking.k8s.io'], resources: ['gateways'], verbs: ['get', 'watch', 'list'] },
        { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceexports'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
        { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceimports'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'istio-reader-clusterrole-istio-system', labels: { app: 'istio-reader', release: 'istio', ...l } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'istio-reader-clusterrole-istio-system' },
      subjects: [{ kind: 'ServiceAccount', name: 'istio-reader-service-account', namespace: NS }],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'istiod-default-validator', labels: { app: 'istiod', 'istio.io/rev': revisionOf(spec), 'istio.io/tag': 'default', istio: 'istiod', release: 'istio', ...l } },
      webhooks: [
        {
          name: 'validation.istio.io',
          clientConfig: { service: { name: 'istiod', namespace: NS, path: '/validate', port: 443 } },
          rules: validationRules(),
          failurePolicy: 'Ignore',
          matchPolicy: 'Equivalent',
          namespaceSelector: {},
          objectSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'DoesNotExist' }] },
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          timeoutSeconds: 10,
        },
      ],
    },
  ];
}

function revisionOf(spec: IstioOperatorSpec): string {
  return spec.revision || 'default';
}

function validationRules() {
  return [
    {
      apiGroups: ['security.istio.io', 'networking.istio.io', 'telemetry.istio.io', 'extensions.istio.io'],
      apiVersions: ['*'],
      operations: ['CREATE', 'UPDATE'],
      resources: ['*'],
      scope: '*',
    },
  ];
}

function injectorWebhook(name: string, nsSelector: unknown, objSelector: unknown) {
  return {
    name,
    clientConfig: { service: { name: 'istiod', namespace: NS, path: '/inject', port: 443 } },
    sideEffects: 'None',
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: '*' }],
    failurePolicy: 'Fail',
    matchPolicy: 'Equivalent',
    reinvocationPolicy: 'Never',
    timeoutSeconds: 10,
    admissionReviewVersions: ['v1'],
    namespaceSelector: nsSelector,
    objectSelector: objSelector,
  };
}

function pilot(spec: IstioOperatorSpec): KubeObject[] {
  const demo = spec.values.profile === 'demo';
  const rev = revisionOf(spec);
  const l = labels('Pilot');
  const appLabels = { app: 'istiod', 'istio.io/rev': rev, istio: 'pilot', release: 'istio' };
  const mesh = meshConfigOf(spec);
  const autoscale = !demo;
  const image = `${spec.hub}/pilot:${spec.tag}`;
  const injectorValues = {
    global: { hub: spec.hub, tag: spec.tag, istioNamespace: NS, proxy: { image: 'proxyv2', clusterDomain: 'cluster.local', resources: { requests: demo ? { cpu: '10m', memory: '40Mi' } : { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2000m', memory: '1024Mi' } } }, meshID: '', network: '' },
    revision: spec.revision,
    sidecarInjectorWebhook: { rewriteAppHTTPProbe: true },
  };
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'istiod', namespace: NS, labels: { app: 'istiod', release: 'istio', ...l } } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'istiod-clusterrole-istio-system', labels: { app: 'istiod', release: 'istio', ...l } },
      rules: [
        { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
        { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], verbs: ['get', 'list', 'watch', 'update'] },
        { apiGroups: ['config.istio.io', 'security.istio.io', 'networking.istio.io', 'authentication.istio.io', 'rbac.istio.io', 'telemetry.istio.io', 'extensions.istio.io'], verbs: ['get', 'watch', 'list'], resources: ['*'] },
        { apiGroups: ['networking.istio.io'], verbs: ['get', 'watch', 'list', 'update', 'patch', 'create', 'delete'], resources: ['workloadentries'] },
        { apiGroups: ['networking.istio.io'], verbs: ['get', 'watch', 'list', 'update', 'patch', 'create', 'delete'], resources: ['workloadentries/status', 'serviceentries/status'] },
        { apiGroups: ['security.istio.io'], verbs: ['get', 'watch', 'list', 'update', 'patch', 'create', 'delete'], resources: ['authorizationpolicies/status'] },
        { apiGroups: [''], verbs: ['get', 'watch', 'list', 'update', 'patch', 'create', 'delete'], resources: ['services/status'] },
        { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods', 'nodes', 'services', 'namespaces', 'endpoints'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingressclasses'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['*'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get', 'list', 'watch', 'update'] },
        { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests', 'certificatesigningrequests/approval', 'certificatesigningrequests/status'], verbs: ['update', 'create', 'get', 'delete', 'watch'] },
        { apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['kubernetes.io/legacy-unknown'], verbs: ['approve'] },
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
        { apiGroups: ['gateway.networking.k8s.io', 'gateway.networking.x-k8s.io'], resources: ['*'], verbs: ['get', 'watch', 'list'] },
        { apiGroups: ['gateway.networking.k8s.io', 'gateway.networking.x-k8s.io'], resources: ['backendtlspolicies/status', 'gatewayclasses/status', 'gateways/status', 'grpcroutes/status', 'httproutes/status', 'referencegrants/status', 'tcproutes/status', 'tlsroutes/status', 'udproutes/status'], verbs: ['update', 'patch'] },
        { apiGroups: ['gateway.networking.k8s.io'], resources: ['gatewayclasses'], verbs: ['create', 'update', 'patch', 'delete'] },
        { apiGroups: ['inference.networking.x-k8s.io'], resources: ['inferencepools'], verbs: ['get', 'watch', 'list'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] },
        { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceexports'], verbs: ['get', 'watch', 'list', 'create', 'delete'] },
        { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceimports'], verbs: ['get', 'watch', 'list'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'istiod-gateway-controller-istio-system', labels: { app: 'istiod', release: 'istio', ...l } },
      rules: [
        { apiGroups: ['apps'], verbs: ['get', 'watch', 'list', 'update', 'patch', 'create', 'delete'], resources: ['deployments'] },
        { apiGroups: [''], verbs: ['get', 'watch', 'list', 'update', 'patch', 'create', 'delete'], resources: ['services'] },
        { apiGroups: [''], verbs: ['get', 'watch', 'list', 'update', 'patch', 'create', 'delete'], resources: ['serviceaccounts'] },
        { apiGroups: ['autoscaling'], verbs: ['get', 'watch', 'list', 'update', 'patch', 'create', 'delete'], resources: ['horizontalpodautoscalers'] },
        { apiGroups: ['policy'], verbs: ['get', 'watch', 'list', 'update', 'patch', 'create', 'delete'], resources: ['poddisruptionbudgets'] },
      ],
    },
    ...['istiod-clusterrole-istio-system', 'istiod-gateway-controller-istio-system'].map((name) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels: { app: 'istiod', release: 'istio', ...l } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: 'istiod', namespace: NS }],
    })),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'istiod', namespace: NS, labels: { app: 'istiod', release: 'istio', ...l } },
      rules: [
        { apiGroups: ['networking.istio.io'], verbs: ['create'], resources: ['gateways'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'watch', 'list', 'update', 'delete'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['delete'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update', 'patch', 'create'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'istiod', namespace: NS, labels: { app: 'istiod', release: 'istio', ...l } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'istiod' },
      subjects: [{ kind: 'ServiceAccount', name: 'istiod', namespace: NS }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio', namespace: NS, labels: { 'istio.io/rev': rev, release: 'istio', ...l } },
      data: { mesh: YAML.stringify(mesh, { aliasDuplicateObjects: false }), meshNetworks: 'networks: {}' },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio-sidecar-injector', namespace: NS, labels: { 'istio.io/rev': rev, release: 'istio', ...l } },
      data: {
        config: YAML.stringify({ defaultTemplates: ['sidecar'], policy: 'enabled', alwaysInjectSelector: [], neverInjectSelector: [], injectedAnnotations: {}, template: '{{ template "sidecar" . }}', templates: { sidecar: '# rendered by istiod (see DATAPLANE.md §5)\n' } }),
        values: JSON.stringify(injectorValues, null, 2),
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'values', namespace: NS, labels: { 'istio.io/rev': rev, release: 'istio', ...l } },
      data: { 'original-values': JSON.stringify(spec.values), 'merged-values': JSON.stringify({ ...injectorValues, ...spec.values }) },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'istio-sidecar-injector', labels: { app: 'sidecar-injector', 'istio.io/rev': rev, release: 'istio', ...l } },
      webhooks: [
        injectorWebhook(
          'rev.namespace.sidecar-injector.istio.io',
          { matchExpressions: [{ key: 'istio.io/rev', operator: 'In', values: [rev] }, { key: 'istio-injection', operator: 'DoesNotExist' }] },
          { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
        ),
        injectorWebhook(
          'rev.object.sidecar-injector.istio.io',
          { matchExpressions: [{ key: 'istio.io/rev', operator: 'DoesNotExist' }, { key: 'istio-injection', operator: 'DoesNotExist' }] },
          { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }, { key: 'istio.io/rev', operator: 'In', values: [rev] }] },
        ),
        injectorWebhook(
          'namespace.sidecar-injector.istio.io',
          { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] },
          { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
        ),
        injectorWebhook(
          'object.sidecar-injector.istio.io',
          { matchExpressions: [{ key: 'istio-injection', operator: 'DoesNotExist' }, { key: 'istio.io/rev', operator: 'DoesNotExist' }] },
          { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'In', values: ['true'] }, { key: 'istio.io/rev', operator: 'DoesNotExist' }] },
        ),
      ],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'istio-validator-istio-system', labels: { app: 'istiod', istio: 'istiod', 'istio.io/rev': rev, release: 'istio', ...l } },
      webhooks: [
        {
          name: 'rev.validation.istio.io',
          clientConfig: { service: { name: 'istiod', namespace: NS, path: '/validate', port: 443 } },
          rules: validationRules(),
          failurePolicy: 'Ignore',
          matchPolicy: 'Equivalent',
          namespaceSelector: {},
          objectSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'In', values: [rev] }] },
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          timeoutSeconds: 10,
        },
      ],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'istiod', namespace: NS, labels: { ...appLabels, 'app.kubernetes.io/name': 'istiod', ...l } },
      spec: {
        ...(autoscale ? {} : { replicas: 1 }),
        strategy: { rollingUpdate: { maxSurge: '100%', maxUnavailable: '25%' } },
        selector: { matchLabels: { istio: 'pilot' } },
        template: {
          metadata: {
            labels: { app: 'istiod', 'istio.io/rev': rev, 'install.operator.istio.io/owning-resource': 'unknown', 'sidecar.istio.io/inject': 'false', 'operator.istio.io/component': 'Pilot', istio: 'pilot', 'istio.io/dataplane-mode': 'none' },
            annotations: { 'prometheus.io/port': '15014', 'prometheus.io/scrape': 'true', 'sidecar.istio.io/inject': 'false' },
          },
          spec: {
            tolerations: [{ key: 'cni.istio.io/not-ready', operator: 'Exists' }],
            serviceAccountName: 'istiod',
            containers: [
              {
                name: 'discovery',
                image,
                args: ['discovery', '--monitoringAddr=:15014', '--log_output_level=default:info', '--domain', 'cluster.local', '--keepaliveMaxServerConnectionAge', '30m'],
                ports: [
                  { containerPort: 8080, protocol: 'TCP', name: 'http-debug' },
                  { containerPort: 15010, protocol: 'TCP', name: 'grpc-xds' },
                  { containerPort: 15012, protocol: 'TCP', name: 'tls-xds' },
                  { containerPort: 15017, protocol: 'TCP', name: 'https-webhooks' },
                  { containerPort: 15014, protocol: 'TCP', name: 'http-monitoring' },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 8080 }, initialDelaySeconds: 1, periodSeconds: 3, timeoutSeconds: 5 },
                env: [
                  { name: 'REVISION', value: rev },
                  { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
                  { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
                  { name: 'SERVICE_ACCOUNT', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.serviceAccountName' } } },
                  { name: 'KUBECONFIG', value: '/var/run/secrets/remote/config' },
                  { name: 'CA_TRUSTED_NODE_ACCOUNTS', value: 'istio-system/ztunnel' },
                  { name: 'PILOT_TRACE_SAMPLING', value: demo ? '100' : '1' },
                  { name: 'PILOT_ENABLE_ANALYSIS', value: 'false' },
                  { name: 'CLUSTER_ID', value: 'Kubernetes' },
                  { name: 'GOMEMLIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1' } } },
                  { name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } },
                  { name: 'PLATFORM', value: '' },
                ],
                resources: { requests: demo ? { cpu: '10m', memory: '100Mi' } : { cpu: '500m', memory: '2048Mi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [
                  { name: 'istio-token', mountPath: '/var/run/secrets/tokens', readOnly: true },
                  { name: 'local-certs', mountPath: '/var/run/secrets/istio-dns' },
                  { name: 'cacerts', mountPath: '/etc/cacerts', readOnly: true },
                  { name: 'istio-kubeconfig', mountPath: '/var/run/secrets/remote', readOnly: true },
                  { name: 'istio-csr-dns-cert', mountPath: '/var/run/secrets/istiod/tls', readOnly: true },
                  { name: 'istio-csr-ca-configmap', mountPath: '/var/run/secrets/istiod/ca', readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: 'local-certs', emptyDir: { medium: 'Memory' } },
              { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } }] } },
              { name: 'cacerts', secret: { secretName: 'cacerts', optional: true } },
              { name: 'istio-kubeconfig', secret: { secretName: 'istio-kubeconfig', optional: true } },
              { name: 'istio-csr-dns-cert', secret: { secretName: 'istiod-tls', optional: true } },
              { name: 'istio-csr-ca-configmap', configMap: { name: 'istio-ca-root-cert', defaultMode: 420, optional: true } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'istiod', namespace: NS, labels: { ...appLabels, 'app.kubernetes.io/name': 'istiod', ...l } },
      spec: {
        ports: [
          { port: 15010, name: 'grpc-xds', protocol: 'TCP' },
          { port: 15012, name: 'https-dns', protocol: 'TCP' },
          { port: 443, name: 'https-webhook', targetPort: 15017, protocol: 'TCP' },
          { port: 15014, name: 'http-monitoring', protocol: 'TCP' },
        ],
        selector: { app: 'istiod', istio: 'pilot' },
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'istiod', namespace: NS, labels: { ...appLabels, 'app.kubernetes.io/name': 'istiod', ...l } },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'istiod', istio: 'pilot' } } },
    },
  ];
  if (autoscale) {
    objects.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'istiod', namespace: NS, labels: { ...appLabels, ...l } },
      spec: {
        maxReplicas: 5,
        minReplicas: 1,
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'istiod' },
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
      },
    });
  }
  return objects;
}

interface GatewayShape {
  name: string;
  kind: 'ingress' | 'egress';
  component: ComponentName;
  istioLabel: string;
  serviceType: string;
  servicePorts: { name: string; port: number; targetPort: number }[];
  containerPorts: number[];
  autoscale: boolean;
  demo: boolean;
}

function gatewayObjects(spec: IstioOperatorSpec, g: GatewayShape): KubeObject[] {
  const l = labels(g.component);
  const sa = `${g.name}-service-account`;
  const selector = { app: g.name, istio: g.istioLabel };
  const meta = { ...selector, 'istio.io/rev': revisionOf(spec), release: 'istio', ...l };
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: NS, labels: { ...selector, release: 'istio', ...l } } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: `${g.name}-sds`, namespace: NS, labels: { release: 'istio', ...l } },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${g.name}-sds`, namespace: NS, labels: { release: 'istio', ...l } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${g.name}-sds` },
      subjects: [{ kind: 'ServiceAccount', name: sa }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: g.name, namespace: NS, labels: meta },
      spec: {
        ...(g.autoscale ? {} : { replicas: 1 }),
        selector: { matchLabels: selector },
        strategy: { rollingUpdate: { maxSurge: '100%', maxUnavailable: '25%' } },
        template: {
          metadata: {
            labels: {
              ...selector,
              chart: 'gateways',
              heritage: 'Tiller',
              'install.operator.istio.io/owning-resource': 'unknown',
              'istio.io/rev': revisionOf(spec),
              'operator.istio.io/component': g.component,
              release: 'istio',
              'service.istio.io/canonical-name': g.name,
              'service.istio.io/canonical-revision': 'latest',
              'sidecar.istio.io/inject': 'false',
            },
            annotations: { 'istio.io/rev': revisionOf(spec), 'prometheus.io/path': '/stats/prometheus', 'prometheus.io/port': '15020', 'prometheus.io/scrape': 'true', 'sidecar.istio.io/inject': 'false' },
          },
          spec: {
            securityContext: { runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true, fsGroup: 1337 },
            serviceAccountName: sa,
            containers: [
              {
                name: 'istio-proxy',
                image: `${spec.hub}/proxyv2:${spec.tag}`,
                ports: g.containerPorts.map((p) => ({ containerPort: p, protocol: 'TCP', ...(p === 15090 ? { name: 'http-envoy-prom' } : {}) })),
                args: ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning', '--proxyComponentLogLevel=misc:error', '--log_output_level=default:info'],
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true },
                readinessProbe: { failureThreshold: 30, httpGet: { path: '/healthz/ready', port: 15021, scheme: 'HTTP' }, initialDelaySeconds: 1, periodSeconds: 2, successThreshold: 1, timeoutSeconds: 1 },
                resources: g.demo ? { limits: { cpu: '2000m', memory: '1024Mi' }, requests: { cpu: '10m', memory: '40Mi' } } : { limits: { cpu: '2000m', memory: '1024Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
                env: [
                  { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
                  { name: 'CA_ADDR', value: 'istiod.istio-system.svc:15012' },
                  { name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
                  { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
                  { name: 'INSTANCE_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
                  { name: 'HOST_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.hostIP' } } },
                  { name: 'ISTIO_CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
                  { name: 'SERVICE_ACCOUNT', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
                  { name: 'ISTIO_META_WORKLOAD_NAME', value: g.name },
                  { name: 'ISTIO_META_OWNER', value: `kubernetes://apis/apps/v1/namespaces/istio-system/deployments/${g.name}` },
                  { name: 'ISTIO_META_MESH_ID', value: 'cluster.local' },
                  { name: 'TRUST_DOMAIN', value: 'cluster.local' },
                  { name: 'ISTIO_META_UNPRIVILEGED_POD', value: 'true' },
                  { name: 'ISTIO_META_CLUSTER_ID', value: 'Kubernetes' },
                  { name: 'ISTIO_META_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                ],
                volumeMounts: [
                  { name: 'workload-socket', mountPath: '/var/run/secrets/workload-spiffe-uds' },
                  { name: 'credential-socket', mountPath: '/var/run/secrets/credential-uds' },
                  { name: 'workload-certs', mountPath: '/var/run/secrets/workload-spiffe-credentials' },
                  { name: 'istio-envoy', mountPath: '/etc/istio/proxy' },
                  { name: 'config-volume', mountPath: '/etc/istio/config' },
                  { name: 'istiod-ca-cert', mountPath: '/var/run/secrets/istio' },
                  { name: 'istio-token', mountPath: '/var/run/secrets/tokens', readOnly: true },
                  { name: 'istio-data', mountPath: '/var/lib/istio/data' },
                  { name: 'podinfo', mountPath: '/etc/istio/pod' },
                ],
              },
            ],
            volumes: [
              { name: 'workload-socket', emptyDir: {} },
              { name: 'credential-socket', emptyDir: {} },
              { name: 'workload-certs', emptyDir: {} },
              { name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } },
              { name: 'podinfo', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } }] } },
              { name: 'istio-envoy', emptyDir: {} },
              { name: 'istio-data', emptyDir: {} },
              { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { path: 'istio-token', expirationSeconds: 43200, audience: 'istio-ca' } }] } },
              { name: 'config-volume', configMap: { name: 'istio', optional: true } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: g.name, namespace: NS, labels: meta, annotations: {} },
      spec: {
        type: g.serviceType,
        selector,
        ports: g.servicePorts.map((p) => ({ name: p.name, port: p.port, protocol: 'TCP', targetPort: p.targetPort })),
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: g.name, namespace: NS, labels: meta },
      spec: { minAvailable: 1, selector: { matchLabels: selector } },
    },
  ];
  if (g.autoscale) {
    objects.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: g.name, namespace: NS, labels: meta },
      spec: {
        maxReplicas: 5,
        minReplicas: 1,
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: g.name },
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
      },
    });
  }
  return objects;
}

/** Components in the order istioctl installs them; disabled ones are absent. */
export function renderInstall(spec: IstioOperatorSpec): RenderedComponent[] {
  const demo = spec.values.profile === 'demo';
  const out: RenderedComponent[] = [];
  if (spec.components.base.enabled) out.push({ name: 'Base', title: 'Istio core installed ⛵️', objects: base(spec) });
  if (spec.components.pilot.enabled) out.push({ name: 'Pilot', title: 'Istiod installed 🧠', objects: pilot(spec) });
  const egress = spec.components.egressGateways.filter((g) => g.enabled);
  if (egress.length) {
    out.push({
      name: 'EgressGateways',
      title: 'Egress gateways installed 🛫',
      objects: egress.flatMap((g) =>
        gatewayObjects(spec, {
          name: g.name, kind: 'egress', component: 'EgressGateways', istioLabel: 'egressgateway', serviceType: 'ClusterIP',
          servicePorts: [{ name: 'http2', port: 80, targetPort: 8080 }, { name: 'https', port: 443, targetPort: 8443 }],
          containerPorts: [8080, 8443, 15090], autoscale: !demo, demo,
        }),
      ),
    });
  }
  const ingress = spec.components.ingressGateways.filter((g) => g.enabled);
  if (ingress.length) {
    const ports = [
      { name: 'status-port', port: 15021, targetPort: 15021 },
      { name: 'http2', port: 80, targetPort: 8080 },
      { name: 'https', port: 443, targetPort: 8443 },
      ...(demo ? [{ name: 'tcp', port: 31400, targetPort: 31400 }, { name: 'tls', port: 15443, targetPort: 15443 }] : []),
    ];
    out.push({
      name: 'IngressGateways',
      title: 'Ingress gateways installed 🛬',
      objects: ingress.flatMap((g) =>
        gatewayObjects(spec, {
          name: g.name, kind: 'ingress', component: 'IngressGateways', istioLabel: 'ingressgateway', serviceType: 'LoadBalancer',
          servicePorts: ports, containerPorts: [15021, 8080, 8443, 15090], autoscale: !demo, demo,
        }),
      ),
    });
  }
  return out;
}

/** The namespace istioctl creates before anything else. */
export function namespaceObject(): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'kubernetes.io/metadata.name': NS } } };
}
