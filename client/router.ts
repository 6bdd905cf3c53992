/**
 * Hash routes: `#/` the track list, `#/track/ID` a track (resumes at the saved step),
 * `#/track/ID/STEP` one step. Hash routing needs nothing from the server beyond index.html.
 */
export type Route =
  | { name: 'tracks' }
  | { name: 'track'; trackId: string; stepId: string | null }
  | { name: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/' || path === '') return { name: 'tracks' };
  const parts = path.split('/').filter(Boolean).map(safeDecode);
  if (parts[0] === 'track' && parts[1] && parts.length <= 3) {
    return { name: 'track', trackId: parts[1], stepId: parts[2] ?? null };
  }
  return { name: 'not-found', path };
}

export function trackHref(trackId: string, stepId?: string): string {
  return `#/track/${encodeURIComponent(trackId)}${stepId ? `/${encodeURIComponent(stepId)}` : ''}`;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
