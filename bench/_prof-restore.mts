import fs from 'node:fs';
import path from 'node:path';
import { EmbeddedCluster } from '/work/wt/steps15/server/sim/cluster.js';
import { rebaseState } from '/work/wt/steps15/server/sim/storage/rebase.js';
const dir = '/tmp/pg-bench-step-states';
const metas = fs.readdirSync(dir).filter(d=>!d.startsWith('.')).map(d => JSON.parse(fs.readFileSync(path.join(dir,d,'meta.json'),'utf8')));
const deep = metas.find(m => m.trackId==='istio-traffic' && m.stepId==='clean-up');
const c = await EmbeddedCluster.start({ workloads: true });
const block = c.workloads!.nodes.nodes[0]!.ip.replace(/\.\d+$/, '');
import inspector from 'node:inspector/promises';
const ses = new inspector.Session(); ses.connect();
for (let i=0;i<4;i++){
  if (i===2) { await ses.post('Profiler.enable'); await ses.post('Profiler.start'); }
  let t = performance.now();
  const text = rebaseState(fs.readFileSync(path.join(dir, deep.key, 'cluster.json'),'utf8'), deep.nodeBlock, block, Date.now()-deep.capturedAt);
  const t1 = performance.now();
  const s = JSON.parse(text);
  const t2 = performance.now();
  const counts = c.registry.batch(() => c.store.replaceContents(s.store, new Set(["/nodes","coordination.k8s.io/leases"]), ["apiextensions.k8s.io/customresourcedefinitions"]));
  const t3 = performance.now();
  
  const t4 = performance.now();
  const rv0 = c.store.currentRV;
  const ctrls = [...(c as any).controllers];
  for (let pass = 0; pass < 200; pass++) { const rv = c.store.currentRV; for (const k of ctrls) { const a = performance.now(); await k.idle(); const d = performance.now() - a; if (d > 20) console.log('  pass', pass, k.name, d.toFixed(0)); } if (c.store.currentRV === rv) { console.log('  passes', pass, 'rv+', c.store.currentRV - rv0); break; } }
  const t5 = performance.now();
  console.log(`rebase ${(t1-t).toFixed(0)} parse ${(t2-t1).toFixed(0)} replace ${(t3-t2).toFixed(0)} sync ${(t4-t3).toFixed(0)} settle ${(t5-t4).toFixed(0)}`, counts);
}
const { profile } = await ses.post('Profiler.stop') as any; fs.writeFileSync('/tmp/profr/x.cpuprofile', JSON.stringify(profile));
await c.stop();
process.exit(0);
