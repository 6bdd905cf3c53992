#!/usr/bin/env node
/**
 * Builds the browser client into dist/client/ (served by the server as static files):
 *   index.html        the page, referencing the assets with a content hash query (cache busting)
 *   assets/boot.js    tiny classic script run before first paint (sets the theme: no flash)
 *   assets/app.js     the application bundle
 *   assets/app.css    all styles, xterm's included
 *   assets/fonts/     self-hosted fonts (no third-party requests: CSP allows only 'self')
 *
 * Usage: node scripts/build-client.mjs [--watch] [--dev]   (--dev: no minification)
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist', 'client');
const assetsDir = path.join(outDir, 'assets');
const watch = process.argv.includes('--watch');
const dev = process.argv.includes('--dev');

/** @type {import('esbuild').BuildOptions} */
const common = {
  absWorkingDir: root,
  bundle: true,
  minify: !dev,
  sourcemap: true,
  target: ['chrome110', 'firefox115', 'safari16'],
  logLevel: 'warning',
  legalComments: 'linked',
};

const builds = [
  {
    ...common,
    entryPoints: { boot: 'client/boot.ts' },
    outdir: assetsDir,
    format: 'iife',
  },
  {
    ...common,
    entryPoints: { app: 'client/main.ts' },
    outdir: assetsDir,
    format: 'iife',
  },
  {
    ...common,
    entryPoints: { admin: 'client/admin/main.ts' },
    outdir: assetsDir,
    format: 'iife',
  },
  {
    ...common,
    entryPoints: { app: 'client/styles/app.css', admin: 'client/styles/admin.css' },
    outdir: assetsDir,
    loader: { '.woff2': 'file', '.woff': 'file' },
    assetNames: 'fonts/[name]-[hash]',
  },
];

async function hashOf(file) {
  const content = await readFile(path.join(assetsDir, file));
  return createHash('sha256').update(content).digest('hex').slice(0, 12);
}

async function writeIndexHtml() {
  const template = await readFile(path.join(root, 'client', 'index.html'), 'utf8');
  let html = template;
  for (const asset of ['boot.js', 'app.js', 'app.css']) {
    html = html.replaceAll(`assets/${asset}"`, `assets/${asset}?v=${await hashOf(asset)}"`);
  }
  await writeFile(path.join(outDir, 'index.html'), html);
  await copyFile(path.join(root, 'client', 'favicon.svg'), path.join(assetsDir, 'favicon.svg'));
  // The instructor's page (/admin), same assets scheme.
  let admin = await readFile(path.join(root, 'client', 'admin.html'), 'utf8');
  for (const asset of ['boot.js', 'admin.js', 'admin.css']) {
    admin = admin.replaceAll(`assets/${asset}"`, `assets/${asset}?v=${await hashOf(asset)}"`);
  }
  await writeFile(path.join(outDir, 'admin.html'), admin);
}

async function main() {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(assetsDir, { recursive: true });
  if (watch) {
    const contexts = await Promise.all(
      builds.map((options) =>
        esbuild.context({
          ...options,
          plugins: [{ name: 'index-html', setup: (b) => b.onEnd(() => writeIndexHtml().catch(console.error)) }],
        }),
      ),
    );
    await Promise.all(contexts.map((c) => c.watch()));
    console.log('watching client/ …');
    return;
  }
  const started = Date.now();
  await Promise.all(builds.map((options) => esbuild.build(options)));
  await writeIndexHtml();
  console.log(`client built into ${path.relative(root, outDir)}/ in ${Date.now() - started} ms`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
