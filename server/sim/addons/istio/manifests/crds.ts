/**
 * Istio 1.30's CustomResourceDefinitions (manifests/charts/base/files/crd-all.gen.yaml): names,
 * served and storage versions, short names, categories and printer columns, with the spec
 * schemas from crd-schemas.ts. Every version of a kind shares one schema, as Istio generates them.
 */
import type { KubeObject } from './objects.js';
import { istioSpecSchemas, type JsonSchema } from './crd-schemas.js';

interface Column {
  name: string;
  type: string;
  jsonPath: string;
  description: string;
}

interface CrdDef {
  group: string;
  kind: string;
  plural: string;
  shortNames?: string[];
  /** Versions in the order Istio lists them; the storage version is marked. */
  versions: string[];
  storage: string;
  columns: Column[];
  /** Columns only some versions have are not a thing in Istio: all versions share these. */
  subresources?: boolean;
}

const AGE: Column = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description:
    'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC. Populated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
};

const NET = ['v1', 'v1alpha3', 'v1beta1'];
const SEC = ['v1', 'v1beta1'];

export const CRD_DEFS: CrdDef[] = [
  { group: 'extensions.istio.io', kind: 'TrafficExtension', plural: 'trafficextensions', versions: ['v1alpha1'], storage: 'v1alpha1', columns: [AGE] },
  { group: 'extensions.istio.io', kind: 'WasmPlugin', plural: 'wasmplugins', versions: ['v1alpha1'], storage: 'v1alpha1', columns: [AGE] },
  {
    group: 'networking.istio.io', kind: 'DestinationRule', plural: 'destinationrules', shortNames: ['dr'], versions: NET, storage: 'v1',
    columns: [{ name: 'Host', type: 'string', jsonPath: '.spec.host', description: 'The name of a service from the service registry' }, AGE],
  },
  { group: 'networking.istio.io', kind: 'EnvoyFilter', plural: 'envoyfilters', versions: ['v1alpha3'], storage: 'v1alpha3', columns: [] },
  { group: 'networking.istio.io', kind: 'Gateway', plural: 'gateways', shortNames: ['gw'], versions: NET, storage: 'v1', columns: [] },
  { group: 'networking.istio.io', kind: 'ProxyConfig', plural: 'proxyconfigs', versions: ['v1beta1'], storage: 'v1beta1', columns: [] },
  {
    group: 'networking.istio.io', kind: 'ServiceEntry', plural: 'serviceentries', shortNames: ['se'], versions: NET, storage: 'v1',
    columns: [
      { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts', description: 'The hosts associated with the ServiceEntry' },
      { name: 'Location', type: 'string', jsonPath: '.spec.location', description: 'Whether the service is external to the mesh or part of the mesh (MESH_EXTERNAL or MESH_INTERNAL)' },
      { name: 'Resolution', type: 'string', jsonPath: '.spec.resolution', description: 'Service resolution mode for the hosts (NONE, STATIC, or DNS)' },
      AGE,
    ],
  },
  { group: 'networking.istio.io', kind: 'Sidecar', plural: 'sidecars', versions: NET, storage: 'v1', columns: [] },
  {
    group: 'networking.istio.io', kind: 'VirtualService', plural: 'virtualservices', shortNames: ['vs'], versions: NET, storage: 'v1',
    columns: [
      { name: 'Gateways', type: 'string', jsonPath: '.spec.gateways', description: 'The names of gateways and sidecars that should apply these routes' },
      { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts', description: 'The destination hosts to which traffic is being sent' },
      AGE,
    ],
  },
  {
    group: 'networking.istio.io', kind: 'WorkloadEntry', plural: 'workloadentries', shortNames: ['we'], versions: NET, storage: 'v1',
    columns: [AGE, { name: 'Address', type: 'string', jsonPath: '.spec.address', description: 'Address associated with the network endpoint.' }],
  },
  { group: 'networking.istio.io', kind: 'WorkloadGroup', plural: 'workloadgroups', shortNames: ['wg'], versions: NET, storage: 'v1', columns: [AGE] },
  {
    group: 'security.istio.io', kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', shortNames: ['ap'], versions: SEC, storage: 'v1',
    columns: [{ name: 'Action', type: 'string', jsonPath: '.spec.action', description: 'The operation to take.' }, AGE],
  },
  {
    group: 'security.istio.io', kind: 'PeerAuthentication', plural: 'peerauthentications', shortNames: ['pa'], versions: SEC, storage: 'v1',
    columns: [{ name: 'Mode', type: 'string', jsonPath: '.spec.mtls.mode', description: 'Defines the mTLS mode used for peer authentication.' }, AGE],
  },
  { group: 'security.istio.io', kind: 'RequestAuthentication', plural: 'requestauthentications', shortNames: ['ra'], versions: SEC, storage: 'v1', columns: [] },
  { group: 'telemetry.istio.io', kind: 'Telemetry', plural: 'telemetries', shortNames: ['telemetry'], versions: ['v1', 'v1alpha1'], storage: 'v1alpha1', columns: [AGE] },
];

function specSchemaFor(def: CrdDef): JsonSchema {
  const known = istioSpecSchemas()[`${def.group}/${def.kind}`];
  // TrafficExtension has no published schema in the npm package: an open object keeps it usable.
  return known ? structuredClone(known) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
}

export function crdObjects(labels: Record<string, string>): KubeObject[] {
  return CRD_DEFS.map((def) => {
    const spec = specSchemaFor(def);
    const lower = def.kind.toLowerCase();
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: {
        name: `${def.plural}.${def.group}`,
        annotations: { 'helm.sh/resource-policy': 'keep' },
        labels: { app: 'istio-pilot', chart: 'istio', heritage: 'Tiller', release: 'istio', ...labels },
      },
      spec: {
        group: def.group,
        names: {
          categories: ['istio-io', `${def.group.split('.')[0]}-istio-io`],
          kind: def.kind,
          listKind: `${def.kind}List`,
          plural: def.plural,
          ...(def.shortNames ? { shortNames: def.shortNames } : {}),
          singular: lower,
        },
        scope: 'Namespaced',
        versions: def.versions.map((name) => ({
          ...(def.columns.length ? { additionalPrinterColumns: def.columns } : {}),
          name,
          schema: {
            openAPIV3Schema: {
              properties: {
                spec: spec,
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
              type: 'object',
            },
          },
          served: true,
          storage: name === def.storage,
          subresources: { status: {} },
        })),
      },
    };
  });
}
