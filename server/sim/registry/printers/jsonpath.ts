/**
 * The JSONPath subset CRD printer columns use (`.spec.hosts`, `.status.conditions[0].type`,
 * `.items[*].name`, `.status.conditions[?(@.type=="Ready")].status`), evaluated the way
 * k8s.io/client-go/util/jsonpath does for a `{<path>}` template.
 */

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'filter'; path: string[]; op: '==' | '!='; value: unknown };

export function parseJsonPath(path: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  const s = path.trim().replace(/^\{(.*)\}$/, '$1').replace(/^\$/, '');
  while (i < s.length) {
    const c = s[i]!;
    if (c === '.') {
      let j = i + 1;
      while (j < s.length && s[j] !== '.' && s[j] !== '[') j++;
      const name = s.slice(i + 1, j);
      if (name === '*') steps.push({ kind: 'wildcard' });
      else if (name) steps.push({ kind: 'field', name });
      i = j;
    } else if (c === '[') {
      const end = matchingBracket(s, i);
      const inner = s.slice(i + 1, end).trim();
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(')) steps.push(parseFilter(inner.slice(2, -1)));
      else throw new Error(`unsupported JSONPath ${path}`);
      i = end + 1;
    } else {
      throw new Error(`unsupported JSONPath ${path}`);
    }
  }
  return steps;
}

function matchingBracket(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '[') depth++;
    else if (s[i] === ']' && --depth === 0) return i;
  }
  throw new Error(`unclosed [ in JSONPath ${s}`);
}

function parseFilter(expr: string): Step {
  const m = /^@((?:\.[A-Za-z0-9_-]+)+)\s*(==|!=)\s*(.+)$/.exec(expr.trim());
  if (!m) throw new Error(`unsupported JSONPath filter ${expr}`);
  const raw = m[3]!.trim();
  const value = /^["'].*["']$/.test(raw) ? raw.slice(1, -1) : raw === 'true' ? true : raw === 'false' ? false : Number(raw);
  return { kind: 'filter', path: m[1]!.slice(1).split('.'), op: m[2] as '==' | '!=', value };
}

/** All values the path selects (none when a field is missing). */
export function evaluateJsonPath(steps: Step[], root: unknown): unknown[] {
  let current: unknown[] = [root];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if (step.kind === 'field') {
        if (v && typeof v === 'object' && !Array.isArray(v) && step.name in (v as object)) next.push((v as Record<string, unknown>)[step.name]);
      } else if (step.kind === 'index') {
        if (Array.isArray(v)) {
          const idx = step.index < 0 ? v.length + step.index : step.index;
          if (idx >= 0 && idx < v.length) next.push(v[idx]);
        }
      } else if (step.kind === 'wildcard') {
        if (Array.isArray(v)) next.push(...v);
        else if (v && typeof v === 'object') next.push(...Object.values(v));
      } else {
        if (!Array.isArray(v)) continue;
        for (const item of v) {
          let x: unknown = item;
          for (const p of step.path) x = x && typeof x === 'object' ? (x as Record<string, unknown>)[p] : undefined;
          if ((step.op === '==') === (x === step.value)) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}

/** A value as jsonpath's PrintResults renders it: text as is, everything else as JSON. */
export function jsonPathText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}
