/**
 * Tolerant matching of command output, in the spirit of istio.io's docs-as-tests
 * (`_verify_like`): the learner's output matches what a lesson shows when it has the same
 * lines and columns, but values that differ from run to run — pod-name hashes, ages, IPs,
 * ports picked at random, resourceVersions — may differ. Whitespace between columns is ignored.
 *
 * In the expected text, a line `...` matches any number of lines, and a token `*` matches any
 * one token.
 */

/** Token shapes whose value legitimately differs between runs; both sides must have the shape. */
const volatileShapes: { name: string; re: RegExp }[] = [
  { name: 'age', re: /^(\d+(ms|s|m|h|d|y))+$|^<unknown>$|^<invalid>$/ },
  { name: 'ipv4', re: /^\d{1,3}(\.\d{1,3}){3}(:\d+)?$/ },
  { name: 'ip-list', re: /^\d{1,3}(\.\d{1,3}){3}(,\d{1,3}(\.\d{1,3}){3})+$/ },
  { name: 'ports', re: /^(\d+:)?\d+\/(TCP|UDP|SCTP)(,(\d+:)?\d+\/(TCP|UDP|SCTP))*$/ },
  { name: 'number', re: /^\d+$/ },
  { name: 'restarts', re: /^\d+ \(\d+\w+ ago\)$/ },
];

/** `reviews-v1-7d8f9b4c5-x2kqz` and `reviews-v1-5b9c7d6f4-abcde` are the same pod for a learner. */
const podHash = /^(.*?)-[a-z0-9]{6,10}-[a-z0-9]{5}$/;
const replicaSetHash = /^(.*?)-[a-z0-9]{6,10}$/;
const generatedSuffix = /^(.*?)-[a-z0-9]{5}$/;

function stripGenerated(token: string): string | undefined {
  return podHash.exec(token)?.[1] ?? undefined;
}

export function tokensMatch(expected: string, actual: string): boolean {
  if (expected === '*' || expected === actual) return true;
  const e = stripGenerated(expected);
  if (e !== undefined && e === stripGenerated(actual)) return true;
  for (const suffix of [replicaSetHash, generatedSuffix]) {
    const em = suffix.exec(expected)?.[1];
    // Only when the stems match and both have a hash-like suffix with a digit (plain words like
    // "details-v1" must still match exactly).
    if (em && em === suffix.exec(actual)?.[1] && /\d/.test(expected.slice(em.length)) && /\d/.test(actual.slice(em.length))) return true;
  }
  for (const shape of volatileShapes) {
    if (shape.re.test(expected) && shape.re.test(actual)) {
      if (shape.name === 'ports') return expected.replace(/:\d+\//g, ':N/') === actual.replace(/:\d+\//g, ':N/');
      return true;
    }
  }
  return false;
}

/**
 * Splits a line into columns. kubectl separates columns with 3+ spaces; single spaces inside
 * a cell (e.g. `0 (5m ago)`, `Ready,SchedulingDisabled`) stay in one token.
 */
export function columns(line: string): string[] {
  const trimmed = line.trim();
  if (!trimmed) return [];
  return trimmed.split(/\s{2,}|\t/).flatMap((cell) => (/ \(\d+\w+ ago\)$/.test(cell) ? [cell] : cell.split(/\s+/)));
}

export function linesMatch(expected: string, actual: string): boolean {
  const e = columns(expected);
  const a = columns(actual);
  return e.length === a.length && e.every((t, i) => tokensMatch(t, a[i]!));
}

export interface MatchResult {
  ok: boolean;
  /** First expected line that could not be matched, for the failure message. */
  missing?: string;
}

const normalise = (text: string) =>
  text
    .replace(/\r\n?/g, '\n')
    // Terminal transcripts carry colours and cursor movement.
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*(\x07|\x1b\\)/g, '')
    .split('\n')
    .map((l) => l.trimEnd());

/**
 * Whether `actual` contains the expected block: its lines in order and consecutive, except
 * where the expected text says `...`. Blank expected lines are ignored.
 */
export function outputLike(expectedText: string, actualText: string): MatchResult {
  const expected = normalise(expectedText).filter((l) => l.trim() !== '');
  const actual = normalise(actualText);
  if (expected.length === 0) return { ok: true };

  const matchFrom = (ei: number, ai: number): boolean => {
    if (ei === expected.length) return true;
    const line = expected[ei]!;
    if (line.trim() === '...') {
      for (let k = ai; k <= actual.length; k++) if (matchFrom(ei + 1, k)) return true;
      return false;
    }
    return ai < actual.length && linesMatch(line, actual[ai]!) && matchFrom(ei + 1, ai + 1);
  };

  for (let start = 0; start < actual.length; start++) if (matchFrom(0, start)) return { ok: true };

  // Name the first expected line that appears nowhere, so the learner knows what is missing.
  const missing = expected.find((l) => l.trim() !== '...' && !actual.some((a) => linesMatch(l, a)));
  return { ok: false, missing: missing ?? expected[0] };
}
