/**
 * How istioctl reaches a proxy's Envoy admin (pkg/kube/client.go EnvoyDoWithPort): a
 * port-forward to the pod's 15000 through the API server (the admin listens on loopback only),
 * one HTTP request over it, and the errors worded as istioctl words them.
 */
import WebSocket from 'ws';
import { ApiStatusError, type KubeClient } from './kube.js';

/** A failure on the way to Envoy: `message` is what istioctl wraps; `logs` are the lines it logged before. */
export class EnvoyDoError extends Error {
  constructor(
    message: string,
    readonly logs: string[] = [],
  ) {
    super(message);
  }
}

const timestamp = () => new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** Status code and body of `GET http://localhost:<port>/<path>` inside the pod. */
export async function envoyDo(client: KubeClient, namespace: string, pod: string, method: string, path: string, port = 15000): Promise<string> {
  const formatError = (m: string) => `failure running port forward process: ${m}`;
  // buildK8sPortForwarder: the pod must exist and run before the forward starts.
  let obj: { status?: { phase?: string } } | undefined;
  try {
    obj = (await client.get({ group: '', version: 'v1', plural: 'pods', namespaced: true }, pod, namespace)) as typeof obj;
  } catch (e) {
    const msg = e instanceof ApiStatusError ? e.message : (e as Error).message;
    throw new EnvoyDoError(formatError(formatError(`building port forwarded: failed retrieving: ${msg} in the "${namespace}" namespace`)));
  }
  if (!obj) throw new EnvoyDoError(formatError(formatError(`building port forwarded: failed retrieving: pods "${pod}" not found in the "${namespace}" namespace`)));
  const phase = obj.status?.phase ?? '';
  if (phase !== 'Running') throw new EnvoyDoError(formatError(formatError(`building port forwarded: pod is not running. Status=${phase}`)));
  // The local end of the forward: an ephemeral port, as the kernel would pick it.
  const localPort = 32768 + Math.floor(Math.random() * 28000);
  const url = `http://localhost:${localPort}/${path}`;
  const { status, body, forwardError } = await forward(client, namespace, pod, port, method, path, localPort);
  if (forwardError !== undefined) {
    const logs = [`${timestamp()}\terror\tklog\tan error occurred forwarding ${localPort} -> ${port}: ${forwardError}`, `${timestamp()}\terror\tport forward failed: lost connection to pod`];
    throw new EnvoyDoError(formatError(`${method[0]}${method.slice(1).toLowerCase()} "${url}": EOF`), logs);
  }
  if (status !== 200) throw new EnvoyDoError(`unexpected status code: ${status}`);
  return body;
}

interface Forwarded {
  status: number;
  body: string;
  /** The kubelet's text on the error channel, when the port could not be reached. */
  forwardError?: string;
}

/** One request over a v4.channel.k8s.io port-forward: channel 0 carries the bytes, channel 1 errors. */
async function forward(client: KubeClient, namespace: string, pod: string, port: number, method: string, path: string, localPort: number): Promise<Forwarded> {
  const opts = await client.connectionOptions();
  const base = new URL(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/portforward?ports=${port}`, client.server);
  base.protocol = base.protocol === 'http:' ? 'ws:' : 'wss:';
  const ws = new WebSocket(base, ['v4.channel.k8s.io'], {
    headers: opts.headers as Record<string, string>,
    ca: opts.ca,
    cert: opts.cert,
    key: opts.key,
    rejectUnauthorized: opts.rejectUnauthorized,
    ...(opts.servername ? ({ servername: opts.servername } as object) : {}),
    ...(opts.agent instanceof Object ? { agent: opts.agent } : {}),
  });
  const data: Buffer[] = [];
  const errors: Buffer[] = [];
  const seen = [false, false];
  return new Promise<Forwarded>((resolve, reject) => {
    const timer = setTimeout(() => ws.terminate(), 60_000);
    ws.on('open', () => {
      const head = `${method} /${path} HTTP/1.1\r\nHost: localhost:${localPort}\r\nUser-Agent: Go-http-client/1.1\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n`;
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(head)]));
    });
    ws.on('message', (raw: WebSocket.RawData) => {
      const buf = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
      if (buf.length === 0) return;
      const ch = buf[0]!;
      if (ch > 1) return;
      let payload = buf.subarray(1);
      // Each channel's first message is the port number (2 bytes).
      if (!seen[ch]) {
        seen[ch] = true;
        payload = payload.subarray(2);
      }
      (ch === 0 ? data : errors).push(payload);
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => {
        let message = text.trim();
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {
          // not a Status
        }
        reject(new EnvoyDoError(`failure running port forward process: port forward: error upgrading connection: ${message}`));
      });
    });
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(new EnvoyDoError(`failure running port forward process: ${e.message}`));
    });
    ws.on('close', () => {
      clearTimeout(timer);
      const err = Buffer.concat(errors).toString('utf8');
      const raw = Buffer.concat(data);
      const parsed = parseResponse(raw);
      if (!parsed) return resolve({ status: 0, body: '', forwardError: err || 'lost connection to pod' });
      resolve(parsed);
    });
  });
}

/** An HTTP/1.1 response read to the end of the connection; null when it was cut short. */
function parseResponse(raw: Buffer): Forwarded | null {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) return null;
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  let body = raw.subarray(end + 4);
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    const out: Buffer[] = [];
    let rest = body;
    for (;;) {
      const nl = rest.indexOf('\r\n');
      if (nl < 0) return null;
      const size = parseInt(rest.subarray(0, nl).toString('latin1'), 16);
      if (Number.isNaN(size)) return null;
      if (size === 0) break;
      out.push(rest.subarray(nl + 2, nl + 2 + size));
      rest = rest.subarray(nl + 2 + size + 2);
    }
    body = Buffer.concat(out);
  } else if (headers.has('content-length')) {
    const n = Number(headers.get('content-length'));
    if (body.length < n) return null;
    body = body.subarray(0, n);
  }
  return { status: Number(m[1]), body: body.toString('utf8') };
}
