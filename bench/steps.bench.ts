/**
 * `npm run bench -- steps`: "Reset this step" / "Jump to step" on the embedded cluster. The step
 * states of istio-traffic and istio-bookinfo are built once (every earlier solution replayed in a
 * scratch cluster, as the server does on first use; cached between bench runs under the temp
 * dir), then restored into a learner's cluster process (SimBackend, as the server runs it),
 * 5 times per case, medians: the restore inside the cluster process (replace the objects, let the
 * controllers settle, write the snapshot) and the round trip seen by the server. Target < 1 s,
 * also at the last step of istio-traffic.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimBackend } from '../server/cluster/sim-backend.js';
import { loadCatalog } from '../server/lessons/catalog.js';
import type { CompiledTrack } from '../server/lessons/compiled.js';
import { StepStates, codeIdentity, type StepState } from '../server/steps/states.js';
import { serveIstioDownload } from '../server/validate/istio-download.js';
import { GATEWAY_API_CRDS_PATH } from '../server/http/istio-release.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** The catalog's tracks in the compiled shape the server's StepStates reads (solutions, setups). */
async function tracks(): Promise<CompiledTrack[]> {
  const { tracks } = await loadCatalog(path.join(root, 'lessons'));
  return tracks.map((t) => ({
    id: t.id,
    title: t.title,
    summary: t.summary,
    backends: t.backends,
    file: t.file,
    cleanup: t.cleanup,
    steps: t.steps.map((s) => ({ id: s.id, title: s.title, file: s.file, html: '', hints: [], solution: s.solution, checks: s.checks, sticky: s.sticky, setup: s.setup, ...(s.timeoutSeconds ? { timeoutSeconds: s.timeoutSeconds } : {}), ...(s.alreadyPasses ? { alreadyPasses: s.alreadyPasses } : {}) })),
  }));
}

export default async function main(): Promise<void> {
  const all = await tracks();
  const traffic = all.find((t) => t.id === 'istio-traffic')!;
  const bookinfo = all.find((t) => t.id === 'istio-bookinfo')!;
  const download = await serveIstioDownload(path.join(os.tmpdir(), 'pg-validate-istio-release'));
  const base = download.url.replace(/\/istio\/downloadIstio$/, '');
  const states = new StepStates({
    cacheDir: path.join(os.tmpdir(), 'pg-bench-step-states'),
    codeIdentity: codeIdentity(path.join(root, 'server', 'steps')),
    shellEnv: async () => ({ env: { ISTIO_DOWNLOAD_URL: download.url, GATEWAY_API_CRDS_URL: `${base}${GATEWAY_API_CRDS_PATH}` }, pathPrepend: [] }),
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-bench-steps-'));
  const backend = new SimBackend({ dataDir, nodeBlockClaimsDir: path.join(dataDir, 'claims') });
  try {
    const want = async (track: CompiledTrack, stepId: string): Promise<StepState> => {
      const t = performance.now();
      const cached = !!states.cached(track, stepId);
      const s = await states.ensure(track, stepId);
      process.stdout.write(`state ${track.id}/${stepId}: ${s.meta.objects} objects, ${s.meta.chain.length} solutions${cached ? ' (cached)' : `, built in ${((performance.now() - t) / 1000).toFixed(1)} s`}\n`);
      return s;
    };
    const last = traffic.steps.at(-1)!.id;
    const deep = await want(traffic, last);
    const deepBefore = await want(traffic, traffic.steps.at(-2)!.id);
    const first = await want(traffic, traffic.steps[0]!.id);
    const gateway = await want(bookinfo, 'destination-rules');

    const learner = 'bench-learner';
    await backend.acquire(learner);
    const restore = (s: StepState) => {
      const t = performance.now();
      return backend.restoreState(learner, { file: s.clusterFile, fromBlock: s.meta.nodeBlock, capturedAt: s.meta.capturedAt }).then((r) => ({ inChild: r.ms, roundTrip: performance.now() - t, counts: r.counts }));
    };
    const cases: [string, () => Promise<void>, StepState][] = [
      [`empty cluster → ${traffic.id}/${last} (jump to the last step)`, async () => void (await restore(first)), deep],
      [`${traffic.id}/${last} → the same (reset this step)`, async () => void (await restore(deep)), deep],
      [`${traffic.id}/${traffic.steps.at(-2)!.id} → ${last} (next step's state)`, async () => void (await restore(deepBefore)), deep],
      [`${traffic.id}/${last} → ${bookinfo.id}/destination-rules (another track)`, async () => void (await restore(deep)), gateway],
    ];
    process.stdout.write('\nrestore into a learner\'s cluster process (5 runs each): median in the cluster process / round trip from the server\n');
    for (const [name, before, target] of cases) {
      const inChild: number[] = [];
      const round: number[] = [];
      let counts: Record<string, number> = {};
      for (let i = 0; i < 5; i++) {
        await before();
        const r = await restore(target);
        inChild.push(r.inChild);
        round.push(r.roundTrip);
        counts = r.counts;
      }
      process.stdout.write(`  ${name}: ${median(inChild).toFixed(0)} ms / ${median(round).toFixed(0)} ms (min ${Math.min(...round).toFixed(0)}, max ${Math.max(...round).toFixed(0)}; ${JSON.stringify(counts)})  target < 1000 ms\n`);
    }
  } finally {
    await backend.close();
    await states.close();
    await download.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
