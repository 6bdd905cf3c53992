#!/usr/bin/env node
/**
 * Compiles the server to plain JavaScript in dist/server/ so `npm start` runs it with node alone:
 * the tsx loader costs ~35 MB of RSS and start-up time that a user gains nothing from.
 * The source layout is kept (dist/server/... mirrors server/...) because modules find siblings
 * through import.meta.url (dynamic plugin imports, createRequire of JSON), and the non-TypeScript
 * files they read at run time are copied next to the compiled code.
 *
 * Usage: node scripts/build-server.mjs
 */
import { spawnSync } from 'node:child_process';
import { cp, readdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = path.join(root, 'server');
const outDir = path.join(root, 'dist', 'server');
const buildInfo = path.join(root, 'dist', '.server.tsbuildinfo');

async function exists(file) {
  return stat(file).then(() => true, () => false);
}

/** Every file under dir that the compiler does not emit (JSON schemas and the like). */
async function assetsUnder(dir) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await assetsUnder(full)));
    else if (!/\.(ts|md)$/.test(entry.name)) found.push(full);
  }
  return found;
}

async function main() {
  const started = Date.now();
  // tsc's incremental build trusts its build info; without the output it would emit nothing.
  if (!(await exists(path.join(outDir, 'main.js')))) await rm(buildInfo, { force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`server build failed (tsc exited with ${result.status ?? result.signal})`);
  const assets = await assetsUnder(sourceDir);
  await Promise.all(assets.map((file) => cp(file, path.join(outDir, path.relative(sourceDir, file)))));
  console.log(`server built into ${path.relative(root, outDir)}/ in ${Date.now() - started} ms (${assets.length} asset${assets.length === 1 ? '' : 's'} copied)`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
