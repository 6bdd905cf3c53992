/**
 * The kind backend above kind itself. There is no Docker engine on the machines these tests run
 * on, so `kind` is a STAND-IN (test/fixtures/stand-ins/kind) that answers with kind v0.27's output
 * shapes; what is tested is ours: the commands and the generated kind config, progress read from
 * kind's stage lines, and every failure as a clear message within a deadline. Creating a real
 * cluster needs a Docker host (README: "Run on a real cluster").
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import { KindBackend, type KindBackendOptions } from '../../server/cluster/kind-backend.js';
import { INGRESS_NODE_PORTS, KIND_NODE_IMAGE } from '../../server/cluster/kind/config.js';
import { KindProgressParser } from '../../server/cluster/kind/progress.js';
import { loadConfig } from '../../server/config.js';
import { freePortPair, freePorts } from '../helpers/ports.js';

const STAND_IN_KIND = path.resolve(import.meta.dirname, '../fixtures/stand-ins/kind');

let dir: string;
let log: string;
const saved = { ...process.env };

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kind-backend-'));
  log = path.join(dir, 'kind-calls.log');
  process.env.KIND_STANDIN_LOG = log;
});
afterEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith('KIND_STANDIN_')) delete process.env[key];
  Object.assign(process.env, saved);
  fs.rmSync(dir, { recursive: true, force: true });
});

function backend(overrides: Partial<KindBackendOptions> = {}): KindBackend {
  return new KindBackend({ clusterName: 'istio-playground', mode: 'per-learner', dataDir: dir, hostPort: 0, timeoutMs: 30_000, kind: STAND_IN_KIND, ...overrides });
}

/**
 * `count` consecutive free host ports for the clusters' mappings (the backend checks they are
 * free). Drawn below Linux's ephemeral range (32768+), where other tests' outgoing connections
 * would take ports between this check and the backend's, and each one bound to prove it free.
 */

const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);

describe('kind backend (with a stand-in kind; a real cluster needs Docker)', () => {
  it('creates the tutorial-shaped cluster from a generated config and hands out `kind get kubeconfig`', async () => {
    const hostPort = await freePortPair();
    const kind = backend({ mode: 'shared', hostPort });
    expect(kind.describe()).toBe('kind cluster "istio-playground"');
    const access = await kind.acquire('learner-a');

    expect(calls()).toEqual([
      'get clusters',
      `create cluster --name istio-playground --config ${path.join(dir, 'kind', 'istio-playground.kind.yaml')} --image ${KIND_NODE_IMAGE} --kubeconfig ${path.join(dir, 'kind', 'istio-playground.kubeconfig')} --wait 120s`,
      'get kubeconfig --name istio-playground',
    ]);
    const config = YAML.parse(fs.readFileSync(path.join(dir, 'kind', 'istio-playground.kind.yaml'), 'utf8'));
    expect(config).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', name: 'istio-playground' });
    expect(config.nodes.map((n: { role: string }) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    expect(config.nodes[0].extraPortMappings).toEqual([
      { containerPort: INGRESS_NODE_PORTS.http2, hostPort, listenAddress: '0.0.0.0', protocol: 'TCP' },
      { containerPort: INGRESS_NODE_PORTS.https, hostPort: hostPort + 1, listenAddress: '0.0.0.0', protocol: 'TCP' },
    ]);
    // The Istio overlay pins the ingress gateway on the NodePorts kind maps.
    const overlay = YAML.parse(fs.readFileSync(path.join(dir, 'kind', 'istio-ingress-nodeports.yaml'), 'utf8'));
    const ports = overlay.spec.components.ingressGateways[0].k8s.service.ports;
    expect(ports.find((p: { name: string }) => p.name === 'http2').nodePort).toBe(INGRESS_NODE_PORTS.http2);

    // The learner's kubeconfig is a copy pinned to kind's context; real clusters get Istio's real download URL.
    expect(access.context).toBe('kind-istio-playground');
    const learnerKc = JSON.parse(fs.readFileSync(access.kubeconfigPath, 'utf8'));
    expect(learnerKc['current-context']).toBe('kind-istio-playground');
    expect(learnerKc.clusters[0].cluster.server).toBe('https://127.0.0.1:6443');
    expect(access.env.ISTIO_DOWNLOAD_URL).toBe('https://istio.io/downloadIstio');
    expect(kind.status('learner-a')).toEqual({ state: 'ready', percent: 100 });
    expect(kind.describe()).toBe('kind cluster "istio-playground", context kind-istio-playground (https://127.0.0.1:6443)');
  });

  it('finds an existing cluster by name and does not create it again', async () => {
    process.env.KIND_STANDIN_MODE = 'exists';
    const kind = backend({ mode: 'shared', hostPort: 30080 });
    await kind.acquire('learner-a');
    expect(calls()).toEqual(['get clusters', 'get kubeconfig --name istio-playground']);
  });

  it('shows kind\'s stages as progress while it works, then ready', async () => {
    const gate = path.join(dir, 'gate');
    process.env.KIND_STANDIN_GATE = gate;
    const kind = backend({ hostPort: await freePortPair() });
    expect(kind.status('learner-a')).toEqual({ state: 'not-started' });
    const acquiring = kind.acquire('learner-a');
    await vi.waitFor(() => expect(kind.status('learner-a').stage).toBe('Joining worker nodes'), { timeout: 10_000, interval: 20 });
    const during = kind.status('learner-a');
    expect(during.state).toBe('preparing');
    expect(during.percent).toBeGreaterThan(70);
    expect(during.percent).toBeLessThan(100);
    fs.writeFileSync(gate, '');
    await acquiring;
    expect(kind.status('learner-a')).toMatchObject({ state: 'ready', percent: 100 });
  });

  it('gives each learner a cluster and host ports of their own in per-learner mode', async () => {
    const base = await freePorts(4);
    const kind = backend({ hostPort: base });
    await kind.acquire('learner-a');
    await kind.acquire('learner-b');
    const names = calls().filter((c) => c.startsWith('create cluster')).map((c) => c.split(' ')[3]);
    expect(names).toHaveLength(2);
    expect(names[0]).toMatch(/^istio-playground-[0-9a-f]{8}$/);
    expect(names[0]).not.toBe(names[1]);
    const mapped = names.map((n) => YAML.parse(fs.readFileSync(path.join(dir, 'kind', `${n}.kind.yaml`), 'utf8')).nodes[0].extraPortMappings[0].hostPort);
    expect(mapped).toEqual([base, base + 2]);
    // The same learner comes back to the same cluster.
    await kind.acquire('learner-a');
    expect(calls().filter((c) => c.startsWith('create cluster'))).toHaveLength(2);
  });

  describe('failures are messages, not hangs', () => {
    it('no kind on PATH', async () => {
      const kind = backend({ kind: undefined, searchPath: path.join(dir, 'empty-bin') });
      await expect(kind.acquire('a')).rejects.toThrow(/^kind was not found on PATH: install it with `bash scripts\/install-tools.sh --with kind`/);
      expect(kind.status('a')).toMatchObject({ state: 'failed', message: expect.stringMatching(/kind was not found/) });
    });

    it('Docker daemon not running', async () => {
      process.env.KIND_STANDIN_MODE = 'docker-down';
      await expect(backend().acquire('a')).rejects.toThrow(/^Docker is not running: kind could not list its clusters because the Docker daemon does not answer\./);
    });

    it('no docker command', async () => {
      process.env.KIND_STANDIN_MODE = 'no-docker';
      await expect(backend().acquire('a')).rejects.toThrow(/^Docker is not installed: kind needs the docker command line/);
    });

    it('a host port already taken is reported before kind starts', async () => {
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
      const port = (taken.address() as net.AddressInfo).port;
      try {
        await expect(backend({ hostPort: port }).acquire('a')).rejects.toThrow(`host port ${port} is in use: kind publishes the ingress gateway's NodePorts on ports ${port} and ${port + 1}. Free them or choose others with --kind-host-port.`);
        expect(calls()).toEqual(['get clusters']);
      } finally {
        taken.close();
      }
    });

    it('a port Docker reports as allocated (taken by a container)', async () => {
      process.env.KIND_STANDIN_MODE = 'port-allocated';
      await expect(backend({ hostPort: await freePortPair() }).acquire('a')).rejects.toThrow(/^A host port kind maps is taken: kind could not create cluster "istio-playground-[0-9a-f]{8}" \(failed at: Preparing nodes\)/);
    });

    it('kind failing at a stage names the stage and quotes kind', async () => {
      process.env.KIND_STANDIN_MODE = 'fail-control-plane';
      const kind = backend({ hostPort: await freePortPair() });
      const failure = kind.acquire('a');
      await expect(failure).rejects.toThrow(/kind could not create cluster "istio-playground-[0-9a-f]{8}" \(failed at: Starting control-plane\)\.\nkind said:\n.*failed to init node with kubeadm/s);
      // A later acquire tries again rather than keeping the failure forever.
      delete process.env.KIND_STANDIN_MODE;
      await kind.acquire('a');
      expect(kind.status('a').state).toBe('ready');
    });

    it('a cluster creation that hangs is stopped at the deadline, and its half-made cluster removed', async () => {
      process.env.KIND_STANDIN_MODE = 'hang-create';
      // 5 s: the stand-in (bash) must have printed its first stage by then, even on a loaded machine.
      const kind = backend({ hostPort: await freePortPair(), timeoutMs: 5000 });
      await expect(kind.acquire('a')).rejects.toThrow(/^`kind create cluster --name istio-playground-[0-9a-f]{8} .*` did not finish within 5 s and was stopped\. Last output:\n.*Ensuring node image/s);
      const name = kind.clusterNameOf('a');
      expect(calls().at(-1)).toBe(`delete cluster --name ${name}`);
      expect(kind.status('a')).toMatchObject({ state: 'failed', stage: 'Ensuring node image' });
    });

    it('a kind that hangs is stopped at the deadline', async () => {
      process.env.KIND_STANDIN_MODE = 'hang';
      const started = Date.now();
      await expect(backend({ quickTimeoutMs: 500 }).acquire('a')).rejects.toThrow(/^`kind get clusters` did not finish within 1 s and was stopped/);
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  });
});

describe('kind progress parsing', () => {
  it('reads non-terminal status lines in chunks of any size', () => {
    const p = new KindProgressParser();
    const output = [
      'Creating cluster "x" ...',
      ' • Ensuring node image (kindest/node:v1.32.2) 🖼  ...',
      ' ✓ Ensuring node image (kindest/node:v1.32.2) 🖼',
      ' • Preparing nodes 📦 📦 📦   ...',
    ].join('\n');
    for (const ch of output) p.push(ch);
    p.push('\n');
    expect(p.progress()).toMatchObject({ stage: 'Preparing nodes', failedStage: undefined });
    const after = p.progress().percent;
    expect(after).toBeGreaterThan(40);
    p.push(' ✗ Preparing nodes 📦 📦 📦\nERROR: failed to create cluster: boom\n');
    expect(p.progress()).toMatchObject({ failedStage: 'Preparing nodes', errors: ['failed to create cluster: boom'] });
  });

  it('reaches 100 only when every stage is done', () => {
    const p = new KindProgressParser();
    p.push(' ✓ Joining worker nodes 🚜\n');
    expect(p.progress().percent).toBe(95);
    p.push(' ✓ Waiting ≤ 2m0s for control-plane = Ready ⏳\n');
    expect(p.progress().percent).toBe(100);
  });
});

describe('kind configuration', () => {
  it('reads --backend kind and its settings; namespace-per-learner needs a shared cluster', () => {
    const c = loadConfig(['--backend', 'kind', '--kind-cluster', 'workshop', '--kind-mode', 'shared', '--kind-host-port', '8080', '--learner-namespaces'], {});
    expect(c).toMatchObject({ backend: 'kind', kindCluster: 'workshop', kindMode: 'shared', kindHostPort: 8080, learnerNamespaces: true, kindTimeoutSeconds: 600 });
    expect(() => loadConfig(['--backend', 'kind', '--kind-mode', 'per-learner', '--learner-namespaces'], {})).toThrow(/learnerNamespaces \(--learner-namespaces \/ PLAYGROUND_LEARNER_NAMESPACES\): needs one cluster shared by the learners/);
    expect(() => loadConfig(['--backend', 'kind', '--kind-cluster', 'Bad_Name'], {})).toThrow(/kindCluster \(--kind-cluster \/ PLAYGROUND_KIND_CLUSTER\): must be a lower-case DNS label/);
    expect(loadConfig([], { PLAYGROUND_BACKEND: 'kind', PLAYGROUND_LEARNER_NAMESPACES: 'true' }).learnerNamespaces).toBe(true);
  });
});
