/**
 * events.k8s.io/v1 Events share storage with core/v1 Events (as in kube-apiserver); this maps
 * the renamed fields at the store boundary (regarding ↔ involvedObject, note ↔ message, …).
 */
import type { KubeObject } from '../../types.js';

type Obj = Record<string, any>;

const RENAMES: [eventsV1: string, coreV1: string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(o: KubeObject, apiVersion: string, pairs: [string, string][]): KubeObject {
  const out = structuredClone(o) as Obj;
  out.apiVersion = apiVersion;
  for (const [from, to] of pairs) {
    if (out[from] !== undefined) out[to] = out[from];
    delete out[from];
  }
  return out as KubeObject;
}

export const eventsV1Conversion = {
  toStorage: (o: KubeObject) => rename(o, 'v1', RENAMES),
  fromStorage: (o: KubeObject) => rename(o, 'events.k8s.io/v1', RENAMES.map(([a, b]) => [b, a])),
};
