/**
 * The real kubectl against the embedded cluster: explain (OpenAPI v3), apply with field
 * validation, server-side tables.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../server/sim/cluster.js';

const run = promisify(execFile);
const REF = join(import.meta.dirname, '../../../shared/reference/istio');
let cluster: EmbeddedCluster;
let dir: string;

async function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-openapi-'));
  cluster = await EmbeddedCluster.start();
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubectl explain', () => {
  it('explains pods with the API descriptions', async () => {
    const r = await kubectl('explain', 'pods');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('KIND:       Pod\nVERSION:    v1\n');
    expect(r.stdout).toContain('Pod is a collection of containers that can run on a host.');
    expect(r.stdout).toMatch(/\n  spec\t<PodSpec>\n/);
    expect(r.stdout).toMatch(/\n  apiVersion\t<string>\n    APIVersion defines the versioned schema/);
  });

  it('follows a field path through a deployment', async () => {
    const r = await kubectl('explain', 'deployment.spec.strategy.rollingUpdate');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n');
    expect(r.stdout).toContain('FIELD: rollingUpdate <RollingUpdateDeployment>');
    expect(r.stdout).toMatch(/maxSurge\t<IntOrString>/);
    const t = await kubectl('explain', 'deployment.spec.template.spec.containers.imagePullPolicy');
    expect(t.stdout).toContain('FIELD: imagePullPolicy <string>');
    expect(t.stdout).toMatch(/ENUM:\n    Always\n    IfNotPresent\n    Never/);
  });

  it('says so for a field that does not exist', async () => {
    const r = await kubectl('explain', 'pods.spec.nope');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error: field "nope" does not exist');
  });
});

describe('kubectl apply with field validation', () => {
  it('refuses a typo with kube-apiserver\'s strict decoding error', async () => {
    const manifest = readFileSync(join(REF, 'samples/bookinfo.yaml'), 'utf8')
      .split(/^---$/m)
      .find((d) => d.includes('name: details-v1'))!
      .replace('imagePullPolicy:', 'imagePullPolicyy:');
    writeFileSync(join(dir, 'typo.yaml'), manifest);
    const r = await kubectl('apply', '-f', join(dir, 'typo.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`Error from server (BadRequest): error when creating "${join(dir, 'typo.yaml')}": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolicyy"`);
    expect((await kubectl('get', 'deployment', 'details-v1')).code).toBe(1);
  });

  it('warns instead with --validate=warn and creates the object', async () => {
    const r = await kubectl('apply', '--validate=warn', '-f', join(dir, 'typo.yaml'));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: unknown field "spec.template.spec.containers[0].imagePullPolicyy"');
    expect(r.stdout).toContain('deployment.apps/details-v1 created');
  });

  it('applies the real Bookinfo manifest cleanly and prints server-side columns', async () => {
    // The Warn test above left a details-v1 behind; start from a clean slate.
    await kubectl('delete', 'deployment', 'details-v1', '--wait=false');
    const r = await kubectl('apply', '-f', join(REF, 'samples/bookinfo.yaml'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('service/productpage created');
    const svc = await kubectl('get', 'services');
    expect(svc.stdout.split('\n')[0]!.trim().split(/\s{2,}/)).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    expect(svc.stdout).toMatch(/\nproductpage\s+ClusterIP\s+\S+\s+<none>\s+9080\/TCP\s+\d+s\n/);
    const deploy = await kubectl('get', 'deployments', '-o', 'wide');
    expect(deploy.stdout.split('\n')[0]!.trim().split(/\s{2,}/)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(deploy.stdout).toMatch(/\nreviews-v2\s+\d\/1\s+\d+\s+\d+\s+\d+s\s+reviews\s+registry\.istio\.io\/release\/examples-bookinfo-reviews-v2:1\.20\.3\s+app=reviews,version=v2\n/);
  });
});
