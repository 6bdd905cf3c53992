import { Worker, isMainThread, workerData } from 'node:worker_threads';
if (isMainThread) {
  const kind = process.argv[2];
  const w = new Worker(new URL(import.meta.url), { workerData: kind, resourceLimits: { maxOldGenerationSizeMb: 64 } });
  w.on('error', (e) => console.log('parent: worker error', e.code, e.message));
  w.on('exit', (c) => { console.log('parent: worker exit', c, 'parent alive'); setTimeout(() => console.log('parent still alive after 200ms'), 200); });
} else {
  if (workerData === 'heap') { const a = []; for (;;) a.push(new Array(1e5).fill({x: Math.random()})); }
  if (workerData === 'yaml') {
    const YAML = (await import('/work/wt/containment/node_modules/yaml/dist/index.js')).default;
    for (let i = 0; i < 3; i++) { try { YAML.parse('['.repeat(5000)); } catch (e) { console.log('w caught', e.message.slice(0, 80)); } }
  }
  if (workerData === 'regexp') {
    // A huge regexp compile: RegExpCompiler zone allocation
    const src = '(?:a|b)'.repeat(1) ; let s = ''; for (let i = 0; i < 200000; i++) s += '(a'; s += ')'.repeat(200000);
    try { new RegExp(s).test('a'); } catch (e) { console.log('w caught', e.message.slice(0, 80)); }
  }
  if (workerData === 'string') { let s = 'x'; for (;;) s = s + s; }
  if (workerData === 'buf') { const a = []; for (;;) a.push(Buffer.alloc(1 << 26, 1)); }
}
