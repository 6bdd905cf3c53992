/**
 * Unit tests for the streaming subresources' parsing, wording and SPDY framing. The end-to-end
 * behaviour with the real kubectl is in test/integration/sim-streams.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { exitStatus, parseAttachQuery, parseExecQuery } from '../../server/sim/apiserver/streams/exec.js';
import { startFailureStatus } from '../../server/sim/apiserver/streams/exec-session.js';
import { negotiate } from '../../server/sim/apiserver/streams/upgrade.js';
import { resolveContainer } from '../../server/sim/apiserver/streams/containers.js';
import { formatLogTimestamp, parsePodLogOptions } from '../../server/sim/apiserver/streams/logs.js';
import { portForwardErrorText } from '../../server/sim/apiserver/streams/portforward.js';
import { SpdySession, type SpdyStream } from '../../server/sim/apiserver/streams/spdy.js';
import { ApiError } from '../../server/sim/errors.js';
import { duplexPair } from '../../server/sim/apiserver/streams/duplex-pair.js';
import type { KubeObject } from '../../server/sim/types.js';

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('exec query', () => {
  it('reads repeated command parameters and kube-style booleans', () => {
    const p = parseExecQuery('/api/v1/namespaces/d/pods/p/exec?command=sh&command=-c&command=echo%20hi&container=app&stdin=true&stdout=1&stderr=true');
    expect(p).toEqual({ stdin: true, stdout: true, stderr: true, tty: false, command: ['sh', '-c', 'echo hi'], container: 'app' });
    const off = parseExecQuery('/x?command=ls&stdout=false&stderr=0&stdin=F');
    expect([off.stdin, off.stdout, off.stderr]).toEqual([false, false, false]);
  });

  it('drops stderr with a TTY, as the kubelet does', () => {
    expect(parseExecQuery('/x?command=sh&stdin=true&stdout=true&stderr=true&tty=true')).toMatchObject({ tty: true, stderr: false, stdout: true });
  });

  it('refuses an exec without a command; attach needs none', () => {
    const err = apiError(() => parseExecQuery('/x?stdout=true'));
    expect(err.code).toBe(400);
    expect(err.message).toBe('you must specify at least one command for the container');
    expect(parseAttachQuery('/x?stdout=true&container=c')).toMatchObject({ command: [], container: 'c' });
  });

  it('reports the exit code in the Status shape kubectl turns into its own exit code', () => {
    expect(exitStatus(0, ['true'])).toEqual({ metadata: {}, status: 'Success' });
    expect(exitStatus(3, ['sh', '-c', 'exit 3'])).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });
});

describe('commands that cannot start', () => {
  it("passes the workload runtime's finished Status through untouched", () => {
    const runtimeError = Object.assign(new Error('Internal error occurred: error executing command in container: failed to exec in container: ...'), {
      reason: 'InternalError',
      code: 500,
    });
    expect(startFailureStatus(runtimeError)).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'Internal error occurred: error executing command in container: failed to exec in container: ...',
      reason: 'InternalError',
      code: 500,
    });
  });

  it('wraps any other error as the kubelet does', () => {
    expect(startFailureStatus(new Error('boom'))).toMatchObject({
      status: 'Failure',
      reason: 'InternalError',
      code: 500,
      message: 'Internal error occurred: error executing command in container: boom',
    });
  });
});

describe('subprotocol negotiation', () => {
  it("takes the client's first supported choice", () => {
    expect(negotiate(['v5.channel.k8s.io', 'v4.channel.k8s.io'], ['v4.channel.k8s.io', 'v5.channel.k8s.io'])).toBe('v5.channel.k8s.io');
    expect(negotiate(['channel.k8s.io', 'v4.channel.k8s.io'], ['v5.channel.k8s.io', 'v4.channel.k8s.io'])).toBe('v4.channel.k8s.io');
  });

  it('refuses with the wsstream wording', () => {
    const err = negotiate(['base64.channel.k8s.io'], ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe(
      'requested protocol(s) are not supported: [base64.channel.k8s.io]; supports [v5.channel.k8s.io v4.channel.k8s.io]',
    );
  });
});

describe('container resolution', () => {
  const pod = (containers: string[], init: string[] = []): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'reviews-v1' },
    spec: { containers: containers.map((name) => ({ name })), initContainers: init.map((name) => ({ name })) },
  });

  it('defaults to the only container', () => {
    expect(resolveContainer(pod(['reviews']), '')).toBe('reviews');
    expect(resolveContainer(pod(['reviews', 'istio-proxy']), 'istio-proxy')).toBe('istio-proxy');
  });

  it('asks for a name in multi-container pods, listing init containers first', () => {
    const err = apiError(() => resolveContainer(pod(['reviews', 'istio-proxy'], ['istio-init']), undefined));
    expect(err.code).toBe(400);
    expect(err.message).toBe('a container name must be specified for pod reviews-v1, choose one of: [istio-init reviews istio-proxy]');
  });

  it('rejects an unknown container', () => {
    expect(apiError(() => resolveContainer(pod(['reviews']), 'nope')).message).toBe('container nope is not valid for pod reviews-v1');
  });
});

describe('pod log options', () => {
  it('parses every option', () => {
    const o = parsePodLogOptions('/log?container=c&follow=true&previous=true&timestamps=true&tailLines=10&limitBytes=500&sinceSeconds=60', 'p');
    expect(o).toEqual({ container: 'c', follow: true, previous: true, timestamps: true, tailLines: 10, limitBytes: 500, sinceSeconds: 60, sinceTime: undefined });
    expect(parsePodLogOptions('/log?sinceTime=2026-11-26T10:00:00Z', 'p').sinceTime?.toISOString()).toBe('2026-11-26T10:00:00.000Z');
  });

  it('rejects invalid values with 422 and the validation wording', () => {
    const err = apiError(() => parsePodLogOptions('/log?tailLines=-1&limitBytes=0&sinceSeconds=0', 'p'));
    expect(err.code).toBe(422);
    expect(err.message).toBe(
      'PodLogOptions "p" is invalid: [tailLines: Invalid value: -1: must be greater than or equal to 0, limitBytes: Invalid value: 0: must be greater than 0, sinceSeconds: Invalid value: 0: must be greater than 0]',
    );
  });

  it('rejects unparsable values with 400', () => {
    expect(apiError(() => parsePodLogOptions('/log?limitBytes=1k', 'p')).message).toBe('strconv.ParseInt: parsing "1k": invalid syntax');
    const t = apiError(() => parsePodLogOptions('/log?sinceTime=yesterday', 'p'));
    expect(t.code).toBe(400);
    expect(t.message).toContain('parsing time "yesterday"');
  });

  it('formats timestamps with nine fraction digits like the kubelet', () => {
    expect(formatLogTimestamp(new Date('2026-11-26T10:00:00.5Z'))).toBe('2026-11-26T10:00:00.500000000Z');
  });
});

describe('port-forward error text', () => {
  const identity = { sandboxId: 'a'.repeat(64), netnsPath: '/var/run/netns/cni-1' };
  it('reads like containerd for a refused port', () => {
    expect(portForwardErrorText(9080, Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), identity)).toBe(
      `error forwarding port 9080 to pod ${'a'.repeat(64)}, uid : failed to execute portforward in network namespace "/var/run/netns/cni-1": ` +
        `failed to connect to localhost:9080 inside namespace "${'a'.repeat(64)}", IPv4: dial tcp4 127.0.0.1:9080: connect: connection refused IPv6 dial tcp6 [::1]:9080: connect: connection refused `,
    );
  });
  it('keeps any other reason', () => {
    expect(portForwardErrorText(80, new Error('read: connection reset by peer'), identity)).toMatch(/network namespace "\/var\/run\/netns\/cni-1": read: connection reset by peer$/);
  });
});

// ---------------------------------------------------------------------------------------------
// SPDY framing, driven by a hand-rolled client that frames bytes the way spdystream does.

const require = createRequire(import.meta.url);
const DICT = (require('spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js') as Record<string, Buffer>)[3]!;

function pipePair(): [Duplex, Duplex] {
  let a!: Duplex;
  let b!: Duplex;
  const mk = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        other().push(chunk);
        cb();
      },
      final(cb) {
        other().push(null);
        cb();
      },
    });
  a = mk(() => b);
  b = mk(() => a);
  return [a, b];
}

class TestClient {
  private readonly deflate = zlib.createDeflate({ dictionary: DICT });
  private readonly inflate = zlib.createInflate({ dictionary: DICT });
  private buffered = Buffer.alloc(0);
  readonly frames: Array<{ control: boolean; type: number; flags: number; body: Buffer }> = [];

  constructor(readonly wire: Duplex) {
    wire.on('data', (c: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, c]);
      while (this.buffered.length >= 8) {
        const len = this.buffered.readUInt32BE(4) & 0xffffff;
        if (this.buffered.length < 8 + len) break;
        const f = this.buffered.subarray(0, 8 + len);
        this.buffered = this.buffered.subarray(8 + len);
        const control = (f[0]! & 0x80) !== 0;
        this.frames.push({ control, type: control ? f.readUInt16BE(2) : f.readUInt32BE(0), flags: f[4]!, body: f.subarray(8) });
      }
    });
  }

  private z(stream: zlib.Deflate | zlib.Inflate, input: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      const out: Buffer[] = [];
      const on = (c: Buffer) => out.push(c);
      stream.on('data', on);
      stream.write(input);
      stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        stream.off('data', on);
        resolve(Buffer.concat(out));
      });
    });
  }

  async synStream(id: number, headers: Record<string, string>, flags = 0): Promise<void> {
    const parts: Buffer[] = [u32(Object.keys(headers).length)];
    for (const [k, v] of Object.entries(headers)) parts.push(u32(k.length), Buffer.from(k), u32(v.length), Buffer.from(v));
    const block = await this.z(this.deflate, Buffer.concat(parts));
    this.control(1, flags, Buffer.concat([u32(id), u32(0), Buffer.from([0, 0]), block]));
  }

  control(type: number, flags: number, body: Buffer, version = 3): void {
    const head = Buffer.alloc(8);
    head.writeUInt16BE(0x8000 | version, 0);
    head.writeUInt16BE(type, 2);
    head.writeUInt32BE((flags << 24) | body.length, 4);
    this.wire.write(Buffer.concat([head, body]));
  }

  data(id: number, payload: Buffer, fin = false): void {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(id, 0);
    head.writeUInt32BE(((fin ? 1 : 0) << 24) | payload.length, 4);
    this.wire.write(Buffer.concat([head, payload]));
  }

  async replyHeaderCount(body: Buffer): Promise<number> {
    return (await this.z(this.inflate, body.subarray(4))).readUInt32BE(0);
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('timed out');
}

describe('SPDY/3 session', () => {
  it('accepts a stream with its headers, replies, and carries data both ways with FIN', async () => {
    const [serverSide, clientSide] = pipePair();
    const session = new SpdySession(serverSide);
    const client = new TestClient(clientSide);
    const streams: SpdyStream[] = [];
    session.on('stream', (s) => {
      streams.push(s);
      s.accept();
    });
    await client.synStream(1, { streamtype: 'data', port: '80', requestid: '0' });
    await until(() => streams.length === 1);
    expect(streams[0]!.headers).toEqual({ streamtype: 'data', port: '80', requestid: '0' });
    await until(() => client.frames.length === 1);
    expect(client.frames[0]).toMatchObject({ control: true, type: 2 });
    expect(await client.replyHeaderCount(client.frames[0]!.body)).toBe(0);

    let received = '';
    streams[0]!.on('data', (c: Buffer) => (received += c.toString()));
    const ended = new Promise((r) => streams[0]!.once('end', r));
    client.data(1, Buffer.from('ping'), true);
    await ended;
    expect(received).toBe('ping');

    streams[0]!.end('pong');
    await until(() => client.frames.some((f) => !f.control && (f.flags & 1) === 1));
    const dataFrames = client.frames.filter((f) => !f.control);
    expect(Buffer.concat(dataFrames.map((f) => f.body)).toString()).toBe('pong');
    expect(dataFrames.every((f) => f.type === 1)).toBe(true);
  });

  it('echoes pings', async () => {
    const [serverSide, clientSide] = pipePair();
    new SpdySession(serverSide);
    const client = new TestClient(clientSide);
    client.control(6, 0, u32(7));
    await until(() => client.frames.length === 1);
    expect(client.frames[0]).toMatchObject({ control: true, type: 6 });
    expect(client.frames[0]!.body.readUInt32BE(0)).toBe(7);
  });

  it('answers garbage with GOAWAY(PROTOCOL_ERROR) and closes, without throwing', async () => {
    const [serverSide, clientSide] = pipePair();
    const session = new SpdySession(serverSide);
    const client = new TestClient(clientSide);
    const closed = new Promise<void>((r) => session.once('close', () => r()));
    // A SYN_STREAM whose header block is not zlib data at all.
    client.control(1, 0, Buffer.concat([u32(1), u32(0), Buffer.from([0, 0]), Buffer.from('not zlib at all')]));
    await closed;
    const goaway = client.frames.find((f) => f.control && f.type === 7);
    expect(goaway?.body.readUInt32BE(4)).toBe(1);
  });

  it('refuses a header block that inflates to megabytes', async () => {
    const [serverSide, clientSide] = pipePair();
    const session = new SpdySession(serverSide);
    const client = new TestClient(clientSide);
    const closed = new Promise<void>((r) => session.once('close', () => r()));
    const value = 'x'.repeat(4 * 1024 * 1024);
    await client.synStream(1, { streamtype: 'data', port: '80', requestid: value });
    await closed;
    expect(client.frames.find((f) => f.control && f.type === 7)?.body.readUInt32BE(4)).toBe(1);
  });

  it('refuses another SPDY version', async () => {
    const [serverSide, clientSide] = pipePair();
    const session = new SpdySession(serverSide);
    const client = new TestClient(clientSide);
    const closed = new Promise<void>((r) => session.once('close', () => r()));
    client.control(6, 0, u32(1), 2);
    await closed;
    expect(client.frames.find((f) => f.control && f.type === 7)).toBeDefined();
  });

  it('resets data for streams it does not know', async () => {
    const [serverSide, clientSide] = pipePair();
    new SpdySession(serverSide);
    const client = new TestClient(clientSide);
    client.data(9, Buffer.from('x'));
    await until(() => client.frames.length === 1);
    expect(client.frames[0]).toMatchObject({ control: true, type: 3 });
    expect(client.frames[0]!.body.readUInt32BE(0)).toBe(9);
    expect(client.frames[0]!.body.readUInt32BE(4)).toBe(2);
  });
});

describe('duplexPair', () => {
  it('carries bytes both ways and half-closes like TCP', async () => {
    const [a, b] = duplexPair();
    let atB = '';
    b.on('data', (c: Buffer) => (atB += c));
    const bEnded = new Promise((r) => b.once('end', r));
    a.end('request');
    await bEnded;
    expect(atB).toBe('request');
    // b may still answer after a's FIN.
    let atA = '';
    a.on('data', (c: Buffer) => (atA += c));
    const aEnded = new Promise((r) => a.once('end', r));
    b.end('response');
    await aEnded;
    expect(atA).toBe('response');
  });

  it('holds writes back while the reader is paused, then delivers everything', async () => {
    const [a, b] = duplexPair();
    const chunk = Buffer.alloc(64 * 1024, 1);
    let accepted = 0;
    for (let i = 0; i < 8; i++) if (a.write(chunk)) accepted++;
    expect(accepted).toBeLessThan(8);
    let got = 0;
    b.on('data', (c: Buffer) => (got += c.length));
    a.end();
    await new Promise((r) => b.once('end', r));
    expect(got).toBe(8 * 64 * 1024);
  });

  it('destroying one end closes the other', async () => {
    const [a, b] = duplexPair();
    const closed = new Promise((r) => b.once('close', r));
    a.destroy();
    await closed;
    expect(b.destroyed).toBe(true);
  });
});
