/**
 * Does a V8 fatal error inside a worker_thread end its parent? `node worker-fatal.mjs KIND`
 * starts one worker with resourceLimits that fails in the way KIND names, and prints
 * "parent survived" if the parent outlives it. Used by learners.bench.ts to decide containment.
 *  - heap: the JS heap reaches the worker's maxOldGenerationSizeMb (V8's near-heap-limit path)
 *  - yaml: 5,000 nested `[` parsed by the yaml package, as a learner's hostile body once did: the
 *    recursion fails, then V8's RegExp compiler fails to allocate its zone (FatalProcessOutOfMemory)
 */
import { Worker, isMainThread, workerData } from 'node:worker_threads';

if (isMainThread) {
  const kind = process.argv[2];
  const w = new Worker(new URL(import.meta.url), { workerData: kind, resourceLimits: { maxOldGenerationSizeMb: 64 } });
  w.on('error', (e) => console.log(`worker error: ${e.code ?? ''} ${e.message.split('\n')[0]}`));
  w.on('exit', (code) => {
    console.log(`worker exited (${code})`);
    setTimeout(() => console.log('parent survived'), 200);
  });
} else if (workerData === 'heap') {
  const a = [];
  for (;;) a.push(new Array(1e5).fill({ x: Math.random() }));
} else if (workerData === 'yaml') {
  const YAML = (await import('yaml')).default;
  for (let i = 0; i < 3; i++) {
    try {
      YAML.parse('['.repeat(5000));
    } catch (e) {
      console.log(`worker caught: ${e.message.split('\n')[0]}`);
    }
  }
}
