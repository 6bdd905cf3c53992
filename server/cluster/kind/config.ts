/**
 * The kind cluster the playground creates: the tutorial's shape (one control plane, two workers)
 * with the ingress gateway's pinned NodePorts published on the host, written to a file that
 * `kind create cluster --config` reads.
 */
import YAML from 'yaml';

/** Kubernetes 1.32 as the embedded cluster; the digest is the one kind v0.27.0's release notes give for this image. */
export const KIND_VERSION = 'v0.27.0';
export const KIND_NODE_IMAGE = 'kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f';

/**
 * The NodePorts the instructor's Istio install pins on istio-ingressgateway (see
 * ingressNodePortOverlay): extraPortMappings need to know them before the cluster exists.
 */
export const INGRESS_NODE_PORTS = { http2: 30080, https: 30443 } as const;

export interface KindClusterShape {
  name: string;
  /** Host port for the http2 NodePort; https gets hostPort + 1. */
  hostPort: number;
  /** Address the host ports listen on (kind's default is all addresses). */
  listenAddress?: string;
}

/** The kind Cluster config (kind.x-k8s.io/v1alpha4) as YAML. */
export function kindClusterConfig(shape: KindClusterShape): string {
  const mappings = [
    { containerPort: INGRESS_NODE_PORTS.http2, hostPort: shape.hostPort },
    { containerPort: INGRESS_NODE_PORTS.https, hostPort: shape.hostPort + 1 },
  ].map((m) => ({ ...m, listenAddress: shape.listenAddress ?? '0.0.0.0', protocol: 'TCP' }));
  const config = {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: shape.name,
    nodes: [
      // NodePorts answer on every node; the control plane's container is the one Docker publishes.
      { role: 'control-plane', extraPortMappings: mappings },
      { role: 'worker' },
      { role: 'worker' },
    ],
  };
  return `# Written by istio-playground (--backend kind); kind create cluster --config reads it.\n${YAML.stringify(config)}`;
}

/** An IstioOperator overlay for `istioctl install -f`: the ingress gateway as a NodePort Service on the mapped ports. */
export function ingressNodePortOverlay(): string {
  const overlay = {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    spec: {
      components: {
        ingressGateways: [
          {
            name: 'istio-ingressgateway',
            enabled: true,
            k8s: {
              service: {
                type: 'NodePort',
                ports: [
                  { name: 'status-port', port: 15021, targetPort: 15021 },
                  { name: 'http2', port: 80, targetPort: 8080, nodePort: INGRESS_NODE_PORTS.http2 },
                  { name: 'https', port: 443, targetPort: 8443, nodePort: INGRESS_NODE_PORTS.https },
                ],
              },
            },
          },
        ],
      },
    },
  };
  return `# istioctl install --set profile=demo -f <this file>: the ingress gateway on the NodePorts kind maps to the host.\n${YAML.stringify(overlay)}`;
}
