/**
 * The instructor API, typed (the dashboard's wire shape is the server's own type).
 * Writes are JSON: the server refuses anything else (see server/workshops/http.ts).
 */
import type { Dashboard } from '../../server/workshops/dashboard.js';
export type { Dashboard, DashboardLearner, CellState } from '../../server/workshops/dashboard.js';
import type { ResetStatus } from '../../server/steps/reset.js';
export type { ResetStatus };

export interface WorkshopSummary {
  id: string;
  title: string;
  tracks: string[];
  capacity: number;
  status: 'open' | 'closed' | 'expired';
  createdAt: string;
  expiresAt: string;
  joinPath: string;
  members?: number;
}

export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, {
    credentials: 'same-origin',
    ...init,
    headers: { Accept: 'application/json', ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
  });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as { error?: string };
      if (body.error) message = body.error;
    } catch {
      // keep the status line
    }
    throw new AdminApiError(response.status, message);
  }
  return response.status === 204 ? (undefined as T) : ((await response.json()) as T);
}

const enc = encodeURIComponent;
const post = <T>(path: string, body: unknown = {}) => request<T>(path, { method: 'POST', body: JSON.stringify(body) });

export const adminApi = {
  tracks: () => request<{ tracks: { id: string; title: string }[] }>('api/admin/tracks'),
  workshops: () => request<{ workshops: WorkshopSummary[] }>('api/admin/workshops'),
  create: (input: { title: string; tracks: string[]; capacity: number; expiresInMinutes: number }) => post<WorkshopSummary>('api/admin/workshops', input),
  close: (id: string) => post<WorkshopSummary>(`api/admin/workshops/${enc(id)}/close`),
  remove: (id: string) => request<void>(`api/admin/workshops/${enc(id)}`, { method: 'DELETE', body: '{}' }),
  dashboard: (id: string) => request<Dashboard>(`api/admin/workshops/${enc(id)}/dashboard`),
  broadcast: (id: string, message: string) => post<{ id: string }>(`api/admin/workshops/${enc(id)}/broadcast`, { message }),
  resetStep: (id: string, learnerId: string, trackId: string, stepId: string) =>
    post<ResetStatus>(`api/admin/workshops/${enc(id)}/learners/${enc(learnerId)}/reset-step`, { trackId, stepId }),
  resetCluster: (id: string, learnerId: string) => post<{ ok: true }>(`api/admin/workshops/${enc(id)}/learners/${enc(learnerId)}/reset-cluster`),
};

/** Server-sent events (`reset`): the learner's step reset as it runs. */
export const resetEventsUrl = (id: string, learnerId: string) => `api/admin/workshops/${enc(id)}/learners/${enc(learnerId)}/reset-step/events`;
export const dashboardEventsUrl = (id: string) => `api/admin/workshops/${enc(id)}/events`;
export const exportUrl = (id: string, kind: 'csv' | 'xml') => `api/admin/workshops/${enc(id)}/results.${kind}`;
export const watchUrl = (workshopId: string, learnerId: string) => {
  const url = new URL(`ws/watch?workshop=${enc(workshopId)}&learner=${enc(learnerId)}`, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
};
