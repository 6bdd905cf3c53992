/**
 * The server's kubeconfig reader against client-node's KubeConfig as the oracle: the same file
 * must yield the same TLS material and credentials (data and file fields, relative paths,
 * YAML 1.1 booleans, tokens, token files, exec credential plugins, basic auth, impersonation),
 * and what it cannot do must say so.
 */
import fs from 'node:fs';
import type https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kubeconfig } from '../../server/cluster/kubeconfig.js';

let dir: string;
const b64 = (s: string) => Buffer.from(s).toString('base64');

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-kubeconfig-'));
  fs.mkdirSync(path.join(dir, 'pki'));
  fs.writeFileSync(path.join(dir, 'pki', 'ca.crt'), 'CA FROM FILE');
  fs.writeFileSync(path.join(dir, 'pki', 'client.crt'), 'CERT FROM FILE');
  fs.writeFileSync(path.join(dir, 'pki', 'client.key'), 'KEY FROM FILE');
  fs.writeFileSync(path.join(dir, 'token'), 'token-from-file');
  // An exec credential plugin, as kubelogin or `aws eks get-token` are.
  const plugin = path.join(dir, 'credential-plugin');
  fs.writeFileSync(plugin, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec-'"$PLUGIN_ARG"'"}}'\n`, { mode: 0o755 });
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const kubeconfigText = `
apiVersion: v1
kind: Config
current-context: data
clusters:
- name: data
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: ${b64('CA DATA')}
    tls-server-name: kubernetes.default
- name: files
  cluster:
    server: https://10.0.0.2:6443
    certificate-authority: pki/ca.crt
- name: insecure
  cluster:
    server: https://10.0.0.3:6443
    insecure-skip-tls-verify: true
- name: insecure-yes
  cluster:
    server: https://10.0.0.4:6443
    insecure-skip-tls-verify: yes
users:
- name: certs
  user:
    client-certificate-data: ${b64('CERT DATA')}
    client-key-data: ${b64('KEY DATA')}
- name: cert-files
  user:
    client-certificate: pki/client.crt
    client-key: pki/client.key
- name: token
  user:
    token: plain-token
    as: someone-else
- name: token-file
  user:
    token-file: TOKEN_FILE
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: CREDENTIAL_PLUGIN
      env:
      - name: PLUGIN_ARG
        value: learner
      interactiveMode: Never
- name: basic
  user:
    username: admin
    password: secret
contexts:
- name: data
  context: { cluster: data, user: certs }
- name: files
  context: { cluster: files, user: cert-files }
- name: insecure
  context: { cluster: insecure, user: token }
- name: token-file
  context: { cluster: data, user: token-file }
- name: exec
  context: { cluster: data, user: exec }
- name: basic
  context: { cluster: files, user: basic }
`;

/** What a request would carry, comparable across both readers (Buffers as text). */
async function applied(kc: { applyToHTTPSOptions(o: https.RequestOptions): Promise<void> }): Promise<Record<string, unknown>> {
  const opts: https.RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const text = (v: unknown) => (Buffer.isBuffer(v) ? v.toString() : v);
  return { ca: text(opts.ca), cert: text(opts.cert), key: text(opts.key), headers: opts.headers, auth: opts.auth, rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername };
}

describe('Kubeconfig', () => {
  const file = () => write('config', kubeconfigText.replace('CREDENTIAL_PLUGIN', path.join(dir, 'credential-plugin')).replace('TOKEN_FILE', path.join(dir, 'token')));

  it.each(['data', 'files', 'insecure', 'token-file', 'exec', 'basic'])('gives the same TLS material and credentials as client-node for the %s context', async (context) => {
    const ours = new Kubeconfig();
    ours.loadFromFile(file());
    ours.setCurrentContext(context);
    const theirs = new KubeConfig();
    theirs.loadFromFile(file());
    theirs.setCurrentContext(context);
    expect(await applied(ours)).toEqual(await applied(theirs));
    expect(ours.getCurrentCluster()).toEqual(theirs.getCurrentCluster());
    expect(ours.getCurrentUser()).toEqual(theirs.getCurrentUser());
  });

  it('reads the values a learner would expect from each context', async () => {
    const kc = new Kubeconfig();
    kc.loadFromFile(file());
    expect(kc.getCurrentContext()).toBe('data');
    expect(kc.getContexts().map((c) => c.name)).toEqual(['data', 'files', 'insecure', 'token-file', 'exec', 'basic']);
    // The trailing slash of the server is dropped, as kubectl and client-node do.
    expect(kc.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    expect(await applied(kc)).toMatchObject({ ca: 'CA DATA', cert: 'CERT DATA', key: 'KEY DATA', servername: 'kubernetes.default' });
    kc.setCurrentContext('files');
    // Relative paths are relative to the kubeconfig, not to the server's working directory.
    expect(await applied(kc)).toMatchObject({ ca: 'CA FROM FILE', cert: 'CERT FROM FILE', key: 'KEY FROM FILE' });
    kc.setCurrentContext('insecure');
    expect(await applied(kc)).toMatchObject({ rejectUnauthorized: false, headers: { Authorization: 'Bearer plain-token', 'Impersonate-User': 'someone-else' } });
    kc.setCurrentContext('exec');
    expect(await applied(kc)).toMatchObject({ headers: { Authorization: 'Bearer from-exec-learner' } });
    kc.setCurrentContext('token-file');
    expect(await applied(kc)).toMatchObject({ headers: { Authorization: 'Bearer token-from-file' } });
    kc.setCurrentContext('basic');
    expect(await applied(kc)).toMatchObject({ auth: 'admin:secret' });
  });

  it('reads YAML 1.1 booleans as kubectl does (client-node reads `yes` as a string)', async () => {
    const kc = new Kubeconfig();
    kc.loadFromFile(file());
    kc.setCurrentContext('insecure');
    const yes = kc.getCluster('insecure-yes');
    // `KUBECONFIG=… kubectl config view` prints "insecure-skip-tls-verify": true for this cluster.
    expect(yes?.skipTLSVerify).toBe(true);
  });

  it('exports a kubeconfig that reads back the same, with absolute paths', async () => {
    const kc = new Kubeconfig();
    kc.loadFromFile(file());
    kc.setCurrentContext('files');
    const copy = new Kubeconfig();
    copy.loadFromString(kc.exportConfig());
    expect(copy.getCurrentContext()).toBe('files');
    expect(copy.getCurrentCluster()?.caFile).toBe(path.join(dir, 'pki', 'ca.crt'));
    expect(await applied(copy)).toEqual(await applied(kc));
    // client-node reads our export as its own.
    const theirs = new KubeConfig();
    theirs.loadFromString(kc.exportConfig());
    expect(await applied(theirs)).toEqual(await applied(kc));
  });

  it('refuses malformed kubeconfigs with the reason', () => {
    const kc = new Kubeconfig();
    expect(() => kc.loadFromString('clusters:\n- name: x\n  cluster: {}\n')).toThrow('clusters[0].cluster.server is missing');
    expect(() => kc.loadFromString('clusters: [\n')).toThrow();
    expect(() => kc.loadFromString('- just\n- a list\n')).toThrow('a kubeconfig must be a YAML mapping');
  });

  it('says so when a kubeconfig names an auth-provider it has no plugin for', async () => {
    const kc = new Kubeconfig();
    kc.loadFromString(`
clusters: [{ name: c, cluster: { server: 'https://10.0.0.1' } }]
users: [{ name: u, user: { auth-provider: { name: keystone, config: {} } } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`);
    await expect(kc.applyToHTTPSOptions({ headers: {} })).rejects.toThrow('the kubeconfig\'s auth-provider "keystone" is not supported (use an exec credential plugin)');
  });
});
