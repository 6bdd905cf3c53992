/**
 * Every check kind, passing and failing on purpose against the embedded cluster, with the
 * messages a learner reads.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckContext, loadKubeConfig } from '../../server/checks/context.js';
import { evaluateStep } from '../../server/checks/evaluate.js';
import { evaluateCheck, type CheckContext } from '../../server/checks/kinds/index.js';
import { parseCheck, type CheckSpec } from '../../server/checks/schema.js';
import type { TerminalCommand } from '../../server/terminal/commands.js';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { ZERO_TIMINGS } from '../../server/sim/addons/core/workloads.js';

const run = promisify(execFile);
let cluster: EmbeddedCluster;
let dir: string;
let kubeconfig: string;
let ctx: CheckContext;
let commands: TerminalCommand[] = [];

const kubectl = (...args: string[]) => run('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
const check = (raw: unknown): CheckSpec => {
  const parsed = parseCheck(raw);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.check;
};
const verdict = (raw: unknown) => evaluateCheck(check({ title: 't', ...(raw as object) }), ctx);

beforeAll(async () => {
  cluster = await EmbeddedCluster.start({ workloads: { timings: ZERO_TIMINGS } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-check-kinds-'));
  kubeconfig = path.join(dir, 'kubeconfig');
  await cluster.writeKubeconfig(kubeconfig);
  ctx = createCheckContext({
    kc: loadKubeConfig(kubeconfig),
    commands: () => commands,
    shell: { cwd: dir, env: { PATH: process.env.PATH ?? '', KUBECONFIG: kubeconfig, HOME: dir } },
  });
  await kubectl('create', 'deployment', 'web', '--image=nginx', '--replicas=2');
  await kubectl('expose', 'deployment', 'web', '--port=80');
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s');
});

afterAll(async () => {
  await cluster?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('resource checks', () => {
  it('pass when the object has the fields, and say what differs when not', async () => {
    expect(await verdict({ resource: { apiVersion: 'v1', kind: 'Service', name: 'web', fields: [{ path: 'spec.ports[0].port', equals: 80 }] } })).toEqual({
      passed: true,
      found: 'Service "web" in namespace "default" is as expected',
    });
    expect(await verdict({ resource: { apiVersion: 'v1', kind: 'Service', name: 'web', fields: [{ path: 'spec.type', equals: 'NodePort' }] } })).toEqual({
      passed: false,
      found: 'Service "web": spec.type is "ClusterIP", expected "NodePort"',
    });
  });

  it('report a missing object, a missing kind, absence and counts', async () => {
    expect(await verdict({ resource: { apiVersion: 'v1', kind: 'ConfigMap', name: 'nope' } })).toEqual({ passed: false, found: 'no ConfigMap "nope" in namespace "default"' });
    expect(await verdict({ resource: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', name: 'reviews' } })).toEqual({
      passed: false,
      found: 'the cluster has no VirtualService resource in networking.istio.io/v1 (is its CustomResourceDefinition installed?)',
    });
    expect(await verdict({ resource: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', absent: true } })).toEqual({
      passed: false,
      found: 'Deployment "web" in namespace "default" still exists: web',
    });
    expect(await verdict({ resource: { apiVersion: 'v1', kind: 'Node', count: 3 } })).toMatchObject({ passed: true });
    expect(await verdict({ resource: { apiVersion: 'v1', kind: 'Pod', selector: 'app=web', count: { min: 5 } } })).toEqual({
      passed: false,
      found: 'found 2 Pod objects matching app=web in namespace "default", expected at least 5',
    });
    expect(await verdict({ resource: { apiVersion: 'v1', kind: 'Node', selector: 'node-role.kubernetes.io/control-plane', fields: [{ path: "metadata.labels['kubernetes.io/hostname']", matches: '^control' }] } })).toMatchObject({ passed: true });
  });
});

describe('workload checks', () => {
  it('pass for an available Deployment and fail with the ready count otherwise', async () => {
    expect(await verdict({ workload: { deployment: 'web', readyReplicas: 2 } })).toEqual({ passed: true, found: 'Deployment "web" is available with 2 ready replicas' });
    expect(await verdict({ workload: { deployment: 'web', readyReplicas: 3 } })).toEqual({ passed: false, found: 'Deployment "web" has 2 ready replicas, expected 3' });
  });

  it('check READY n/m of every selected pod (the sidecar check)', async () => {
    expect(await verdict({ workload: { pods: 'app=web', ready: '1/1', count: 2 } })).toMatchObject({ passed: true, found: '2 pods matching app=web Running with READY 1/1' });
    const sidecar = await verdict({ workload: { pods: 'app=web', ready: '2/2' } });
    expect(sidecar.passed).toBe(false);
    expect(sidecar.found).toMatch(/^pod web-[a-z0-9]+-[a-z0-9]{5} has 1 container \(READY 1\/1\), expected 2\/2$/);
  });
});

describe('http checks', () => {
  it('reach a Service through the API proxy and judge status and body', async () => {
    expect(await verdict({ http: { service: 'web', port: 80, expect: { bodyContains: 'Welcome to nginx!' } } })).toEqual({ passed: true, found: 'Service "web":80/ answered HTTP 200 as expected' });
    const wrong = await verdict({ http: { service: 'web', port: 80, expect: { bodyContains: 'Simple Bookstore App' } } });
    expect(wrong).toEqual({ passed: false, found: 'Service "web":80/ answered HTTP 200 but the body does not contain "Simple Bookstore App"' });
  });

  it('report a Service without a NodePort, and reach one with it', async () => {
    expect(await verdict({ http: { service: 'web', port: 80, nodePort: true } })).toEqual({ passed: false, found: 'Service "web" has no NodePort (its type is ClusterIP)' });
    await kubectl('patch', 'service', 'web', '-p', '{"spec":{"type":"NodePort"}}');
    expect(await verdict({ http: { service: 'web', port: 80, nodePort: true, expect: { bodyContains: 'Welcome to nginx!' } } })).toMatchObject({ passed: true });
  });

  it('sample traffic and judge the split (all nginx → 100% one key)', async () => {
    const spec = { service: 'web', port: 80, samples: 20, key: { regex: '<title>(.*)</title>' } };
    expect(await verdict({ http: { ...spec, shares: { 'Welcome to nginx!': 1 } } })).toMatchObject({ passed: true, found: expect.stringContaining('Welcome to nginx! 100%') });
    const split = await verdict({ http: { ...spec, shares: { 'Welcome to nginx!': 0.5, other: 0.5 } } });
    expect(split.passed).toBe(false);
    expect(split.found).toMatch(/^\d+ of 20 requests to Service "web":80\/ already rule out the expected split: Welcome to nginx! 100%; expected Welcome to nginx! 50%, other 50%$/);
  });
});

describe('output checks', () => {
  it('match the terminal transcript tolerantly', async () => {
    commands = [];
    const like = { output: { like: 'NAME                    READY   STATUS    RESTARTS   AGE\nweb-7d8f9b4c5-x2kqz     1/1     Running   0          5m' } };
    expect(await verdict(like)).toEqual({ passed: false, found: 'you have not run a command in this step yet' });
    commands = [{ line: 'kubectl get pods', output: (await kubectl('get', 'pods')).stdout, exitCode: 0 }];
    expect(await verdict(like)).toEqual({ passed: true, found: 'a command you ran printed a line like “NAME READY STATUS RESTARTS AGE”' });
    expect(await verdict({ output: { ...like.output, command: 'kubectl get pods' } })).toEqual({ passed: true, found: '`kubectl get pods` printed a line like “NAME READY STATUS RESTARTS AGE”' });
    expect(await verdict({ output: { ...like.output, command: 'kubectl get deployments' } })).toEqual({ passed: false, found: 'you have not run `kubectl get deployments` in this step yet' });
    expect(await verdict({ output: { contains: 'Running' } })).toMatchObject({ passed: true });
    expect(await verdict({ output: { matches: 'CrashLoop' } })).toMatchObject({ passed: false });
  });
});

describe('command checks', () => {
  it('pass on exit 0 in the learner environment and show the error otherwise', async () => {
    expect(await verdict({ command: { run: 'kubectl get deployment web' } })).toEqual({ passed: true, found: '`kubectl get deployment web` succeeded' });
    expect(await verdict({ command: { run: 'kubectl get deployment nope' } })).toEqual({
      passed: false,
      found: '`kubectl get deployment nope` exited with 1: Error from server (NotFound): deployments.apps "nope" not found',
    });
    expect(await verdict({ command: { run: 'sleep 5', timeoutSeconds: 0.5 } })).toEqual({ passed: false, found: '`sleep 5` did not finish within 0.5 s' });
  });
});

describe('a dead cluster', () => {
  it('gives one "unreachable" verdict instead of a wall of failures', async () => {
    const dead = await EmbeddedCluster.start();
    const deadConfig = path.join(dir, 'dead');
    await dead.writeKubeconfig(deadConfig);
    await dead.stop();
    const deadCtx = createCheckContext({ kc: loadKubeConfig(deadConfig), shell: { cwd: dir, env: {} } });
    const result = await evaluateStep(
      [check({ title: 'a', resource: { apiVersion: 'v1', kind: 'Namespace', name: 'default' } }), check({ title: 'b', workload: { deployment: 'web' } })],
      deadCtx,
    );
    expect(result.state).toBe('unreachable');
    expect(result.state === 'unreachable' && result.message).toMatch(/did not answer/);
    expect(result.checks.map((c) => c.found)).toEqual(['the cluster is unreachable', 'the cluster is unreachable']);
  });
});
