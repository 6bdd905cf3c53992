/**
 * scripts/fetch-istio.sh against a STAND-IN release server: a local HTTP server serving a fake
 * Istio tarball (a release-shaped folder whose istioctl is a two-line script) and its `.sha256`,
 * laid out as github.com/istio/istio/releases/download is. The real download needs internet.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchedIstioBin, istioReleaseDir } from '../../server/cluster/istio-release-dir.js';

const run = promisify(execFile);
const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/fetch-istio.sh');
const VERSION = '1.30.3';
const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';
const NAME = `istio-${VERSION}-linux-${ARCH}.tar.gz`;

let work: string;
let tarball: Buffer;
let checksum: string;
let served: string[];
let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'fetch-istio-'));
  const release = path.join(work, 'release', `istio-${VERSION}`);
  fs.mkdirSync(path.join(release, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(release, 'samples', 'bookinfo', 'platform', 'kube'), { recursive: true });
  fs.writeFileSync(path.join(release, 'bin', 'istioctl'), `#!/bin/sh\necho "stand-in istioctl ${VERSION}"\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(release, 'samples', 'bookinfo', 'platform', 'kube', 'bookinfo.yaml'), '# stand-in\n');
  await run('tar', ['-czf', path.join(work, NAME), '-C', path.join(work, 'release'), `istio-${VERSION}`]);
  tarball = fs.readFileSync(path.join(work, NAME));
  checksum = `${createHash('sha256').update(tarball).digest('hex')}  ${NAME}\n`;
  server = http.createServer((req, res) => {
    served.push(req.url ?? '');
    if (req.url === `/${VERSION}/${NAME}`) return void res.end(tarball);
    if (req.url === `/${VERSION}/${NAME}.sha256`) return void res.end(checksum);
    res.statusCode = 404;
    res.end('Not Found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(work, { recursive: true, force: true });
});

let dataDir: string;
beforeEach(() => {
  served = [];
  dataDir = fs.mkdtempSync(path.join(work, 'data-'));
});

function fetchIstio(env: Record<string, string> = {}) {
  return run('bash', [SCRIPT, '--data-dir', dataDir], { env: { PATH: process.env.PATH!, ISTIO_RELEASE_BASE_URL: baseUrl, ...env } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('scripts/fetch-istio.sh (stand-in release server)', () => {
  it('downloads the pinned release for this machine, verifies it, and unpacks it where the server looks', async () => {
    const r = await fetchIstio();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(served).toEqual([`/${VERSION}/${NAME}`, `/${VERSION}/${NAME}.sha256`]);
    const bin = path.join(istioReleaseDir(dataDir, VERSION), 'bin');
    expect(r.stdout.trim().split('\n').at(-1)).toBe(bin);
    expect(fetchedIstioBin(dataDir, VERSION)).toBe(bin);
    expect((await run(path.join(bin, 'istioctl'), [])).stdout).toBe(`stand-in istioctl ${VERSION}\n`);
    expect(fs.existsSync(path.join(istioReleaseDir(dataDir, VERSION), 'samples/bookinfo/platform/kube/bookinfo.yaml'))).toBe(true);
  });

  it('does nothing the second time', async () => {
    await fetchIstio();
    served = [];
    const again = await fetchIstio();
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Istio ${VERSION} is already in`);
    expect(served).toEqual([]);
  });

  it('refuses a tarball whose sha256 does not match the published one, and installs nothing', async () => {
    const good = checksum;
    checksum = `${'0'.repeat(64)}  ${NAME}\n`;
    try {
      const r = await fetchIstio();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`fetch-istio: checksum mismatch for ${NAME}: expected ${'0'.repeat(64)} (from ${baseUrl}/${VERSION}/${NAME}.sha256), got ${createHash('sha256').update(tarball).digest('hex')}. Nothing was installed.`);
      expect(fetchedIstioBin(dataDir, VERSION)).toBeUndefined();
      // No half-made folder is left behind to be mistaken for a release.
      expect(fs.readdirSync(path.join(dataDir, 'istio', VERSION))).toEqual([]);
    } finally {
      checksum = good;
    }
  });

  it('fails clearly when the release or its checksum is missing', async () => {
    const r = await fetchIstio({ ISTIO_VERSION: '1.30.99' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`fetch-istio: could not download ${baseUrl}/1.30.99/istio-1.30.99-linux-${ARCH}.tar.gz`);
    const bad = await fetchIstio({ ISTIO_VERSION: 'latest' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('fetch-istio: ISTIO_VERSION must look like 1.30.3 (got "latest")\n');
  });
});
