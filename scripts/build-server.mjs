#!/usr/bin/env node
/**
 * Builds the server into dist/server/ so `npm start` runs it with node alone: one ESM bundle
 * (dist/server/main.js) plus chunks that load on first use (the embedded cluster's lazy modules,
 * the check engine, …).
 *
 * Why a bundle rather than tsc's one-file-per-module output: the server's memory. Bundling
 * tree-shakes what a package exports but we never call, and V8 keeps every loaded module's
 * source text in memory, so whitespace is minified too. Identifiers are kept (readable stack traces); linked source maps are written
 * for `node --enable-source-maps` when debugging. Type checking is `npm run typecheck`'s job.
 *
 * Native addons stay external (they load their .node files relative to their package), as do
 * packages the server reaches only through createRequire.
 *
 * Usage: node scripts/build-server.mjs [--outdir DIR]   (default dist/server; tests that run the
 * built code while another test rebuilds dist/ build into a folder of their own)
 */
import { cp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = path.join(root, 'server');
const outdirFlag = process.argv.indexOf('--outdir');
const outDir = outdirFlag === -1 ? path.join(root, 'dist', 'server') : path.resolve(process.argv[outdirFlag + 1]);

/** Programs of their own: the server, and what it runs in child processes (lesson compiler, one embedded cluster per learner). */
const entryPoints = ['main.ts', 'lessons/compile-main.ts', 'cluster/sim-child.ts'].map((f) => path.join(sourceDir, f));

/**
 * Addons with .node binaries; CommonJS packages loaded through createRequire at run time; and
 * iconv-lite, which express requires at start-up but whose ~500 KB of encoding tables we never
 * call (server/http/json-body.ts): left to Node's loader, only its small index is read.
 * esbuild (its binary cannot be bundled) builds the Istio release's istioctl on first download.
 */
const external = ['node-pty', 'better-sqlite3', 'spdy-transport', 'iconv-lite', 'esbuild'];

/** Folders of data files (not code) the server reads at run time, relative to server/. */
const runtimeFiles = ['sim/addons/core/manifests'];

/**
 * Bundled CommonJS code calls require() for Node's built-ins; ESM output has no `require`, so
 * each file gets one. The odd local name keeps it from colliding with a bundled module's own.
 */
const banner = "import { createRequire as __playgroundCreateRequire } from 'node:module'; const require = __playgroundCreateRequire(import.meta.url);";

async function main() {
  const started = Date.now();
  // Chunk names carry content hashes: without a clean folder, stale chunks pile up.
  await rm(outDir, { recursive: true, force: true });
  const result = await build({
    entryPoints,
    outdir: outDir,
    outbase: sourceDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external,
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    sourcemap: 'linked',
    metafile: true,
    banner: { js: banner },
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
  });
  // Files the server reads at run time, under the same path below dist/server/ as below server/
  // (the embedded cluster's system manifests: server/sim/addons/core/system-workloads.ts).
  for (const dir of runtimeFiles) await cp(path.join(sourceDir, dir), path.join(outDir, dir), { recursive: true });
  // What each output holds, for `npm run bench -- memory` and for anyone asking why it is big.
  await writeFile(path.join(outDir, '..', 'server-meta.json'), JSON.stringify(result.metafile));
  const main = Object.values(result.metafile.outputs).find((o) => o.entryPoint?.endsWith('server/main.ts'));
  const kib = (n) => `${Math.round(n / 1024)} KiB`;
  console.log(`server built into ${path.relative(root, outDir)}/ in ${Date.now() - started} ms (main.js ${main ? kib(main.bytes) : '?'}, ${Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js')).length} files)`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
