/**
 * Lesson variables: `{{NAME}}` (spaces inside the braces allowed) where NAME is upper-case
 * letters, digits and underscores. Lower-case or dotted forms such as Go templates'
 * `{{.metadata.name}}` or `{{range …}}` are never touched, so `kubectl -o go-template` examples
 * keep working. A backslash before the braces, `\{{NAME}}`, writes the placeholder literally.
 */

const REFERENCE = /(\\?)\{\{\s*([A-Z][A-Z0-9_]*)\s*\}\}/g;

export interface VariableReference {
  name: string;
  /** 0-based line within the text. */
  lineIndex: number;
}

/** Every unescaped `{{NAME}}` in text, with the line it sits on. */
export function findVariableReferences(text: string): VariableReference[] {
  const found: VariableReference[] = [];
  for (const match of text.matchAll(REFERENCE)) {
    if (match[1]) continue;
    const lineIndex = countNewlines(text, match.index);
    found.push({ name: match[2]!, lineIndex });
  }
  return found;
}

/**
 * Replaces `{{NAME}}` with its value and `\{{NAME}}` with the literal `{{NAME}}`. A name with
 * no value is an error: the catalog reports unknown names before this runs, so reaching one
 * here is a bug, not something to paper over with an empty string.
 */
export function substituteVariables(text: string, variables: Readonly<Record<string, string>>): string {
  return text.replace(REFERENCE, (whole: string, escape: string, name: string) => {
    if (escape) return whole.slice(1);
    const value = variables[name];
    if (value === undefined) throw new Error(`unknown lesson variable {{${name}}}`);
    return value;
  });
}

/** Applies substituteVariables to every string inside a JSON-like value. */
export function substituteDeep<T>(value: T, variables: Readonly<Record<string, string>>): T {
  if (typeof value === 'string') return substituteVariables(value, variables) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => substituteDeep(item, variables)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteDeep(item, variables);
    return out as T;
  }
  return value;
}

function countNewlines(text: string, end: number): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
