/**
 * Sets of field paths as structured-merge-diff keeps them (fieldpath.Set), their FieldsV1 wire
 * form (`f:`, `k:`, `v:`, `i:` and `.`) and the path text used in conflict messages.
 *
 * A path element is kept in its serialized form, e.g. `f:spec`, `k:{"name":"nginx"}`, `v:"a"`.
 */

import { isObject, type JsonObject } from './json.js';

export type PathElement = string;
export type Path = PathElement[];

export const fieldPE = (name: string): PathElement => `f:${name}`;
export const valuePE = (v: unknown): PathElement => `v:${JSON.stringify(v)}`;
export const indexPE = (i: number): PathElement => `i:${i}`;
/** Key fields are sorted by name, as fieldpath.KeyByFields sorts them. */
export function keyPE(fields: Record<string, unknown>): PathElement {
  const sorted: JsonObject = {};
  for (const name of Object.keys(fields).sort()) sorted[name] = fields[name];
  return `k:${JSON.stringify(sorted)}`;
}

const ranks: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };
const typeRank = (pe: PathElement) => ranks[pe[0]] ?? 4;

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** fieldpath.PathElement.Compare: field names, then keys, then values, then indices. */
export function comparePE(a: PathElement, b: PathElement): number {
  if (a[0] === 'f' && b[0] === 'f') return a < b ? -1 : a > b ? 1 : 0;
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  const ba = a.slice(2);
  const bb = b.slice(2);
  if (ra === 0) return ba < bb ? -1 : ba > bb ? 1 : 0;
  if (ra === 3) return Number(ba) - Number(bb);
  const va = JSON.parse(ba) as unknown;
  const vb = JSON.parse(bb) as unknown;
  if (ra === 1 && isObject(va) && isObject(vb)) {
    const ka = Object.keys(va);
    const kb = Object.keys(vb);
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
      const c = compareValues(va[ka[i]], vb[kb[i]]);
      if (c !== 0) return c;
    }
    return ka.length - kb.length;
  }
  return compareValues(va, vb);
}

/** value.ToString: strings quoted as JSON, everything else as Go prints it. */
function valueText(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** PathElement.String, e.g. `.spec`, `[name="nginx"]`, `[="a"]`, `[0]`. */
export function peText(pe: PathElement): string {
  const body = pe.slice(2);
  switch (pe[0]) {
    case 'f':
      return `.${body}`;
    case 'k': {
      const fields = JSON.parse(body) as JsonObject;
      return `[${Object.entries(fields)
        .map(([k, v]) => `${k}=${valueText(v)}`)
        .join(',')}]`;
    }
    case 'v':
      return `[=${valueText(JSON.parse(body))}]`;
    case 'i':
      return `[${body}]`;
    default:
      return '{{invalid path element}}';
  }
}

export const pathText = (path: Path): string => path.map(peText).join('');

/** fieldpath.Set: members at this level plus subtrees below. */
export class FieldSet {
  readonly members = new Set<PathElement>();
  readonly children = new Map<PathElement, FieldSet>();

  insert(path: Path): this {
    if (path.length === 0) return this;
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) {
      let child = node.children.get(path[i]);
      if (!child) {
        child = new FieldSet();
        node.children.set(path[i], child);
      }
      node = child;
    }
    node.members.add(path[path.length - 1]);
    return this;
  }

  has(path: Path): boolean {
    if (path.length === 0) return false;
    const parent = this.at(path.slice(0, -1));
    return parent?.members.has(path[path.length - 1]) ?? false;
  }

  /** The subtree under `prefix` (fieldpath.Set.WithPrefix), if any. */
  at(prefix: Path): FieldSet | undefined {
    let node: FieldSet | undefined = this;
    for (const pe of prefix) {
      node = node.children.get(pe);
      if (!node) return undefined;
    }
    return node;
  }

  isEmpty(): boolean {
    if (this.members.size) return false;
    for (const child of this.children.values()) if (!child.isEmpty()) return false;
    return true;
  }

  /** Every member path: members first, then subtrees, each in path-element order (Set.Iterate). */
  paths(prefix: Path = []): Path[] {
    const out: Path[] = [];
    for (const pe of [...this.members].sort(comparePE)) out.push([...prefix, pe]);
    for (const pe of [...this.children.keys()].sort(comparePE)) out.push(...this.children.get(pe)!.paths([...prefix, pe]));
    return out;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) out.members.add(m);
    for (const [pe, child] of this.children) out.children.set(pe, child.clone());
    return out;
  }

  union(other: FieldSet): FieldSet {
    const out = this.clone();
    for (const m of other.members) out.members.add(m);
    for (const [pe, child] of other.children) {
      const mine = out.children.get(pe);
      out.children.set(pe, mine ? mine.union(child) : child.clone());
    }
    return out;
  }

  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) out.members.add(m);
    for (const [pe, child] of this.children) {
      const theirs = other.children.get(pe);
      const rest = theirs ? child.difference(theirs) : child.clone();
      if (!rest.isEmpty()) out.children.set(pe, rest);
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (other.members.has(m)) out.members.add(m);
    for (const [pe, child] of this.children) {
      const theirs = other.children.get(pe);
      if (!theirs) continue;
      const both = child.intersection(theirs);
      if (!both.isEmpty()) out.children.set(pe, both);
    }
    return out;
  }

  /** True when some member lies strictly below `path`. */
  hasDescendants(path: Path): boolean {
    const node = this.at(path);
    return node !== undefined && !node.isEmpty();
  }

  /** FieldsV1 JSON: `{"f:spec":{"f:replicas":{}}}`, with `.` marking a member that has children. */
  toFieldsV1(): JsonObject {
    const out: JsonObject = {};
    // Every operation drops emptied subtrees, so a child here always holds members.
    const keys = new Set<PathElement>([...this.members, ...this.children.keys()]);
    for (const pe of [...keys].sort(comparePE)) {
      const child = this.children.get(pe);
      if (child) {
        const body = child.toFieldsV1();
        out[pe] = this.members.has(pe) ? { '.': {}, ...body } : body;
      } else {
        out[pe] = {};
      }
    }
    return out;
  }

  static fromFieldsV1(fields: unknown): FieldSet {
    const set = new FieldSet();
    const walk = (node: unknown, prefix: Path) => {
      if (!isObject(node)) throw new Error('FieldsV1 must be a JSON object');
      for (const [key, child] of Object.entries(node)) {
        if (key === '.') {
          set.insert(prefix);
          continue;
        }
        if (!/^[fkvi]:/.test(key)) throw new Error(`unknown path element ${JSON.stringify(key)} in FieldsV1`);
        const childPath = [...prefix, key];
        if (isObject(child) && Object.keys(child).length === 0) set.insert(childPath);
        else walk(child, childPath);
      }
    };
    walk(fields, []);
    return set;
  }

  static of(...paths: Path[]): FieldSet {
    const set = new FieldSet();
    for (const p of paths) set.insert(p);
    return set;
  }
}
