/**
 * Server-side printing: the `Table` kubectl asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. A kind with a printer (its definition's,
 * for the built-ins kube-apiserver's) prints with it; custom resources (callers pass
 * `customColumns`, the served version's additionalPrinterColumns, `[]` when it has none) get the
 * CRD table convertor; any other kind gets kube's default convertor (NAME, CREATED AT), as roles
 * and CRDs do in a real cluster.
 */
import type { KubeObject } from '../../types.js';
import { builtinKindOfResource } from '../kinds/index.js';
import { col, nameCol, type ColumnDefinition, type KindPrinter, type RowCondition } from './columns.js';
import { customResourceTable, type PrinterColumn } from './custom-columns.js';

export type { ColumnDefinition, PrinterColumn, RowCondition };
export { humanDuration } from './duration.js';

export interface TableRow {
  cells: unknown[];
  object: KubeObject;
  /** Set for finished pods (kube marks them `Completed`). */
  conditions?: RowCondition[];
}

export interface PrintTableInput {
  group: string;
  version: string;
  resource: string;
  objects: KubeObject[];
  /** Ages are computed against this instant (Date or epoch ms); defaults to the current time. */
  now?: Date | number;
  customColumns?: PrinterColumn[];
  /**
   * The kind's printer, `null` for a kind without one (kube's default table). When absent, a
   * built-in kind's is found by group and resource.
   */
  printer?: KindPrinter | null;
}

export function printTable(input: PrintTableInput): { columnDefinitions: ColumnDefinition[]; rows: TableRow[] } {
  const now = input.now === undefined ? new Date() : new Date(input.now);
  if (input.customColumns) return customResourceTable(input.customColumns, input.objects, now);
  const printer = input.printer === undefined ? builtinKindOfResource(input.group, input.resource)?.printer : input.printer;
  if (!printer) return input.printer === undefined && !isBuiltinGroup(input.group) ? customResourceTable([], input.objects, now) : defaultTable(input.objects);
  return {
    columnDefinitions: printer.columns,
    rows: input.objects.map((object) => {
      const row: TableRow = { cells: printer.cells(object, now), object };
      const conditions = printer.conditions?.(object);
      if (conditions) row.conditions = conditions;
      return row;
    }),
  };
}

/** Kubernetes' own API groups: the core group, un-dotted ones (apps, batch…) and *.k8s.io. */
function isBuiltinGroup(group: string): boolean {
  return group === '' || !group.includes('.') || group.endsWith('.k8s.io');
}

/** k8s.io/apiserver/pkg/registry/rest.defaultTableConvertor. */
function defaultTable(objects: KubeObject[]) {
  return {
    columnDefinitions: [
      nameCol(),
      col('Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata'),
    ],
    rows: objects.map((object) => ({ cells: [object.metadata?.name ?? '', rfc3339(object.metadata?.creationTimestamp)], object })),
  };
}

function rfc3339(ts: unknown): string {
  if (typeof ts !== 'string' || Number.isNaN(Date.parse(ts))) return '';
  return new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
