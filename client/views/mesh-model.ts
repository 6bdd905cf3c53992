/**
 * The mesh picture's wire shapes (the server's own types, type-only) and the words that describe
 * it for screen readers and labels.
 */
import type { MeshEdge, MeshGraph, MeshNode, TrafficSplit } from '../../server/mesh/graph.js';

export type { MeshEdge, MeshGraph, MeshNode, TrafficSplit };

export const percent = (share: number | null) => (share === null ? '–' : `${Math.round(share * 100)} %`);
export const perSecond = (rate: number) => `${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)} req/s`;

export function nodeLabel(n: MeshNode): string {
  if (n.kind === 'unknown') return 'outside the mesh';
  return n.version && !n.name.endsWith(n.version) ? `${n.name} ${n.version}` : n.name;
}

export function podSummary(n: MeshNode): string {
  if (n.pods.length === 0) return '';
  const ready = n.pods.filter((p) => p.ready).length;
  const sidecars = n.pods.filter((p) => p.sidecar).length;
  const proxy = n.kind === 'gateway' ? '' : sidecars === n.pods.length ? ', with sidecar' : sidecars === 0 ? ', no sidecar' : `, ${sidecars} with sidecar`;
  return `${ready}/${n.pods.length} ready${proxy}`;
}

export const edgeLabel = (e: MeshEdge) => (e.traffic ? `${perSecond(e.rate)}${e.errorShare ? ` · ${percent(e.errorShare)} 5xx` : ''}` : '');

/** The split a step about routing shows: reviews' when there is one, else the busiest service with several versions. */
export function chosenSplit(graph: MeshGraph, service = 'reviews'): TrafficSplit | undefined {
  return graph.splits.find((s) => s.service === service) ?? graph.splits.filter((s) => s.versions.length > 1).sort((a, b) => b.requests - a.requests)[0];
}

/** One sentence for the live region: what a listener wants to hear when the traffic shifts. */
export function splitSentence(split: TrafficSplit | undefined): string {
  if (!split) return 'No requests seen yet.';
  if (split.requests === 0) return `${split.service}: no requests in the last seconds.`;
  return `${split.service} traffic: ${split.versions.map((v) => `${v.version} ${percent(v.share)}`).join(', ')}.`;
}
