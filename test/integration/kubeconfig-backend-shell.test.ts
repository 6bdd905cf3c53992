/**
 * A learner's terminal on `--backend kubeconfig`, the embedded cluster started as the external
 * cluster: the shell (sandboxed as in production) talks to it with the real kubectl, gets Istio's
 * real download URL, and finds the Istio release scripts/fetch-istio.sh left under the data dir
 * on its PATH (a STAND-IN release here, laid out as the script lays it out: its istioctl is a
 * two-line script; the real one needs internet). Also the container health endpoint and the
 * cluster status the page's progress bar reads.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { istioReleaseDir } from '../../server/cluster/istio-release-dir.js';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { TestClient } from '../helpers/terminal-client.js';

let cluster: EmbeddedCluster;
let pg: TestPlayground;
let term: TestClient;
let work: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-shell-'));
  cluster = await EmbeddedCluster.start({ host: '127.0.0.1', port: 0, workloads: false });
  await cluster.writeKubeconfig(path.join(work, 'admin.kubeconfig'));
  const dataDir = path.join(work, 'data');
  const bin = path.join(istioReleaseDir(dataDir), 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'istioctl'), '#!/bin/sh\necho "stand-in real istioctl $*"\n', { mode: 0o755 });
  pg = await startTestPlayground({ backend: 'kubeconfig', kubeconfig: path.join(work, 'admin.kubeconfig'), dataDir });
  term = await TestClient.open(new URL('/ws/terminal', pg.baseUrl.replace(/^http/, 'ws')).href, { headers: { cookie: pg.cookies, origin: pg.baseUrl.replace(/\/$/, '') } });
}, 60_000);
afterAll(async () => {
  term?.close();
  await pg?.close();
  await cluster?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('a learner shell on --backend kubeconfig', () => {
  it('uses the real kubectl against the configured cluster and Istio\'s real download URL', async () => {
    expect(await term.run('kubectl get namespace default -o name', 20_000)).toBe('namespace/default');
    expect(await term.run('echo "$ISTIO_DOWNLOAD_URL"')).toBe('https://istio.io/downloadIstio');
  });

  it('finds the fetched Istio release\'s istioctl first on its PATH, inside the sandbox', async () => {
    const where = await term.run('command -v istioctl');
    // The sandbox hides the data dir but mounts the release read-only at its own path (CI runs as root with bubblewrap, as .ci/run requires).
    expect(where).toBe(path.join(istioReleaseDir(pg.dataDir), 'bin', 'istioctl'));
    expect(await term.run(`ls ${JSON.stringify(path.join(pg.dataDir, 'learners'))} 2>&1 | head -1`)).toMatch(/No such file or directory/);
    expect(await term.run('istioctl version --remote=false')).toBe('stand-in real istioctl version --remote=false');
    expect(await term.run('touch "$(dirname "$(command -v istioctl)")/x" 2>&1 || echo refused')).toMatch(/refused$/);
  });

  it('answers the health check without a token, and reports the cluster ready to the page', async () => {
    const health = await fetch(new URL('/healthz', pg.baseUrl));
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok\n');
    expect(await (await pg.fetchAuthed('/api/cluster')).json()).toEqual({ state: 'ready' });
    expect((await fetch(new URL('/api/cluster', pg.baseUrl))).status).toBe(401);
  });

  it("tells the page which steps are the instructor's on a shared cluster (download, install)", async () => {
    const track = (await (await pg.fetchAuthed('/api/tracks/istio-bookinfo')).json()) as { steps: { id: string; clusterWide?: boolean }[] };
    expect(track.steps.filter((s) => s.clusterWide).map((s) => s.id)).toEqual(['download', 'install']);
    const info = (await (await pg.fetchAuthed('/api/info')).json()) as { backend: { name: string; learnerNamespaces: boolean } };
    expect(info.backend).toMatchObject({ name: 'kubeconfig', learnerNamespaces: false });
  });
});
