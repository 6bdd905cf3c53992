/**
 * The playground on `--backend kind`, above kind: a STAND-IN `kind` (test/fixtures/stand-ins/kind,
 * first on PATH for this file) answers as kind v0.27 does, and the kubeconfig it hands out names an
 * embedded cluster, so the learner's terminal really reaches "the kind cluster". What the page
 * reads while the cluster is created (progress, then ready, or the reason it failed) and what the
 * learner's terminal says are what is tested. A real kind cluster needs a Docker host.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { freePortPair } from '../helpers/ports.js';
import { TestClient } from '../helpers/terminal-client.js';

const STAND_INS = path.resolve(import.meta.dirname, '../fixtures/stand-ins');
const saved = { PATH: process.env.PATH };
let work: string;
let cluster: EmbeddedCluster;


beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kind-playground-'));
  cluster = await EmbeddedCluster.start({ host: '127.0.0.1', port: 0, workloads: false });
  await cluster.writeKubeconfig(path.join(work, 'embedded.kubeconfig'));
  const kc = YAML.parse(fs.readFileSync(path.join(work, 'embedded.kubeconfig'), 'utf8'));
  process.env.KIND_STANDIN_SERVER = kc.clusters[0].cluster.server;
  process.env.KIND_STANDIN_CA = kc.clusters[0].cluster['certificate-authority-data'];
  process.env.KIND_STANDIN_TOKEN = kc.users[0].user.token;
  process.env.PATH = `${STAND_INS}${path.delimiter}${process.env.PATH}`;
});
afterAll(async () => {
  process.env.PATH = saved.PATH;
  for (const key of Object.keys(process.env)) if (key.startsWith('KIND_STANDIN_')) delete process.env[key];
  await cluster?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const status = async (pg: TestPlayground) => (await (await pg.fetchAuthed('/api/cluster')).json()) as { state: string; percent?: number; stage?: string; message?: string };
const openTerminal = (pg: TestPlayground) =>
  TestClient.open(new URL('/ws/terminal', pg.baseUrl.replace(/^http/, 'ws')).href, { headers: { cookie: pg.cookies, origin: pg.baseUrl.replace(/\/$/, '') } });

describe('the playground on --backend kind (stand-in kind)', () => {
  it('shows the cluster being created, stage by stage, then gives the learner its kubeconfig', async () => {
    const gate = path.join(work, 'gate');
    process.env.KIND_STANDIN_GATE = gate;
    const pg = await startTestPlayground({ backend: 'kind', kindHostPort: await freePortPair(), dataDir: path.join(work, 'data-ok') });
    try {
      await vi.waitFor(async () => expect((await status(pg)).stage).toBe('Joining worker nodes'), { timeout: 15_000, interval: 50 });
      const during = await status(pg);
      expect(during.state).toBe('preparing');
      expect(during.percent).toBeGreaterThan(70);
      expect(during.percent).toBeLessThan(100);
      const info = (await (await pg.fetchAuthed('/api/info')).json()) as { backend: { name: string; description: string } };
      expect(info.backend).toMatchObject({ name: 'kind', description: 'kind cluster "istio-playground"' });

      fs.writeFileSync(gate, '');
      await vi.waitFor(async () => expect(await status(pg)).toEqual({ state: 'ready', percent: 100 }), { timeout: 15_000, interval: 50 });
      const term = await openTerminal(pg);
      try {
        expect(await term.run('kubectl config current-context', 20_000)).toBe('kind-istio-playground');
        expect(await term.run('kubectl get namespace default -o name', 20_000)).toBe('namespace/default');
        // The banner comes before the first prompt (in the replay a new terminal gets first).
        expect(`${term.replay}${term.output}`).toContain('kubectl talks to: kind cluster "istio-playground", context kind-istio-playground');
      } finally {
        term.close();
      }
    } finally {
      delete process.env.KIND_STANDIN_GATE;
      await pg.close();
    }
  });

  it('says why when Docker is not running: in the page, and in the learner\'s terminal', async () => {
    process.env.KIND_STANDIN_MODE = 'docker-down';
    const pg = await startTestPlayground({ backend: 'kind', dataDir: path.join(work, 'data-down') });
    try {
      await vi.waitFor(async () => expect((await status(pg)).state).toBe('failed'), { timeout: 15_000, interval: 50 });
      expect((await status(pg)).message).toMatch(/^Docker is not running: kind could not list its clusters because the Docker daemon does not answer\./);
      const term = await openTerminal(pg);
      try {
        await term.until(() => `${term.replay}${term.output}`.includes('The cluster is not available: Docker is not running'), 'the banner', 20_000);
      } finally {
        term.close();
      }
    } finally {
      delete process.env.KIND_STANDIN_MODE;
      await pg.close();
    }
  });
});
