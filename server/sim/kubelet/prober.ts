/**
 * The kubelet's probers (pkg/probe/{http,tcp,exec,grpc}): one probe of a running container
 * against what its pod actually serves, with the result texts the kubelet puts in its
 * `Unhealthy` Events, and when a probe worker ticks on the cluster's timings.
 */
import type { KubeletTimings } from '../controllers/kit.js';
import { NetworkError } from '../images/types.js';
import type { PodSandbox, ProbeTarget } from './container-manager.js';
import { goDuration } from './stages.js';

type Obj = Record<string, any>;

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

/** How the kubelet names each probe in its messages. */
export const probeKinds: Record<ProbeKind, string> = { startup: 'Startup', readiness: 'Readiness', liveness: 'Liveness' };

/** The shortest probe period, whatever the scale: keeps a zero-delay test cluster from spinning. */
const MIN_PERIOD_MS = 100;

export interface ProbeSchedule {
  firstMs: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
}

/**
 * When a probe worker ticks: first after initialDelaySeconds (scaled by the cluster's
 * probeDelayScale, as before), the first-probe timing and the app's own warm-up, whichever is
 * last; then every periodSeconds, scaled the same way. Timeouts are real time: the behaviours'
 * own delays are.
 */
export function probeSchedule(spec: Obj, timings: KubeletTimings, warmupMs: number): ProbeSchedule {
  const scale = timings.probeDelayScale;
  return {
    firstMs: Math.max(timings.ready, (spec.initialDelaySeconds ?? 0) * 1000 * scale, warmupMs),
    periodMs: Math.max((spec.periodSeconds ?? 10) * 1000 * scale, MIN_PERIOD_MS),
    timeoutMs: (spec.timeoutSeconds ?? 1) * 1000,
    failureThreshold: spec.failureThreshold ?? 3,
    successThreshold: spec.successThreshold ?? 1,
  };
}

export interface ProbeResult {
  ok: boolean;
  /** What the kubelet records after `<Kind> probe failed: ` (or `errored: `). */
  output: string;
  /** The probe could not be run at all (probe.Unknown): the Event says "errored". */
  errored?: boolean;
}

/** A named port resolved against the container's ports, as the kubelet's extractPort does. */
function resolvePort(port: unknown, container: Obj): number | string {
  if (typeof port === 'number') return port;
  const s = String(port ?? '');
  if (/^\d+$/.test(s)) return Number(s);
  const named = (container.ports ?? []).find((p: Obj) => p.name === s);
  return named ? Number(named.containerPort) : `couldn't find port: ${s} in container ${container.name}`;
}

/** One probe of a container whose pod has `sandbox`'s address. */
export async function runProbe(spec: Obj, container: Obj, sandbox: PodSandbox, target: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = (spec.timeoutSeconds ?? 1) * 1000;
  try {
    if (spec.httpGet) return await httpProbe(spec.httpGet, container, sandbox, target, timeoutMs);
    if (spec.tcpSocket) {
      const port = resolvePort(spec.tcpSocket.port, container);
      if (typeof port === 'string') return { ok: false, errored: true, output: port };
      const host = spec.tcpSocket.host || sandbox.podIP;
      if (host !== sandbox.podIP) return unsupportedHost('tcpSocket', host);
      return target.accepts(port) ? { ok: true, output: '' } : { ok: false, output: `dial tcp ${host}:${port}: connect: connection refused` };
    }
    if (spec.exec) {
      const argv: string[] = (spec.exec.command ?? []).map(String);
      const r = await target.exec(argv, timeoutMs);
      if (r.timedOut) return { ok: false, output: `command ${JSON.stringify(argv.join(' '))} timed out` };
      return r.exitCode === 0 ? { ok: true, output: r.output } : { ok: false, output: r.output };
    }
    if (spec.grpc) {
      const addr = `${sandbox.podIP}:${spec.grpc.port}`;
      if (!target.accepts(Number(spec.grpc.port))) return { ok: false, output: `timeout: failed to connect service ${JSON.stringify(addr)} within ${goDuration(timeoutMs)}: context deadline exceeded` };
      // No simulated image serves gRPC (grpc.health.v1 included): an HTTP/1 server closes the connection.
      return { ok: false, output: 'error: health rpc probe failed: rpc error: code = Unavailable desc = connection closed before server preface received' };
    }
    return { ok: false, errored: true, output: 'missing probe handler for the container' };
  } catch (e) {
    return { ok: false, errored: true, output: e instanceof Error ? e.message : String(e) };
  }
}

function unsupportedHost(kind: string, host: string): ProbeResult {
  return { ok: false, errored: true, output: `${kind}.host ${host} (not the pod's IP) is not supported by the embedded cluster` };
}

async function httpProbe(get: Obj, container: Obj, sandbox: PodSandbox, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const port = resolvePort(get.port, container);
  if (typeof port === 'string') return { ok: false, errored: true, output: port };
  const host: string = get.host || sandbox.podIP;
  if (host !== sandbox.podIP) return unsupportedHost('httpGet', host);
  const scheme = String(get.scheme ?? 'HTTP').toLowerCase();
  const path: string = get.path ?? '';
  const url = `${scheme}://${host}:${port}${path && !path.startsWith('/') ? '/' : ''}${path}`;
  const headers: Record<string, string> = { host: `${host}:${port}`, 'user-agent': 'kube-probe/1.32', accept: '*/*', connection: 'close' };
  for (const h of get.httpHeaders ?? []) headers[String(h.name).toLowerCase()] = String(h.value);
  const req = { method: 'GET', path: path ? (path.startsWith('/') ? path : `/${path}`) : '/', headers, body: Buffer.alloc(0) };
  try {
    const res = await target.http(port, req, timeoutMs);
    // 2xx and 3xx pass, as the kubelet's http prober decides.
    if (res.status >= 200 && res.status < 400) return { ok: true, output: res.body.subarray(0, 10 * 1024).toString() };
    return { ok: false, output: `HTTP probe failed with statuscode: ${res.status}` };
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
    switch (e.code) {
      case 'ECONNREFUSED':
        return { ok: false, output: `Get ${JSON.stringify(url)}: dial tcp ${host}:${port}: connect: connection refused` };
      case 'ETIMEDOUT':
        return { ok: false, output: `Get ${JSON.stringify(url)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)` };
      default:
        return { ok: false, output: `Get ${JSON.stringify(url)}: EOF` };
    }
  }
}
