/**
 * meta.k8s.io Table and PartialObjectMetadata responses: the envelope kube-apiserver wraps around
 * the printers' columns and rows, honouring `includeObject`.
 */
import type { KubeObject } from '../types.js';
import type { ResourceDef } from '../registry/resource.js';
import type { LazyModules as Plugins, TableColumn } from '../registry/lazy-modules.js';
import { apiVersionOf } from '../registry/rest.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function partialMetadata(o: KubeObject, metaVersion = 'v1'): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${metaVersion}`, metadata: o.metadata };
}

const DEFAULT_COLUMNS: TableColumn[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names', priority: 0 },
  { name: 'Created At', type: 'date', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata', priority: 0 },
];

export function printRows(plugins: Plugins, def: ResourceDef, objects: KubeObject[], now: Date): { columnDefinitions: TableColumn[]; rows: { cells: unknown[]; object: KubeObject }[] } {
  const full = objects.map((o) => ({ ...o, apiVersion: apiVersionOf(def), kind: def.kind }));
  if (plugins.printers) {
    // A CRD prints its additionalPrinterColumns; any other kind its printer, or kube's default table.
    const how = def.crd ? { customColumns: def.printerColumns ?? [] } : { printer: def.printer ?? null };
    return plugins.printers.printTable({ group: def.group, version: def.version, resource: def.resource, objects: full, now, ...how });
  }
  // Until the kind printers exist: kube's default table (what an unknown type prints).
  return { columnDefinitions: DEFAULT_COLUMNS, rows: full.map((o) => ({ cells: [o.metadata.name, o.metadata.creationTimestamp], object: o })) };
}

export function table(
  plugins: Plugins,
  def: ResourceDef,
  objects: KubeObject[],
  opts: { tableVersion: string; include: IncludeObject; listMeta?: Record<string, unknown>; now: Date; noHeaders?: boolean },
): object {
  const { columnDefinitions, rows } = printRows(plugins, def, objects, opts.now);
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.tableVersion}`,
    metadata: opts.listMeta ?? {},
    columnDefinitions: opts.noHeaders ? [] : columnDefinitions,
    rows: rows.map((r) => ({
      cells: r.cells,
      ...(opts.include === 'None' ? {} : { object: opts.include === 'Object' ? r.object : partialMetadata(r.object, opts.tableVersion) }),
    })),
  };
}
