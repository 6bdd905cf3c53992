/**
 * What the kinds' server-side printers share: the Table column and row types, the standard Name
 * and Age columns, and cell formatting used by several kinds. Each kind's printer lives in its
 * kind module (registry/kinds/) and follows kube-apiserver's (pkg/printers/internalversion/
 * printers.go): same columns, same priorities (1 = shown only with -o wide), same cell values.
 * The server always fills the wide cells, as kube-apiserver does; kubectl hides them itself.
 */
import type { KubeObject } from '../../types.js';
import { since } from './duration.js';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface RowCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** A kind's server-side printer: Table columns and the cells of one object's row. */
export interface KindPrinter {
  columns: ColumnDefinition[];
  cells(obj: KubeObject, now: Date): unknown[];
  conditions?(obj: KubeObject): RowCondition[] | undefined;
}

// Loosely typed views of the objects: stored objects are JSON and fields may be absent.
/* eslint-disable @typescript-eslint/no-explicit-any */
export type Any = any;

const NAME_DESCRIPTION = 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const AGE_DESCRIPTION = 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';
export const col = (name: string, type: string, description: string, priority = 0, format = ''): ColumnDefinition => ({ name, type, format, description, priority });
export const nameCol = (priority = 0) => col('Name', 'string', NAME_DESCRIPTION, priority, 'name');
export const ageCol = () => col('Age', 'string', AGE_DESCRIPTION);
export const containersCol = (priority = 1) => col('Containers', 'string', 'Names of each container in the template.', priority);
export const imagesCol = (priority = 1) => col('Images', 'string', 'Images referenced by each container in the template.', priority);
export const selectorCol = (description: string) => col('Selector', 'string', description, 1);
export const name = (o: KubeObject) => o.metadata?.name ?? '';
export const age = (o: KubeObject, now: Date) => since(o.metadata?.creationTimestamp, now);
export const int = (v: unknown) => (typeof v === 'number' ? Math.trunc(v) : 0);
export const len = (v: unknown) => (Array.isArray(v) ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0);

export function layoutContainerCells(containers: unknown): [string, string] {
  const list: Any[] = Array.isArray(containers) ? containers : [];
  return [list.map((c) => c?.name ?? '').join(','), list.map((c) => c?.image ?? '').join(',')];
}

export function loadBalancerStatus(lb: Any): string {
  const set = new Set<string>();
  for (const i of lb?.ingress ?? []) {
    if (i.ip) set.add(i.ip);
    else if (i.hostname) set.add(i.hostname);
  }
  // The server prints wide cells; kubectl's own column truncation is not applied server-side.
  return [...set].sort().join(',');
}

export function accessModes(modes: unknown): string {
  const list: string[] = Array.isArray(modes) ? modes : [];
  const short: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
  const out: string[] = [];
  for (const m of ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod']) if (list.includes(m)) out.push(short[m]!);
  return out.join(',');
}
