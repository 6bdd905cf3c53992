/**
 * The Kubernetes Gateway API CRDs as the standard channel of Gateway API v1.3.0 ships them
 * (`kubectl kustomize "github.com/kubernetes-sigs/gateway-api/config/crd?ref=v1.3.0"`): names,
 * versions, short names, categories, printer columns and bundle annotations as released, the
 * schemas from schemas.ts. Istio 1.30 does not install them: the learner applies them, from the
 * playground's offline copy (server/http/istio-release.ts serves `standardInstallYaml()`).
 */
import YAML from 'yaml';
import type { KubeObject } from '../manifests/objects.js';
import { gatewayApiSchemas } from './schemas.js';

import { GATEWAY_API_GROUP, GATEWAY_API_VERSION } from './version.js';

export { GATEWAY_API_GROUP, GATEWAY_API_VERSION };

interface Column {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
}

interface CrdDef {
  kind: string;
  plural: string;
  shortNames?: string[];
  scope: 'Cluster' | 'Namespaced';
  /** Served versions, storage first. */
  versions: string[];
  columns: Column[];
  status: boolean;
}

const AGE: Column = { jsonPath: '.metadata.creationTimestamp', name: 'Age', type: 'date' };
const HOSTNAMES: Column = { jsonPath: '.spec.hostnames', name: 'Hostnames', type: 'string' };

/** In the order the release's kustomization lists them. */
export const GATEWAY_API_CRDS: CrdDef[] = [
  {
    kind: 'GatewayClass', plural: 'gatewayclasses', shortNames: ['gc'], scope: 'Cluster', versions: ['v1', 'v1beta1'], status: true,
    columns: [
      { jsonPath: '.spec.controllerName', name: 'Controller', type: 'string' },
      { jsonPath: '.status.conditions[?(@.type=="Accepted")].status', name: 'Accepted', type: 'string' },
      AGE,
      { jsonPath: '.spec.description', name: 'Description', priority: 1, type: 'string' },
    ],
  },
  {
    kind: 'Gateway', plural: 'gateways', shortNames: ['gtw'], scope: 'Namespaced', versions: ['v1', 'v1beta1'], status: true,
    columns: [
      { jsonPath: '.spec.gatewayClassName', name: 'Class', type: 'string' },
      { jsonPath: '.status.addresses[*].value', name: 'Address', type: 'string' },
      { jsonPath: '.status.conditions[?(@.type=="Programmed")].status', name: 'Programmed', type: 'string' },
      AGE,
    ],
  },
  { kind: 'GRPCRoute', plural: 'grpcroutes', scope: 'Namespaced', versions: ['v1'], status: true, columns: [HOSTNAMES, AGE] },
  { kind: 'HTTPRoute', plural: 'httproutes', scope: 'Namespaced', versions: ['v1', 'v1beta1'], status: true, columns: [HOSTNAMES, AGE] },
  { kind: 'ReferenceGrant', plural: 'referencegrants', shortNames: ['refgrant'], scope: 'Namespaced', versions: ['v1beta1'], status: false, columns: [AGE] },
];

export function gatewayApiCrds(): KubeObject[] {
  const schemas = gatewayApiSchemas();
  return GATEWAY_API_CRDS.map((def) => {
    const s = schemas[def.kind]!;
    const properties: Record<string, unknown> = {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: structuredClone(s.spec),
      ...(s.status ? { status: structuredClone(s.status) } : {}),
    };
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: {
        annotations: {
          'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/3328',
          'gateway.networking.k8s.io/bundle-version': GATEWAY_API_VERSION,
          'gateway.networking.k8s.io/channel': 'standard',
        },
        name: `${def.plural}.${GATEWAY_API_GROUP}`,
      },
      spec: {
        group: GATEWAY_API_GROUP,
        names: {
          categories: ['gateway-api'],
          kind: def.kind,
          listKind: `${def.kind}List`,
          plural: def.plural,
          ...(def.shortNames ? { shortNames: def.shortNames } : {}),
          singular: def.kind.toLowerCase(),
        },
        scope: def.scope,
        versions: def.versions.map((name, i) => ({
          additionalPrinterColumns: def.columns,
          name,
          schema: { openAPIV3Schema: { properties, required: ['spec'], type: 'object' } },
          served: true,
          storage: i === 0,
          subresources: def.status ? { status: {} } : {},
        })),
      },
    };
  });
}

/** The release's standard-install.yaml: every CRD, one YAML document each. */
export function standardInstallYaml(): string {
  return gatewayApiCrds()
    .map((o) => `---\n${YAML.stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`)
    .join('');
}
