/**
 * An add-on brings a kind, an admission plugin, a controller, an image behaviour and a per-pod
 * interceptor from one folder (test/fixtures/sim-addons/greeter), and the real kubectl sees
 * all of it as it would on a cluster with that operator installed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import type { AddOn } from '../../server/sim/addons/api.js';
import { greeter } from '../fixtures/sim-addons/greeter/index.js';
import { until } from './sim-network-harness.js';
import { kubectlIn } from '../helpers/kubectl.js';

let cluster: EmbeddedCluster;
let dir: string;


const { kubectl, ok } = kubectlIn(() => dir);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-addons-'));
  cluster = await EmbeddedCluster.start({
    workloads: { timings: { schedule: 0, pull: 20, start: 20, ready: 20, terminate: 100, run: 200, backoff: 200, probeDelayScale: 0 }, nodePorts: false },
    addons: [greeter],
  });
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const greetings = `
apiVersion: greeter.example.com/v1
kind: Greeting
metadata:
  name: hello
spec:
  message: Hi there
---
apiVersion: greeter.example.com/v1
kind: Greeting
metadata:
  name: plain
`;

describe('an add-on from one folder', () => {
  it('serves its kind: discovery, short name, printer columns, admission defaults', async () => {
    expect(await ok(['api-resources', '--api-group=greeter.example.com', '--no-headers'])).toMatch(/^greetings\s+gr\s+greeter\.example\.com\/v1\s+true\s+Greeting\s*$/m);
    expect(await ok(['apply', '-f', '-'], greetings)).toBe('greeting.greeter.example.com/hello created\ngreeting.greeter.example.com/plain created\n');
    const table = await ok(['get', 'gr']);
    // A CRD's own columns replace the default AGE, as on kube-apiserver.
    expect(table.split('\n').slice(0, 2)).toEqual([expect.stringMatching(/^NAME\s+MESSAGE\s+PHASE$/), expect.stringMatching(/^hello\s+Hi there\s*(Pending|Ready)?$/)]);
    expect(await ok(['get', 'greeting', 'plain', '-o', 'jsonpath={.spec.message}'])).toBe('Hello from the greeter add-on');
    const bad = await kubectl(['apply', '-f', '-'], `apiVersion: greeter.example.com/v1\nkind: Greeting\nmetadata: { name: long }\nspec: { message: ${'x'.repeat(81)} }\n`);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('spec.message: Too long: may not be more than 80 bytes');
  });

  it('its kind is in OpenAPI (kubectl explain) and server-side apply records its managed fields', async () => {
    expect(await ok(['explain', 'greeting.spec.message'])).toMatch(/GROUP:\s+greeter\.example\.com[\s\S]*FIELD:\s+message <string>/);
    const ssa = `apiVersion: greeter.example.com/v1\nkind: Greeting\nmetadata: { name: applied }\nspec: { message: Server-side }\n`;
    expect(await ok(['apply', '--server-side', '--field-manager=learner', '-f', '-'], ssa)).toBe('greeting.greeter.example.com/applied serverside-applied\n');
    const fields = JSON.parse(await ok(['get', 'greeting', 'applied', '--show-managed-fields', '-o', 'jsonpath={.metadata.managedFields}'])) as { manager: string; operation: string; fieldsV1: Record<string, unknown> }[];
    expect(fields.find((f) => f.manager === 'learner')).toMatchObject({ operation: 'Apply', fieldsV1: { 'f:spec': { 'f:message': {} } } });
  });

  it('its controller runs a pod of its image per Greeting and reports it in status', async () => {
    await until('hello Ready', async () => (await ok(['get', 'greeting', 'hello', '-o', 'jsonpath={.status.phase}'])) === 'Ready');
    expect(await ok(['get', 'greeting', 'hello', '-o', 'jsonpath={.status.pod}'])).toBe('hello-greeter');
    expect(await ok(['get', 'pod', 'hello-greeter', '-o', 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.spec.containers[0].image}'])).toBe('Greeting/hello playground/greeter:1.0');
    expect(await ok(['logs', 'hello-greeter'])).toContain('greeter: listening on :8080, saying "Hi there"');
  });

  it('its image behaves as its behaviour says, behind its interceptor', async () => {
    const ip = await ok(['get', 'pod', 'hello-greeter', '-o', 'jsonpath={.status.podIP}']);
    const r = await kubectl(['exec', 'hello-greeter', '--', 'wget', '-S', '-qO-', `http://${ip}:8080/`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Hi there\n');
    expect(r.stderr).toMatch(/x-greeter-intercepted: yes/i);
    // localhost stays inside the pod: no interception, as iptables would not redirect it either.
    const local = await kubectl(['exec', 'hello-greeter', '--', 'wget', '-S', '-qO-', 'http://localhost:8080/']);
    expect(local.stdout).toBe('Hi there\n');
    expect(local.stderr).not.toMatch(/x-greeter-intercepted/i);
    expect(await ok(['logs', 'hello-greeter'])).toContain(`greeter: GET / from ${ip}`);
  });

  it('deleting a Greeting takes its pod with it (owner references, garbage collection)', async () => {
    await ok(['delete', 'greeting', 'plain', '--wait=false']);
    await until('plain-greeter gone', async () => (await kubectl(['get', 'pod', 'plain-greeter'])).stderr.includes('NotFound'));
  });
});

describe('add-on start and stop', () => {
  it('a failing add-on fails the start loudly, and the add-ons started before it are stopped', async () => {
    const order: string[] = [];
    const first: AddOn = {
      name: 'first',
      start() {
        order.push('first started');
        return () => void order.push('first stopped');
      },
    };
    const broken: AddOn = {
      name: 'broken',
      start() {
        throw new Error('broken add-on: no luck');
      },
    };
    await expect(EmbeddedCluster.start({ addons: [first, broken] })).rejects.toThrow('broken add-on: no luck');
    expect(order).toEqual(['first started', 'first stopped']);
  });

  it('add-ons start in list order after the built-in ones and stop in reverse', async () => {
    const order: string[] = [];
    const mk = (name: string): AddOn => ({
      name,
      start(api) {
        // The built-in control plane ran first: the system namespaces exist.
        order.push(`${name} started${api.store.has(api.kinds.require('', 'v1', 'namespaces').bucket, '', 'kube-system') ? ' after kube-system' : ''}`);
        return () => void order.push(`${name} stopped`);
      },
    });
    const c = await EmbeddedCluster.start({ addons: [mk('a'), mk('b')] });
    await c.stop();
    expect(order).toEqual(['a started after kube-system', 'b started after kube-system', 'b stopped', 'a stopped']);
  });
});
