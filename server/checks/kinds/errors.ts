import { ClusterUnreachableError } from './types.js';

/** The HTTP status an API call failed with, or undefined when the cluster did not answer at all. */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown; statusCode?: unknown })?.code ?? (err as { statusCode?: unknown })?.statusCode;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

/** Re-throws "no answer" as ClusterUnreachableError; returns the status otherwise. */
export function classify(err: unknown): number {
  const status = apiStatus(err);
  if (status === undefined) throw new ClusterUnreachableError(`the cluster did not answer: ${(err as Error)?.message ?? String(err)}`);
  return status;
}

export function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown })?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      return body.slice(0, 200);
    }
  }
  return (err as Error)?.message ?? String(err);
}
