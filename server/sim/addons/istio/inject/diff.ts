/**
 * The JSONPatch (RFC 6902) from one JSON document to another, as the injector returns it:
 * objects member by member, arrays grown by appending, anything else replaced.
 */
export interface PatchOp {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
}

const esc = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function jsonDiff(from: unknown, to: unknown, path = ''): PatchOp[] {
  if (same(from, to)) return [];
  if (isObj(from) && isObj(to)) {
    const ops: PatchOp[] = [];
    for (const k of Object.keys(from)) if (!(k in to)) ops.push({ op: 'remove', path: `${path}/${esc(k)}` });
    for (const [k, v] of Object.entries(to)) {
      if (!(k in from)) ops.push({ op: 'add', path: `${path}/${esc(k)}`, value: v });
      else ops.push(...jsonDiff(from[k], v, `${path}/${esc(k)}`));
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to) && to.length >= from.length) {
    const ops: PatchOp[] = [];
    from.forEach((v, i) => ops.push(...jsonDiff(v, to[i], `${path}/${i}`)));
    for (let i = from.length; i < to.length; i++) ops.push({ op: 'add', path: `${path}/${i}`, value: to[i] });
    return ops;
  }
  return [{ op: 'replace', path, value: to }];
}
