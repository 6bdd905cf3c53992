/**
 * The release tarball istio-<version>-linux-<arch>.tar.gz, shaped like Istio's: bin/istioctl (this
 * project's istioctl bundled into one self-contained node script, so any user can run it without
 * the server's sources), samples/, manifests/profiles/, manifest.yaml, LICENSE, README.md.
 * Built once per content and cached as a file; concurrent callers share one build.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ISTIO_VERSION } from '../version.js';
import { PROFILE_FILES } from '../manifests/profiles.js';
import { istioSpecSchemas } from '../manifests/crd-schemas.js';
import { sampleFiles } from './samples.js';
import { tar, type TarEntry } from './tar.js';

const here = dirname(fileURLToPath(import.meta.url));

function findUp(start: string, file: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, file))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${file} above ${start}`);
    dir = parent;
  }
}

/** The add-on's source folder (also when this module runs from the server bundle in dist/). */
function addonSourceDir(): string {
  const root = findUp(here, 'package.json');
  return join(root, 'server', 'sim', 'addons', 'istio');
}

function sourceDigest(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(p).update(readFileSync(p));
    }
  };
  walk(dir);
  h.update(readFileSync(join(dir, '..', '..', '..', 'cluster', 'kubeconfig.ts')));
  return h.digest('hex').slice(0, 16);
}

/** istioctl as one CommonJS file with a shebang; the CRD schemas are inlined so node_modules is not needed. */
export async function bundleIstioctl(): Promise<Buffer> {
  const esbuild = await import('esbuild');
  const dir = addonSourceDir();
  const schemas = JSON.stringify(istioSpecSchemas());
  const result = await esbuild.build({
    entryPoints: [join(dir, 'istioctl', 'bin.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    // Smaller is faster to start: every istioctl run parses the whole file.
    minify: true,
    legalComments: 'none',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'silent',
    plugins: [
      {
        name: 'inline-crd-schemas',
        setup(b) {
          b.onLoad({ filter: /crd-schemas\.ts$/ }, () => ({ contents: `export function istioSpecSchemas(){return ${schemas}}`, loader: 'ts' }));
        },
      },
    ],
  });
  // esbuild keeps a service process alive after a build; a server builds this once.
  await esbuild.stop();
  return Buffer.from(result.outputFiles[0]!.contents);
}

function manifestYaml(): string {
  return `# Used by istio/release to build the release tarball.
dependencies:
  api:
    sha: 1.30.3
    goversionenabled: true
  client-go:
    sha: 1.30.3
    goversionenabled: true
  istio:
    sha: 1.30.3
  proxy:
    sha: 1.30.3
  ztunnel:
    sha: 1.30.3
docker: docker.io/istio
version: ${ISTIO_VERSION}
`;
}

async function buildTarball(istioctl: Buffer): Promise<Buffer> {
  const root = `istio-${ISTIO_VERSION}`;
  const files: Record<string, { data: Buffer; mode: number }> = {
    'bin/istioctl': { data: istioctl, mode: 0o755 },
    'manifest.yaml': { data: Buffer.from(manifestYaml()), mode: 0o644 },
    LICENSE: { data: Buffer.from('Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/\n'), mode: 0o644 },
    'README.md': {
      data: Buffer.from(`# Istio ${ISTIO_VERSION} (istio-playground)\n\nThe release layout of Istio ${ISTIO_VERSION} for istio-playground's embedded cluster: bin/istioctl drives the\nembedded cluster only; the samples create the same objects as Istio's.\n`),
      mode: 0o644,
    },
  };
  for (const [name, text] of Object.entries(PROFILE_FILES)) files[`manifests/profiles/${name}`] = { data: Buffer.from(text), mode: 0o644 };
  for (const [path, text] of Object.entries(sampleFiles())) files[path] = { data: Buffer.from(text), mode: 0o644 };
  const dirs = new Set<string>([root]);
  for (const p of Object.keys(files)) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`${root}/${parts.slice(0, i).join('/')}`);
  }
  const entries: TarEntry[] = [
    ...[...dirs].sort().map((d) => ({ path: d, mode: 0o755 })),
    ...Object.keys(files).sort().map((p) => ({ path: `${root}/${p}`, data: files[p]!.data, mode: files[p]!.mode })),
  ];
  return gzipSync(tar(entries, Math.floor(Date.UTC(2026, 0, 1) / 1000)), { level: 6 });
}

const building = new Map<string, Promise<Buffer>>();

/** The release tarball, from `cacheDir` when this content was built before. */
export function releaseTarball(cacheDir: string): Promise<Buffer> {
  let p = building.get(cacheDir);
  if (!p) {
    p = (async () => {
      const file = join(cacheDir, `istio-${ISTIO_VERSION}-${sourceDigest(addonSourceDir())}.tar.gz`);
      if (existsSync(file)) return readFileSync(file);
      const data = await buildTarball(await bundleIstioctl());
      mkdirSync(cacheDir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, data);
      renameSync(tmp, file);
      return data;
    })();
    p.catch(() => building.delete(cacheDir));
    building.set(cacheDir, p);
  }
  return p;
}
