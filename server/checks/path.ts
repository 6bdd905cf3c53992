/**
 * Field paths in check declarations, in kubectl's jsonpath form without braces:
 * `spec.ports[0].nodePort`, `metadata.labels['istio-injection']`, `spec.containers[*].name`.
 * Returns every value the path reaches (several when it has a `[*]`).
 */
export type PathSegment = string | number | '*';

export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  const re = /\.?([A-Za-z_$][\w$-]*)|\[(\d+|\*)\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]/y;
  let i = path.startsWith('.') ? 0 : 0;
  while (i < path.length) {
    re.lastIndex = i;
    const m = re.exec(path);
    if (!m) throw new Error(`cannot parse field path "${path}" at "${path.slice(i)}"`);
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(m[2] === '*' ? '*' : Number(m[2]));
    else segments.push(m[3] ?? m[4]!);
    i = re.lastIndex;
  }
  return segments;
}

export function resolvePath(obj: unknown, path: string): unknown[] {
  let current: unknown[] = [obj];
  for (const seg of parsePath(path)) {
    const next: unknown[] = [];
    for (const value of current) {
      if (value === null || typeof value !== 'object') continue;
      if (seg === '*') {
        if (Array.isArray(value)) next.push(...value);
        else next.push(...Object.values(value));
      } else if (typeof seg === 'number') {
        if (Array.isArray(value) && seg < value.length) next.push(value[seg]);
      } else if (!Array.isArray(value) && seg in value) {
        next.push((value as Record<string, unknown>)[seg]);
      }
    }
    current = next;
  }
  return current;
}
