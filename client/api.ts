/**
 * The server's HTTP API, typed. Same origin; the session cookie set by the token exchange
 * authenticates every call. Paths are relative to the page so the playground also works
 * behind a reverse proxy under a sub-path.
 */
export interface ServerInfo {
  backend: { name: string; description: string; learnerNamespaces?: boolean };
  kubectl: { found: boolean; version?: string; installHint?: string };
  version: string;
}

/** GET api/cluster: the learner's cluster while it is being prepared (a kind cluster takes minutes). */
export interface ClusterStatus {
  state: 'ready' | 'preparing' | 'failed' | 'not-started';
  percent?: number;
  stage?: string;
  message?: string;
}

export interface TrackSummary {
  id: string;
  title: string;
  summary: string;
  backends: string[];
  supported: boolean;
  steps: { id: string; title: string }[];
  /** Steps this learner has marked done (sent by the server with the list). */
  doneCount?: number;
}

export interface LessonProblem {
  file: string;
  line: number;
  message: string;
}

export interface TrackList {
  tracks: TrackSummary[];
  problems: LessonProblem[];
}

export interface Step {
  id: string;
  title: string;
  /** Sanitized by the server. */
  html: string;
  /** Rendered, sanitized HTML (older servers sent markdown text). */
  hints: string[];
  solution: string[];
  /** The step's automatic checks (evaluated live by the server); absent or empty: none. */
  checks?: { title: string }[];
  /** Live pictures of the learner's mesh shown beside the step (front-matter `picture`). */
  pictures?: ('mesh' | 'split')[];
  /** The step changes the whole cluster (download, install): done by the instructor when learners share one. */
  clusterWide?: boolean;
  /** Ids of the earlier steps whose solutions build the state this step starts from. */
  setup?: string[];
}

// The wire shapes of check verdicts are the server's own types (type-only: nothing is bundled).
import type { StepCheckState } from '../server/checks/engine.js';
export type { CheckResult } from '../server/checks/evaluate.js';
export type { StepCheckState };
import type { ResetStatus } from '../server/steps/reset.js';
import type { InstructorReset } from '../server/workshops/service.js';
export type { InstructorReset, ResetStatus };

export interface Track {
  id: string;
  title: string;
  summary: string;
  steps: Step[];
}

export interface Progress {
  trackId: string;
  currentStep: string | null;
  done: string[];
}

export type ProgressUpdate = { currentStep?: string; done?: { stepId: string; done: boolean } };

/** The session cookie is missing or stale: only the URL printed by the server fixes it. */
export class UnauthorizedError extends Error {
  constructor() {
    super('not authorized: open the URL printed by the server');
    this.name = 'UnauthorizedError';
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      credentials: 'same-origin',
      ...init,
      headers: { Accept: 'application/json', ...(init.body ? { 'Content-Type': 'application/json' } : {}) },
    });
  } catch {
    throw new ApiError(0, 'The playground server cannot be reached. Is it still running?');
  }
  if (response.status === 401) throw new UnauthorizedError();
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as { error?: unknown; message?: unknown };
      const detail = body.message ?? body.error;
      if (typeof detail === 'string') message = detail;
    } catch {
      // Not JSON: keep the status line.
    }
    throw new ApiError(response.status, message);
  }
  return (await response.json()) as T;
}

const enc = encodeURIComponent;

export const api = {
  info: () => request<ServerInfo>('api/info'),
  cluster: () => request<ClusterStatus>('api/cluster'),
  tracks: () => request<TrackList>('api/tracks'),
  track: (trackId: string) => request<Track>(`api/tracks/${enc(trackId)}`),
  progress: (trackId: string) => request<Progress>(`api/progress/${enc(trackId)}`),
  // keepalive: a learner who moves on and at once reloads or closes the tab keeps their place
  // (the page's unload would otherwise cancel the save in flight).
  updateProgress: (trackId: string, update: ProgressUpdate) =>
    request<Progress>(`api/progress/${enc(trackId)}`, { method: 'PUT', body: JSON.stringify(update), keepalive: true }),
  /** Tells a workshop's instructor a hint was opened (a no-op outside workshops). */
  hintOpened: (trackId: string, stepId: string) =>
    fetch('api/workshop/hint', { method: 'POST', credentials: 'same-origin', keepalive: true, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ trackId, stepId }) }).catch(() => undefined),
  resetStep: (trackId: string, stepId: string) => request<ResetStatus>(`api/steps/${enc(trackId)}/${enc(stepId)}/reset`, { method: 'POST' }),
  runChecks: (trackId: string, stepId: string) =>
    request<StepCheckState>(`api/checks/${enc(trackId)}/${enc(stepId)}/run`, { method: 'POST' }),
};

/** Server-sent events (`reset`) with the progress of the learner's step reset. */
export const resetEventsUrl = 'api/steps/reset/events';

/** Server-sent events (`checks`) with the step's live verdicts. */
export const checkEventsUrl = (trackId: string, stepId: string) => `api/checks/${enc(trackId)}/${enc(stepId)}/events`;
