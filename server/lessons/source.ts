/**
 * Reading lesson source files while keeping line numbers: front-matter splitting, YAML
 * parsing, and mapping a schema path (["checks", 0, "kind"]) back to the line it came from.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';

export interface FrontMatterSplit {
  /** The YAML between the fences. */
  yaml: string;
  /** 1-based file line of the first YAML line. */
  yamlLine: number;
  body: string;
  /** 1-based file line where the body starts. */
  bodyLine: number;
}

/** Normalises what editors vary on (BOM, CRLF) so line numbers match what the author sees. */
export function normaliseSource(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

export function splitFrontMatter(text: string): FrontMatterSplit | { error: string; line: number } {
  const lines = text.split('\n');
  if (lines[0]?.trimEnd() !== '---') {
    return { error: 'a step file must start with front-matter: a "---" line, YAML (id, title, …), then "---"', line: 1 };
  }
  const close = lines.findIndex((line, index) => index > 0 && /^(?:---|\.\.\.)\s*$/.test(line));
  if (close === -1) return { error: 'front-matter opened here is never closed with a "---" line', line: 1 };
  return {
    yaml: lines.slice(1, close).join('\n'),
    yamlLine: 2,
    body: lines.slice(close + 1).join('\n'),
    bodyLine: close + 2,
  };
}

/** The usual cause of YAML's more cryptic errors in lesson files. */
const YAML_ADVICE: Partial<Record<string, string>> = {
  BLOCK_AS_IMPLICIT_KEY: ' (a value that contains ": " must be quoted, e.g. title: "Kubectl: the basics")',
  TAB_AS_INDENT: ' (indent with spaces)',
};

export interface ParsedYaml {
  doc: Document.Parsed;
  /** 1-based file line of an offset into the parsed text. */
  lineAt(offset: number): number;
  errors: { line: number; message: string }[];
}

/** firstLine: the file line the YAML text starts on (2 for front-matter, 1 for track.yaml). */
export function parseYaml(text: string, firstLine: number): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number) => lineCounter.linePos(offset).line + firstLine - 1;
  const errors = doc.errors.map((error) => ({
    line: lineAt(error.pos[0]),
    message: `invalid YAML: ${error.message}${YAML_ADVICE[error.code] ?? ''}`,
  }));
  return { doc, lineAt, errors };
}

/**
 * The line of the deepest node on `path` that exists: the key's line for a map entry (so a
 * missing or wrong field points at its parent or at itself), the item's line for a list entry.
 */
export function lineOfPath(parsed: ParsedYaml, path: readonly PropertyKey[]): number {
  let node: unknown = parsed.doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === segment);
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return parsed.lineAt(offset);
}

/** Every string scalar in the document with its line, for finding variable references. */
export function stringScalars(parsed: ParsedYaml): { value: string; line: number; blockScalar: boolean }[] {
  const found: { value: string; line: number; blockScalar: boolean }[] = [];
  const visit = (node: unknown): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        visit(pair.key);
        visit(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item);
    } else if (isScalar(node) && typeof node.value === 'string') {
      const block = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED';
      found.push({ value: node.value, line: parsed.lineAt(rangeStart(node) ?? 0), blockScalar: block });
    }
  };
  visit(parsed.doc.contents);
  return found;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range?.[0];
}
