/**
 * Reads `istio_requests_total` samples from the Prometheus text exposition a proxy serves on
 * `:15020/stats/prometheus` (the merged endpoint). Other families are skipped unparsed: a busy
 * proxy's Envoy stats are most of the text and none of what the mesh picture needs.
 */

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

const FAMILY = 'istio_requests_total';

/**
 * What one proxy's exposition may cost the server. A real proxy's `istio_requests_total` has one
 * series per peer workload × code × flags (dozens); a learner's cluster must not be able to make
 * the server hold millions of small objects per scrape by serving a huge exposition on 15020.
 */
export const MAX_SERIES_PER_PROXY = 2000;
const MAX_LABELS_PER_SERIES = 64;

export interface ParsedSamples {
  samples: Sample[];
  /** Set when the exposition held more series than MAX_SERIES_PER_PROXY (the rest were not read). */
  truncated: boolean;
}

/** The `istio_requests_total` samples of an exposition; malformed lines are skipped, never thrown on. */
export function parseRequestsTotal(text: string, maxSeries = MAX_SERIES_PER_PROXY): ParsedSamples {
  const samples: Sample[] = [];
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    if (text.startsWith(FAMILY, at) && (text[at + FAMILY.length] === '{' || text[at + FAMILY.length] === ' ')) {
      const sample = parseLine(text.slice(at + FAMILY.length, end));
      if (sample) {
        if (samples.length >= maxSeries) return { samples, truncated: true };
        samples.push(sample);
      }
    }
    at = end + 1;
  }
  return { samples, truncated: false };
}

/** `{k="v",…} value [timestamp]` or ` value`: label values may hold escaped quotes, backslashes and newlines. */
function parseLine(rest: string): Sample | undefined {
  // No prototype: a label named `__proto__` or `constructor` is just a label.
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  let i = 0;
  if (rest[0] === '{') {
    i = 1;
    for (;;) {
      while (rest[i] === ' ' || rest[i] === ',') i++;
      if (rest[i] === '}') {
        i++;
        break;
      }
      const eq = rest.indexOf('=', i);
      if (eq < 0 || rest[eq + 1] !== '"') return undefined;
      const name = rest.slice(i, eq).trim();
      let value = '';
      let j = eq + 2;
      for (; j < rest.length && rest[j] !== '"'; j++) {
        if (rest[j] === '\\' && j + 1 < rest.length) {
          const next = rest[++j];
          value += next === 'n' ? '\n' : next;
        } else value += rest[j];
      }
      if (j >= rest.length) return undefined;
      if (!(name in labels) && Object.keys(labels).length >= MAX_LABELS_PER_SERIES) return undefined;
      labels[name] = value;
      i = j + 1;
    }
  }
  const fields = rest.slice(i).trim().split(/\s+/);
  const value = Number(fields[0]);
  if (fields[0] === undefined || fields[0] === '' || Number.isNaN(value)) return undefined;
  return { labels, value };
}

/** A stable key for a label set (the order a proxy prints them in is not relied on). */
export function seriesKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
}
