/**
 * What kubeadm leaves in a fresh cluster: the `kubernetes` Service, CoreDNS (Deployment, kube-dns
 * Service at 10.96.0.10, its ConfigMap and ServiceAccount), kube-proxy (DaemonSet) and the control
 * plane's static pods, mirrored into the API by the control-plane node's kubelet.
 */
import { createHash } from 'node:crypto';
import type { EmbeddedCluster } from '../cluster.js';
import type { PlacedNode } from '../nodes/topology.js';
import { KUBE_VERSION } from '../nodes/topology.js';
import { nowISO, quietly, type Obj, type Resources } from './kit.js';

export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const KUBE_DNS_IP = '10.96.0.10';
const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.11.3';

const COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
`;

function staticPod(node: PlacedNode, component: string, image: string, command: string[], cpu: string, extra: Obj = {}): Obj {
  const hash = createHash('md5').update(`${node.name}/${component}`).digest('hex');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${component}-${node.name}`,
      namespace: 'kube-system',
      labels: { component, tier: 'control-plane' },
      annotations: {
        ...(extra.annotations ?? {}),
        'kubernetes.io/config.hash': hash,
        'kubernetes.io/config.mirror': hash,
        'kubernetes.io/config.seen': nowISO(),
        'kubernetes.io/config.source': 'file',
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: extra.nodeUid, controller: true }],
    },
    spec: {
      nodeName: node.name,
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      priority: 2000001000,
      automountServiceAccountToken: false,
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      tolerations: [{ effect: 'NoExecute', operator: 'Exists' }],
      containers: [
        {
          name: component,
          image,
          imagePullPolicy: 'IfNotPresent',
          command,
          resources: { requests: { cpu, ...(component === 'etcd' ? { memory: '100Mi' } : {}) } },
          livenessProbe: { failureThreshold: 8, httpGet: { host: node.ip, path: component === 'etcd' ? '/livez' : '/livez', port: extra.probePort, scheme: component === 'etcd' ? 'HTTP' : 'HTTPS' }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15 },
        },
      ],
    },
  };
}

export async function createSystemWorkloads(cluster: EmbeddedCluster, res: Resources, nodes: PlacedNode[]): Promise<void> {
  const rest = cluster.rest;
  const opts = { fieldManager: 'kubeadm' };
  const lookup = (r: string) => cluster.registry.lookup('', 'v1', r)!;
  await quietly(() =>
    rest.create(res.services, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: KUBERNETES_SERVICE_IP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], sessionAffinity: 'None', type: 'ClusterIP' },
    }, opts),
  );
  await quietly(() => rest.create(lookup('serviceaccounts'), 'kube-system', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } }, opts));
  await quietly(() => rest.create(lookup('serviceaccounts'), 'kube-system', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kube-proxy', namespace: 'kube-system' } }, opts));
  await quietly(() => rest.create(lookup('configmaps'), 'kube-system', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: COREFILE } }, opts));
  await quietly(() =>
    rest.create(res.services, 'kube-system', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kube-dns',
        namespace: 'kube-system',
        labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
        annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
      },
      spec: {
        clusterIP: KUBE_DNS_IP,
        selector: { 'k8s-app': 'kube-dns' },
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    }, opts),
  );
  await quietly(() =>
    rest.create(res.deployments, 'kube-system', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '25%' } },
        template: {
          metadata: { labels: { 'k8s-app': 'kube-dns' } },
          spec: {
            priorityClassName: 'system-cluster-critical',
            priority: 2000000000,
            serviceAccountName: 'coredns',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [
              { key: 'CriticalAddonsOnly', operator: 'Exists' },
              { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
            ],
            dnsPolicy: 'Default',
            containers: [
              {
                name: 'coredns',
                image: COREDNS_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { containerPort: 53, name: 'dns', protocol: 'UDP' },
                  { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
                  { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
                ],
                resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
                livenessProbe: { httpGet: { path: '/health', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 60, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 5 },
                readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' } },
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    }, opts),
  );
  await quietly(() =>
    rest.create(res.daemonSets, 'kube-system', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kube-proxy', namespace: 'kube-system', labels: { 'k8s-app': 'kube-proxy' } },
      spec: {
        selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
        template: {
          metadata: { labels: { 'k8s-app': 'kube-proxy' } },
          spec: {
            hostNetwork: true,
            priorityClassName: 'system-node-critical',
            priority: 2000001000,
            serviceAccountName: 'kube-proxy',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [{ operator: 'Exists' }],
            containers: [
              {
                name: 'kube-proxy',
                image: `registry.k8s.io/kube-proxy:${KUBE_VERSION}`,
                imagePullPolicy: 'IfNotPresent',
                command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)'],
                env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }],
                securityContext: { privileged: true },
              },
            ],
          },
        },
      },
    }, opts),
  );
  for (const node of nodes.filter((n) => n.role === 'control-plane')) {
    const nodeUid = cluster.store.get(res.nodes.bucket, '', node.name)?.metadata.uid;
    const etcdURL = `https://${node.ip}:2379`;
    const pods = [
      staticPod(node, 'etcd', 'registry.k8s.io/etcd:3.5.16-0', ['etcd', `--advertise-client-urls=${etcdURL}`, '--data-dir=/var/lib/etcd', `--listen-client-urls=https://127.0.0.1:2379,${etcdURL}`, `--name=${node.name}`], '100m', { nodeUid, probePort: 2381, annotations: { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': etcdURL } }),
      staticPod(node, 'kube-apiserver', `registry.k8s.io/kube-apiserver:${KUBE_VERSION}`, ['kube-apiserver', `--advertise-address=${node.ip}`, '--secure-port=6443', '--service-cluster-ip-range=10.96.0.0/12', '--service-node-port-range=30000-32767'], '250m', { nodeUid, probePort: 6443, annotations: { 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': `${node.ip}:6443` } }),
      staticPod(node, 'kube-controller-manager', `registry.k8s.io/kube-controller-manager:${KUBE_VERSION}`, ['kube-controller-manager', '--allocate-node-cidrs=true', '--cluster-cidr=10.244.0.0/16', '--leader-elect=true'], '200m', { nodeUid, probePort: 10257 }),
      staticPod(node, 'kube-scheduler', `registry.k8s.io/kube-scheduler:${KUBE_VERSION}`, ['kube-scheduler', '--leader-elect=true'], '100m', { nodeUid, probePort: 10259 }),
    ];
    for (const p of pods) await quietly(() => rest.create(res.pods, 'kube-system', p, opts));
  }
}
