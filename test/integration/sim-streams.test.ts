/**
 * The streaming pod subresources end to end: the real kubectl 1.32 (and @kubernetes/client-node)
 * against the embedded cluster's API server, with exec/attach/portforward/log mounted by
 * mountPodStreams. What runs "in the container" is a per-test fake runtime, so each test
 * controls exactly what the command does and can see what the protocol delivered to it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import * as pty from 'node-pty';
import { Exec, KubeConfig, PortForward, type V1Status } from '@kubernetes/client-node';
import { PassThrough, Writable } from 'node:stream';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { ExecStartError, type ExecIO, type ExecParams, type TerminalSize } from '../../server/sim/apiserver/streams/exec.js';
import { mountPodStreams } from '../../server/sim/apiserver/streams/mount.js';
import { duplexPair } from '../../server/sim/apiserver/streams/duplex-pair.js';
import { logErrors, type LogEntry, type LogSource } from '../../server/sim/apiserver/streams/logs.js';
import { runInContainer } from '../../server/sim/images/index.js';
import { MemoryNetwork } from '../../server/sim/images/testing/memory-network.js';

interface ProtocolHarness {
  kubeconfig: string;
  onExec: (io: ExecIO, params: ExecParams) => Promise<number>;
  lastExec?: ExecParams;
  onConnect: (port: number) => Promise<Duplex>;
  logSource: (container: string) => LogSource;
  close(): Promise<void>;
}

const podsManifest = (names: Array<[string, string[]]>) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: names.map(([name, containers]) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      // Scheduled by hand: these tests need no scheduler or kubelet, only the pod objects.
      spec: { nodeName: 'worker-1', containers: containers.map((c) => ({ name: c, image: 'busybox', ports: [{ containerPort: 80, name: 'http' }] })) },
    })),
  });

async function startProtocolHarness(): Promise<ProtocolHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-streams-'));
  const cluster = await EmbeddedCluster.start();
  const harness: ProtocolHarness = {
    kubeconfig: join(dir, 'kubeconfig'),
    onExec: async () => 0,
    onConnect: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    logSource: () => fakeLog([]),
    close: async () => {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.writeKubeconfig(harness.kubeconfig);
  mountPodStreams(cluster.apiserver, cluster.rest, {
    exec: (_pod, _container, io, params) => {
      harness.lastExec = params;
      return harness.onExec(io, params);
    },
    connect: (_pod, port) => harness.onConnect(port),
    logs: (_pod, container) => harness.logSource(container),
  });
  const env = { ...process.env, KUBECONFIG: harness.kubeconfig };
  const run = (args: string[], input?: string) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn('/usr/bin/kubectl', args, { env });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kubectl ${args.join(' ')}: ${err}`))));
      // A child that exits without reading stdin makes this write fail (EPIPE): its exit code says what happened.
      child.stdin.on('error', () => {});
      child.stdin.end(input ?? '');
    });
  // Validation needs the OpenAPI documents, not what these tests are about.
  await run(['create', '--validate=false', '-f', '-'], podsManifest([['web', ['web']], ['two', ['main', 'sidecar']]]));
  await run(['run', 'pending', '--image=busybox', '--restart=Never']);
  for (const name of ['web', 'two']) {
    await run(['patch', 'pod', name, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running","podIP":"10.244.1.5"}}']);
  }
  return harness;
}
// ---------------------------------------------------------------------------------------------

let harness: ProtocolHarness;

beforeAll(async () => {
  harness = await startProtocolHarness();
});
afterAll(async () => {
  await harness?.close();
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/kubectl', args, {
      env: { ...process.env, KUBECONFIG: harness.kubeconfig, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A child that exits without reading stdin makes this write fail (EPIPE): its exit code says what happened.
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

describe('kubectl exec over v5.channel.k8s.io', () => {
  it('prints the command output and exits 0', async () => {
    harness.onExec = async (io, params) => {
      io.stdout.write(`${params.command.slice(1).join(' ')}\n`);
      return 0;
    };
    const r = await kubectl(['exec', 'web', '--', 'echo', 'hi']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hi\n');
    expect(r.code).toBe(0);
    expect(harness.lastExec?.command).toEqual(['echo', 'hi']);
    expect(harness.lastExec?.container).toBe('web');
  });

  it("propagates the command's exit code and separates stderr", async () => {
    harness.onExec = async (io) => {
      io.stdout.write('out\n');
      io.stderr.write('oops\n');
      return 3;
    };
    const r = await kubectl(['exec', 'web', '--', 'sh', '-c', 'exit 3']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('oops\ncommand terminated with exit code 3\n');
    expect(r.code).toBe(3);
  });

  it('streams stdin to the command until the client closes it (-i)', async () => {
    harness.onExec = async (io) => {
      const text = await readAll(io.stdin!);
      io.stdout.write(text.toUpperCase());
      return 0;
    };
    const r = await kubectl(['exec', '-i', 'web', '--', 'cat'], { input: 'data\nmore data\n' });
    expect(r.stdout).toBe('DATA\nMORE DATA\n');
    expect(r.code).toBe(0);
    expect(harness.lastExec?.stdin).toBe(true);
  });

  it('gives no stdin without -i', async () => {
    let sawStdin: unknown = 'unset';
    harness.onExec = async (io) => {
      sawStdin = io.stdin;
      return 0;
    };
    const r = await kubectl(['exec', 'web', '--', 'true']);
    expect(r.code).toBe(0);
    expect(sawStdin).toBeNull();
  });

  it('reports a command that cannot start as kubectl reports a runtime failure', async () => {
    harness.onExec = async () => {
      throw new ExecStartError('exec: "nope": executable file not found in $PATH');
    };
    const r = await kubectl(['exec', 'web', '--', 'nope']);
    expect(r.stderr).toContain(
      'error: Internal error occurred: error executing command in container: exec: "nope": executable file not found in $PATH',
    );
    expect(r.code).toBe(1);
  });

  it('uses the container kubectl names with -c', async () => {
    harness.onExec = async () => 0;
    const r = await kubectl(['exec', 'two', '-c', 'sidecar', '--', 'true']);
    expect(r.code).toBe(0);
    expect(harness.lastExec?.container).toBe('sidecar');
  });

  it('runs a TTY session with -it: raw input, resize events, merged output', async () => {
    const sizes: TerminalSize[] = [];
    let initial: TerminalSize | undefined;
    harness.onExec = async (io: ExecIO) => {
      expect(io.tty).toBe(true);
      io.resize.on('resize', (s: TerminalSize) => sizes.push(s));
      // kubectl sends the first size from its own goroutine once the stream is open: it may come
      // before or after this handler starts.
      initial = io.terminalSize() ?? (await new Promise<TerminalSize>((r) => io.resize.once('resize', r)));
      io.stdout.write('$ ');
      for await (const chunk of io.stdin!) {
        const text = chunk.toString();
        if (text.includes('q')) break;
        io.stdout.write(`<${text}>`);
        io.stderr.write('[err]');
      }
      io.stdout.write('\r\nbye\r\n');
      return 0;
    };
    const term = pty.spawn('/usr/bin/kubectl', ['exec', '-it', 'web', '--', 'sh'], {
      name: 'xterm',
      cols: 91,
      rows: 27,
      env: { ...process.env, KUBECONFIG: harness.kubeconfig } as Record<string, string>,
    });
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    await waitFor(() => screen.includes('$ '));
    expect(initial).toEqual({ width: 91, height: 27 });
    term.write('x');
    await waitFor(() => screen.includes('<x>[err]'));
    term.resize(120, 40);
    await waitFor(() => sizes.some((s) => s.width === 120 && s.height === 40));
    term.write('q');
    expect(await exited).toBe(0);
    expect(screen).toContain('bye');
    expect(harness.lastExec?.tty).toBe(true);
    expect(harness.lastExec?.stderr).toBe(false);
  });

  it('aborts the command when kubectl goes away', async () => {
    let aborted = false;
    harness.onExec = (io) =>
      new Promise((resolve) => {
        io.stdout.write('started\n');
        io.signal.addEventListener('abort', () => {
          aborted = true;
          resolve(137);
        });
      });
    const child = spawn('/usr/bin/kubectl', ['exec', 'web', '--', 'sleep', '1000'], {
      env: { ...process.env, KUBECONFIG: harness.kubeconfig },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await waitFor(() => out.includes('started'));
    child.kill('SIGINT');
    await waitFor(() => aborted);
  });

  it('also works over the SPDY fallback (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false)', async () => {
    const spdy = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };
    harness.onExec = async (io, params) => {
      if (params.stdin) io.stdout.write((await readAll(io.stdin!)).toUpperCase());
      else io.stdout.write('hi\n');
      io.stderr.write('to stderr\n');
      return params.command.includes('fail') ? 4 : 0;
    };
    const ok = await kubectl(['exec', 'web', '--', 'echo', 'hi'], { env: spdy });
    expect([ok.stdout, ok.stderr, ok.code]).toEqual(['hi\n', 'to stderr\n', 0]);
    const failed = await kubectl(['exec', 'web', '--', 'fail'], { env: spdy });
    expect(failed.stderr).toBe('to stderr\ncommand terminated with exit code 4\n');
    expect(failed.code).toBe(4);
    const piped = await kubectl(['exec', '-i', 'web', '--', 'cat'], { env: spdy, input: 'over spdy\n' });
    expect(piped.stdout).toBe('OVER SPDY\n');
    expect(piped.code).toBe(0);
  });

  it('runs -it over the SPDY fallback with resize events', async () => {
    const sizes: TerminalSize[] = [];
    harness.onExec = async (io: ExecIO) => {
      io.resize.on('resize', (s: TerminalSize) => sizes.push(s));
      io.stdout.write('# ');
      for await (const chunk of io.stdin!) {
        if (chunk.toString().includes('q')) break;
        io.stdout.write(`[${chunk.toString()}]`);
      }
      return 0;
    };
    const term = pty.spawn('/usr/bin/kubectl', ['exec', '-it', 'web', '--', 'sh'], {
      name: 'xterm',
      cols: 70,
      rows: 20,
      env: { ...process.env, KUBECONFIG: harness.kubeconfig, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } as Record<string, string>,
    });
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    await waitFor(() => screen.includes('# '));
    await waitFor(() => sizes.some((s) => s.width === 70 && s.height === 20));
    term.write('z');
    await waitFor(() => screen.includes('[z]'));
    term.resize(100, 30);
    await waitFor(() => sizes.some((s) => s.width === 100 && s.height === 30));
    term.write('q');
    expect(await exited).toBe(0);
  });
});

describe('requests the API server refuses before any upgrade', () => {
  it('exec and port-forward need a scheduled pod; its log is empty', async () => {
    harness.onExec = async () => 0;
    const exec = await kubectl(['exec', 'pending', '--', 'true']);
    expect(exec.stderr).toBe('Error from server (BadRequest): pod pending does not have a host assigned\n');
    expect(exec.code).toBe(1);
    const logs = await kubectl(['logs', 'pending']);
    expect([logs.stdout, logs.stderr, logs.code]).toEqual(['', '', 0]);
  });

  it('exec into a missing pod is a 404', async () => {
    const r = await kubectl(['exec', 'nosuch', '--', 'true']);
    expect(r.stderr).toBe('Error from server (NotFound): pods "nosuch" not found\n');
  });
});

describe("kubectl exec into the workload runtime's shell", () => {
  // The glue the simulated kubelet will own: an exec session handed to runInContainer.
  const useRuntimeShell = () => {
    const ctx = new MemoryNetwork().addPod({ name: 'web', image: 'busybox:1.36', containerName: 'web' });
    harness.onExec = (io, params) =>
      runInContainer({
        argv: params.command,
        stdin: io.stdin,
        stdout: io.stdout,
        stderr: io.stderr,
        tty: io.tty,
        ctx,
        signal: io.signal,
        onResize: (size) => io.resize.emit('resize', size),
      });
  };

  it('runs sh -c with output, exit codes and stdin', async () => {
    useRuntimeShell();
    const r = await kubectl(['exec', 'web', '--', 'sh', '-c', 'echo hi; exit 3']);
    expect([r.stdout, r.stderr, r.code]).toEqual(['hi\n', 'command terminated with exit code 3\n', 3]);
    const piped = await kubectl(['exec', '-i', 'web', '--', 'cat'], { input: 'through the shell\n' });
    expect([piped.stdout, piped.code]).toEqual(['through the shell\n', 0]);
  });

  it('reports an unknown executable as the container runtime does', async () => {
    useRuntimeShell();
    const r = await kubectl(['exec', 'web', '--', 'nope']);
    expect(r.stderr).toMatch(/^error: Internal error occurred: error executing command in container: failed to exec in container: .*exec: "nope": executable file not found in \$PATH: unknown\n$/);
    expect(r.code).toBe(1);
  });

  it('gives an interactive prompt with -it', async () => {
    useRuntimeShell();
    const term = pty.spawn('/usr/bin/kubectl', ['exec', '-it', 'web', '--', 'sh'], {
      name: 'xterm',
      cols: 80,
      rows: 24,
      env: { ...process.env, KUBECONFIG: harness.kubeconfig } as Record<string, string>,
    });
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    await waitFor(() => /[#$] $/.test(screen));
    term.write('echo from-the-pod\r');
    await waitFor(() => screen.includes('from-the-pod\r\n'));
    term.write('exit\r');
    expect(await exited).toBe(0);
  });
});

describe('kubectl attach', () => {
  it('attaches to the container output', async () => {
    harness.onExec = async (io, params) => {
      expect(params.command).toEqual([]);
      io.stdout.write('log line from the main process\n');
      return 0;
    };
    const r = await kubectl(['attach', 'web']);
    expect(r.stdout).toContain('log line from the main process\n');
    expect(r.code).toBe(0);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---------------------------------------------------------------------------------------------
// port-forward

interface KubectlPortForward {
  localPort: number;
  output: () => string;
  errors: () => string;
  exited: Promise<number | null>;
  stop(): void;
}

async function startPortForward(args: string[], env: Record<string, string> = {}): Promise<KubectlPortForward> {
  const child = spawn('/usr/bin/kubectl', ['port-forward', ...args], {
    env: { ...process.env, KUBECONFIG: harness.kubeconfig, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await waitFor(() => /Forwarding from 127\.0\.0\.1:\d+/.test(out) || child.exitCode !== null);
  const m = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/.exec(out);
  if (!m) throw new Error(`kubectl port-forward did not start: ${out} ${err}`);
  return { localPort: Number(m[1]), output: () => out, errors: () => err, exited, stop: () => child.kill('SIGINT') };
}

function curl(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/curl', args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('kubectl port-forward (SPDY/3.1 over WebSocket)', () => {
  let app: Server;
  let appPort = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const slowWaiting: (() => void)[] = [];
  const dialed: number[] = [];

  beforeAll(async () => {
    // Stands in for the workload listening inside the pod.
    app = createServer((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        res.end(Buffer.alloc(3 * 1024 * 1024, 'k'));
        return;
      }
      if (req.url === '/echo') {
        const parts: Buffer[] = [];
        req.on('data', (c: Buffer) => parts.push(c));
        req.on('end', () => res.end(`got ${Buffer.concat(parts).length} bytes`));
        return;
      }
      const slow = req.url?.startsWith('/slow') ?? false;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const answer = () => {
        inFlight--;
        res.end(`hello from the pod: ${req.method} ${req.url}\n`);
      };
      if (!slow) return void setImmediate(answer);
      // /slow answers once two are in flight at once (or after 10 s): proof that the forward
      // carries both together, however late the second curl starts on a loaded machine.
      slowWaiting.push(answer);
      const release = () => slowWaiting.splice(0).forEach((f) => f());
      if (inFlight >= 2) release();
      else setTimeout(release, 10_000).unref();
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appPort = (app.address() as AddressInfo).port;
  });
  afterAll(async () => {
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  });

  const connectToApp = (port: number): Promise<Duplex> => {
    dialed.push(port);
    return new Promise((resolve, reject) => {
      if (port !== 80) return reject(Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' }));
      const sock = connect(appPort, '127.0.0.1', () => resolve(sock));
      sock.once('error', reject);
    });
  };

  it('carries an HTTP request from curl on the local port to the pod port, twice at once', async () => {
    harness.onConnect = connectToApp;
    dialed.length = 0;
    const pf = await startPortForward(['pod/web', ':80']);
    try {
      const [a, b] = await Promise.all([
        curl(['-sS', `http://127.0.0.1:${pf.localPort}/slow/a`]),
        curl(['-sS', `http://127.0.0.1:${pf.localPort}/slow/b`]),
      ]);
      expect(a.stdout).toBe('hello from the pod: GET /slow/a\n');
      expect(b.stdout).toBe('hello from the pod: GET /slow/b\n');
      expect(dialed).toEqual([80, 80]);
      expect(maxInFlight).toBe(2);
      const again = await curl(['-sS', `http://127.0.0.1:${pf.localPort}/again`]);
      expect(again.stdout).toBe('hello from the pod: GET /again\n');
      expect(pf.output()).toContain(`Handling connection for ${pf.localPort}`);
      expect(pf.errors()).toBe('');
    } finally {
      pf.stop();
      await pf.exited;
    }
  });

  it('moves megabytes both ways without stalling', async () => {
    harness.onConnect = connectToApp;
    const pf = await startPortForward(['pod/web', ':80']);
    try {
      const big = await curl(['-sS', '-o', '/dev/null', '-w', '%{size_download}', `http://127.0.0.1:${pf.localPort}/big`]);
      expect(big.stdout).toBe(String(3 * 1024 * 1024));
      const upload = await curl(['-sS', '--data-binary', `@${bigFile()}`, `http://127.0.0.1:${pf.localPort}/echo`]);
      expect(upload.stdout).toBe(`got ${2 * 1024 * 1024} bytes`);
    } finally {
      pf.stop();
      await pf.exited;
    }
  });

  it("reports a refused port the way kubectl shows the kubelet's error, then drops the forward", async () => {
    harness.onConnect = connectToApp;
    const pf = await startPortForward(['pod/web', ':9080']);
    const r = await curl(['-sS', `http://127.0.0.1:${pf.localPort}/`]);
    expect(r.code).not.toBe(0);
    expect(await pf.exited).toBe(1);
    // klog quotes the message: `"Unhandled Error" err="an error occurred ... namespace \"/var/run/...\": ..."`.
    const text = pf.errors().replaceAll('\\"', '"');
    expect(text).toContain('"Unhandled Error" err="an error occurred forwarding');
    expect(text).toMatch(
      new RegExp(
        `an error occurred forwarding ${pf.localPort} -> 9080: error forwarding port 9080 to pod [0-9a-f]{64}, uid : ` +
          `failed to execute portforward in network namespace "/var/run/netns/cni-[0-9a-f-]{36}": ` +
          `failed to connect to localhost:9080 inside namespace "[0-9a-f]{64}", IPv4: dial tcp4 127.0.0.1:9080: connect: connection refused ` +
          `IPv6 dial tcp6 \\[::1\\]:9080: connect: connection refused`,
      ),
    );
    expect(pf.errors()).toContain('error: lost connection to pod');
  });

  it('reaches an in-process server with no TCP listener (duplexPair)', async () => {
    const inPod = createServer((req, res) => res.end(`in-process answer for ${req.url}`));
    harness.onConnect = async (port) => {
      if (port !== 9080) throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
      const [ours, theirs] = duplexPair();
      inPod.emit('connection', theirs);
      return ours;
    };
    const pf = await startPortForward(['pod/web', ':9080']);
    try {
      const [a, b] = await Promise.all([
        curl(['-sS', `http://127.0.0.1:${pf.localPort}/productpage`]),
        curl(['-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${pf.localPort}/other`]),
      ]);
      expect(a.stdout).toBe('in-process answer for /productpage');
      expect(b.stdout).toBe('200');
    } finally {
      pf.stop();
      await pf.exited;
      inPod.close();
    }
  });

  it('works over plain SPDY when kubectl is told not to use WebSockets', async () => {
    harness.onConnect = connectToApp;
    const pf = await startPortForward(['pod/web', ':80'], { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
    try {
      const r = await curl(['-sS', `http://127.0.0.1:${pf.localPort}/spdy`]);
      expect(r.stdout).toBe('hello from the pod: GET /spdy\n');
    } finally {
      pf.stop();
      await pf.exited;
    }
  });
});

let bigFilePath: string | undefined;
function bigFile(): string {
  if (!bigFilePath) {
    bigFilePath = join(mkdtempSync(join(tmpdir(), 'sim-streams-upload-')), 'upload.bin');
    writeFileSync(bigFilePath, Buffer.alloc(2 * 1024 * 1024, 'u'));
  }
  return bigFilePath;
}

// ---------------------------------------------------------------------------------------------
// logs

interface FakeLog extends LogSource {
  log(line: string): void;
  stop(): void;
  subscribers(): number;
}

function fakeLog(lines: Array<[Date, string]>, running = true): FakeLog {
  const entries: LogEntry[] = lines.map(([time, line]) => ({ time, line }));
  const listeners = new Set<{ onEntry: (e: LogEntry) => void; onEnd: () => void }>();
  let alive = running;
  return {
    entries: () => entries,
    running: () => alive,
    subscribe(onEntry, onEnd) {
      const l = { onEntry, onEnd };
      listeners.add(l);
      return () => listeners.delete(l);
    },
    log(line) {
      const e = { time: new Date(), line };
      entries.push(e);
      for (const l of listeners) l.onEntry(e);
    },
    stop() {
      alive = false;
      for (const l of [...listeners]) l.onEnd();
    },
    subscribers: () => listeners.size,
  };
}

describe('kubectl logs', () => {
  const t0 = new Date('2026-11-26T10:00:00.123Z');
  const at = (s: number) => new Date(t0.getTime() + s * 1000);
  const history: Array<[Date, string]> = [
    [at(0), 'INFO starting'],
    [at(1), 'GET /productpage 200'],
    [at(2), 'GET /health 200'],
  ];

  it('prints the container log, its tail, and kubelet-style timestamps', async () => {
    const asked: string[] = [];
    harness.logSource = (c) => {
      asked.push(c);
      return fakeLog(history, false);
    };
    const all = await kubectl(['logs', 'web']);
    expect(all.stdout).toBe('INFO starting\nGET /productpage 200\nGET /health 200\n');
    expect(all.code).toBe(0);
    const tail = await kubectl(['logs', 'web', '--tail=2', '--timestamps']);
    expect(tail.stdout).toBe('2026-11-26T10:00:01.123000000Z GET /productpage 200\n2026-11-26T10:00:02.123000000Z GET /health 200\n');
    const limited = await kubectl(['logs', 'web', '--limit-bytes=10']);
    expect(limited.stdout).toBe('INFO start');
    expect(asked).toEqual(['web', 'web', 'web']);
  });

  it('filters by --since against the entry times', async () => {
    const recent = new Date();
    harness.logSource = () => fakeLog([[new Date(recent.getTime() - 3 * 3600_000), 'old'], [recent, 'new']], false);
    const r = await kubectl(['logs', 'web', '--since=1h']);
    expect(r.stdout).toBe('new\n');
  });

  it('follows new lines until the container stops (-f)', async () => {
    const source = fakeLog([[at(0), 'first']]);
    harness.logSource = () => source;
    const child = spawn('/usr/bin/kubectl', ['logs', '-f', 'web'], { env: { ...process.env, KUBECONFIG: harness.kubeconfig } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitFor(() => out === 'first\n');
    await waitFor(() => source.subscribers() === 1);
    source.log('second');
    await waitFor(() => out === 'first\nsecond\n');
    source.stop();
    expect(await exited).toBe(0);
    expect(out).toBe('first\nsecond\n');
  });

  it('stops following when kubectl goes away', async () => {
    const source = fakeLog([[at(0), 'first']]);
    harness.logSource = () => source;
    const child = spawn('/usr/bin/kubectl', ['logs', '-f', 'web'], { env: { ...process.env, KUBECONFIG: harness.kubeconfig } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await waitFor(() => out === 'first\n' && source.subscribers() === 1);
    child.kill('SIGINT');
    await waitFor(() => source.subscribers() === 0);
  });

  it("relays the kubelet's refusal of --previous", async () => {
    harness.logSource = () => {
      throw logErrors.previousNotFound('web', 'web');
    };
    const r = await kubectl(['logs', 'web', '--previous']);
    expect(r.stderr).toBe('Error from server (BadRequest): previous terminated container "web" in pod "web" not found\n');
    expect(r.code).toBe(1);
  });

  it("words bad requests as kube-apiserver does", async () => {
    harness.logSource = () => fakeLog(history, false);
    const badContainer = await kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/web/log?container=nope']);
    expect(badContainer.stderr).toBe('Error from server (BadRequest): container nope is not valid for pod web\n');
    expect(badContainer.code).toBe(1);
    const noContainer = await kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/two/log']);
    expect(noContainer.stderr).toBe(
      'Error from server (BadRequest): a container name must be specified for pod two, choose one of: [main sidecar]\n',
    );
    const negative = await kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/web/log?tailLines=-1']);
    expect(negative.stderr).toBe(
      'The PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0\n',
    );
    const both = await kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/web/log?sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z']);
    expect(both.stderr).toBe('The PodLogOptions "web" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified\n');
    const notANumber = await kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/web/log?tailLines=ten']);
    expect(notANumber.stderr).toBe('Error from server (BadRequest): strconv.ParseInt: parsing "ten": invalid syntax\n');
  });
});

// ---------------------------------------------------------------------------------------------
// @kubernetes/client-node, the other real client the playground's own code uses

function collect(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}

describe('@kubernetes/client-node', () => {
  const kc = () => {
    const config = new KubeConfig();
    config.loadFromFile(harness.kubeconfig);
    return config;
  };

  it('execs over v5 and reports the exit Status', async () => {
    harness.onExec = async (io) => {
      const input = await readAll(io.stdin!);
      io.stdout.write(`read ${input.length} bytes\n`);
      io.stderr.write('warning\n');
      return 2;
    };
    const out = collect();
    const err = collect();
    const stdin = new PassThrough();
    const status = new Promise<V1Status>((resolve) => {
      void new Exec(kc()).exec('default', 'web', 'web', ['wc', '-c'], out.stream, err.stream, stdin, false, resolve);
    });
    stdin.end('12345');
    const s = await status;
    expect(out.text()).toBe('read 5 bytes\n');
    expect(err.text()).toBe('warning\n');
    expect(s.status).toBe('Failure');
    expect(s.reason).toBe('NonZeroExitCode');
    expect(s.details?.causes?.[0]).toEqual({ reason: 'ExitCode', message: '2' });
  });

  it("port-forwards over the kubelet's WebSocket channel protocol", async () => {
    const app = createServer((req, res) => res.end(`pod says hi to ${req.url}`));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const appPort = (app.address() as AddressInfo).port;
    const dialed: number[] = [];
    harness.onConnect = (port) =>
      new Promise((resolve, reject) => {
        dialed.push(port);
        const sock = connect(appPort, '127.0.0.1', () => resolve(sock));
        sock.once('error', reject);
      });
    try {
      const out = collect();
      const err = collect();
      const input = new PassThrough();
      const ws = (await new PortForward(kc()).portForward('default', 'web', [9080], out.stream, err.stream, input)) as unknown as {
        close(): void;
      };
      input.write('GET /cn HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await waitFor(() => out.text().includes('pod says hi to /cn'));
      expect(out.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(err.text()).toBe('');
      expect(dialed).toEqual([9080]);
      ws.close();
    } finally {
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    }
  });

  it('reports a refused port on the error channel', async () => {
    harness.onConnect = () => Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    const out = collect();
    const err = collect();
    await new PortForward(kc()).portForward('default', 'web', [81], out.stream, err.stream, new PassThrough());
    await waitFor(() => err.text().length > 0);
    expect(err.text()).toMatch(/^error forwarding port 81 to pod [0-9a-f]{64}, uid : failed to execute portforward in network namespace ".*": failed to connect to localhost:81 inside namespace/);
    expect(out.text()).toBe('');
  });
});
