/**
 * Reads each learner's mesh graph from their own cluster, through their kubeconfig: pods and
 * Services from the API, and every proxy's `istio_requests_total` through the pods/proxy
 * subresource (`/api/v1/namespaces/NS/pods/NAME:15020/proxy/stats/prometheus`), which works
 * the same on the embedded cluster and on a real one. A learner's cluster is read at most once
 * per interval and only while a page subscribes; rates come from a short per-pod history of
 * scrapes (bounded by the window), dropped a while after the last page stops looking.
 */
import type { Logger } from 'pino';
import type { KubeObjects } from '../checks/kube-objects.js';
import { buildGraph, podsFrom, scrapeable, servicesFrom, type MeshGraph, type Scrape } from './graph.js';
import { MAX_SERIES_PER_PROXY, parseRequestsTotal } from './prometheus.js';

export type MeshUpdate = { graph: MeshGraph } | { error: string };

export interface MeshWatcherOptions {
  /** The objects client of this learner's own cluster (their kubeconfig); throws when it is not available. */
  kubeFor: (learnerId: string) => Promise<KubeObjects>;
  logger?: Logger;
  /** Least time between two reads of one learner's cluster. */
  intervalMs?: number;
  /** Rates and splits are over about this long. */
  windowMs?: number;
  /** History is kept this long after the last page stopped looking (a reload keeps its rates). */
  keepMs?: number;
}

/** More proxies than this are not scraped (a picture of hundreds of pods says nothing anyway). */
export const MAX_SCRAPED_PODS = 60;
const SCRAPE_CONCURRENCY = 6;
/** A proxy's merged stats are mostly Envoy's; this bounds what one pod can make us hold. */
const MAX_STATS_BYTES = 8 * 1024 * 1024;

interface LearnerState {
  subscribers: Set<(u: MeshUpdate) => void>;
  /** Per pod uid: scrapes within the window, oldest first (the first one may be just older). */
  history: Map<string, Scrape[]>;
  last: { t: number; update: MeshUpdate } | undefined;
  inFlight: Promise<MeshUpdate> | undefined;
  timer: NodeJS.Timeout | undefined;
  dropTimer: NodeJS.Timeout | undefined;
}

export class MeshWatcher {
  private readonly learners = new Map<string, LearnerState>();
  private readonly intervalMs: number;
  private readonly windowMs: number;
  private readonly keepMs: number;
  private closed = false;

  constructor(private readonly options: MeshWatcherOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.windowMs = options.windowMs ?? 10_000;
    this.keepMs = options.keepMs ?? 30_000;
  }

  /** Whether a page is looking at this learner's picture (their cluster is in use). */
  watching(learnerId: string): boolean {
    return (this.learners.get(learnerId)?.subscribers.size ?? 0) > 0;
  }

  /** Calls `send` with a fresh graph about once per interval until the returned function is called. */
  subscribe(learnerId: string, send: (u: MeshUpdate) => void): () => void {
    const state = this.stateOf(learnerId);
    state.subscribers.add(send);
    if (state.last) send(state.last.update);
    if (!state.timer && !state.inFlight) void this.tick(learnerId, state);
    return () => {
      state.subscribers.delete(send);
      if (state.subscribers.size > 0) return;
      clearTimeout(state.timer);
      state.timer = undefined;
      state.dropTimer = setTimeout(() => {
        if (state.subscribers.size === 0 && this.learners.get(learnerId) === state) this.learners.delete(learnerId);
      }, this.keepMs);
      state.dropTimer.unref();
    };
  }

  /** One graph now (a read no more often than the interval; concurrent callers share it). */
  async snapshot(learnerId: string): Promise<MeshUpdate> {
    const state = this.stateOf(learnerId);
    const update = await this.read(learnerId, state);
    if (state.subscribers.size === 0 && !state.dropTimer) {
      state.dropTimer = setTimeout(() => {
        if (state.subscribers.size === 0 && this.learners.get(learnerId) === state) this.learners.delete(learnerId);
      }, this.keepMs);
      state.dropTimer.unref();
    }
    return update;
  }

  close(): void {
    this.closed = true;
    for (const s of this.learners.values()) {
      clearTimeout(s.timer);
      clearTimeout(s.dropTimer);
    }
    this.learners.clear();
  }

  private stateOf(learnerId: string): LearnerState {
    let state = this.learners.get(learnerId);
    if (!state) this.learners.set(learnerId, (state = { subscribers: new Set(), history: new Map(), last: undefined, inFlight: undefined, timer: undefined, dropTimer: undefined }));
    clearTimeout(state.dropTimer);
    state.dropTimer = undefined;
    return state;
  }

  private async tick(learnerId: string, state: LearnerState): Promise<void> {
    state.timer = undefined;
    const started = Date.now();
    const update = await this.read(learnerId, state);
    if (this.closed || state.subscribers.size === 0) return;
    for (const send of state.subscribers) send(update);
    state.timer = setTimeout(() => void this.tick(learnerId, state), Math.max(0, this.intervalMs - (Date.now() - started)));
    state.timer.unref();
  }

  private read(learnerId: string, state: LearnerState): Promise<MeshUpdate> {
    if (state.last && Date.now() - state.last.t < this.intervalMs) return Promise.resolve(state.last.update);
    state.inFlight ??= this.compute(learnerId, state)
      .catch((err: unknown): MeshUpdate => ({ error: (err as Error).message }))
      .then((update) => {
        state.last = { t: Date.now(), update };
        state.inFlight = undefined;
        return update;
      });
    return state.inFlight;
  }

  private async compute(learnerId: string, state: LearnerState): Promise<MeshUpdate> {
    const kube = await this.options.kubeFor(learnerId);
    const [podList, serviceList] = await Promise.all([kube.list('v1', 'Pod'), kube.list('v1', 'Service')]);
    const pods = podsFrom(podList.items);
    const services = servicesFrom(serviceList.items);
    const problems: string[] = [];
    const targets = pods.filter(scrapeable);
    if (targets.length > MAX_SCRAPED_PODS) problems.push(`only ${MAX_SCRAPED_PODS} of ${targets.length} proxies are read`);
    const chosen = targets.slice(0, MAX_SCRAPED_PODS);
    const now = Date.now();
    const scraped = new Map<string, Scrape>();
    let next = 0;
    const worker = async () => {
      while (next < chosen.length) {
        const pod = chosen[next++]!;
        const path = `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}:15020/proxy/stats/prometheus`;
        try {
          const answer = await kube.request(path, { headers: { accept: 'text/plain' }, maxBody: MAX_STATS_BYTES });
          if (answer.status === 200) {
            const parsed = parseRequestsTotal(answer.body);
            if (parsed.truncated) problems.push(`${pod.namespace}/${pod.name}: its proxy reports more than ${MAX_SERIES_PER_PROXY} request series; only the first are shown`);
            scraped.set(pod.uid, { t: Date.now(), samples: parsed.samples });
          }
          else problems.push(`${pod.namespace}/${pod.name}: its proxy's stats answered HTTP ${answer.status}`);
        } catch (err) {
          problems.push(`${pod.namespace}/${pod.name}: its proxy's stats could not be read (${(err as Error).message})`);
        }
      }
    };
    await Promise.all(Array.from({ length: SCRAPE_CONCURRENCY }, worker));
    const windows = new Map<string, { base: Scrape; current: Scrape }>();
    for (const uid of [...state.history.keys()]) if (!scraped.has(uid)) state.history.delete(uid);
    for (const [uid, scrape] of scraped) {
      const h = state.history.get(uid) ?? [];
      h.push(scrape);
      // Keep the newest scrape at least a window old as the base, and nothing older.
      while (h.length > 2 && h[1]!.t <= scrape.t - this.windowMs) h.shift();
      state.history.set(uid, h);
      if (h.length >= 2) windows.set(uid, { base: h[0]!, current: scrape });
    }
    this.options.logger?.debug({ learnerId, pods: pods.length, scraped: scraped.size }, 'mesh graph read');
    return { graph: buildGraph({ pods, services, scrapes: windows, problems, now }) };
  }
}
