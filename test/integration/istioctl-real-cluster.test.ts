/**
 * The embedded cluster's istioctl refuses any other cluster, so it never half-drives a real one:
 * against a STAND-IN for a real kube-apiserver (HTTPS, answering /version as kube-apiserver does,
 * without the embedded cluster's marker header) every cluster command stops with the message
 * pointing at the real istioctl. Real clusters get the real istioctl (scripts/fetch-istio.sh).
 */
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../server/sim/addons/istio/istioctl/main.js';
import type { CommandIO } from '../../server/sim/addons/istio/istioctl/io.js';
import { createServingCert } from '../../server/sim/apiserver/tls.js';

let server: https.Server;
let kubeconfig: string;
let origin: string;
const requests: string[] = [];

beforeAll(async () => {
  const cert = createServingCert(['127.0.0.1']);
  server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader('Content-Type', 'application/json');
    if (req.url === '/version') return void res.end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.2', platform: 'linux/amd64' }));
    res.statusCode = 404;
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'istioctl-real-'));
  kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'real', cluster: { server: origin, 'certificate-authority-data': Buffer.from(cert.caPem).toString('base64') } }],
      users: [{ name: 'real', user: { token: 'real-cluster-token' } }],
      contexts: [{ name: 'real', context: { cluster: 'real', user: 'real' } }],
      'current-context': 'real',
    }),
  );
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
});

async function istioctl(...argv: string[]) {
  let out = '';
  let err = '';
  const io: CommandIO = { out: (t) => void (out += t), err: (t) => void (err += t), readLine: async () => null, tty: false };
  return { code: await run([...argv, '--kubeconfig', kubeconfig], io), out, err };
}

describe("the embedded cluster's istioctl on a real cluster (stand-in API server)", () => {
  it.each([
    ['install', '--set', 'profile=demo', '-y'],
    ['version'],
    ['proxy-status'],
    ['analyze'],
  ])('istioctl %s refuses it and names the real istioctl', async (...argv) => {
    requests.length = 0;
    const r = await istioctl(...argv);
    expect(r).toEqual({
      code: 1,
      out: '',
      err:
        `Error: this istioctl belongs to istio-playground and only drives the playground's embedded cluster; ${origin} is not one.\n` +
        'Use the real istioctl for this cluster: https://istio.io/latest/docs/setup/install/istioctl/ (curl -L https://istio.io/downloadIstio | ISTIO_VERSION=1.30.3 sh -)\n',
    });
    // It asked who the server is and nothing more: nothing was applied to the real cluster.
    expect(requests).toEqual(['GET /version']);
  });
});
