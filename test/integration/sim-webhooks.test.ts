/**
 * Admission webhooks in the embedded cluster: Mutating/ValidatingWebhookConfigurations call a
 * webhook server running as a Deployment behind a Service (test/fixtures/sim-addons/admission-hooks),
 * and the real kubectl sees what it sees against kube-apiserver 1.32: patches, denials, warnings,
 * failure policies, selectors, dry-run and side effects, timeouts, reinvocation.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { admissionHooks, IMAGE, PORT } from '../fixtures/sim-addons/admission-hooks/index.js';
import { until } from './sim-network-harness.js';
import { kubectlIn } from '../helpers/kubectl.js';

let cluster: EmbeddedCluster;
let dir: string;


const { kubectl, ok } = kubectlIn(() => dir);

const server = `
apiVersion: v1
kind: Namespace
metadata: { name: hooks }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: admission-hooks, namespace: hooks }
spec:
  replicas: 1
  selector: { matchLabels: { app: admission-hooks } }
  template:
    metadata: { labels: { app: admission-hooks } }
    spec:
      containers:
      - name: server
        image: ${IMAGE}
        ports: [{ containerPort: ${PORT} }]
---
apiVersion: v1
kind: Service
metadata: { name: admission-hooks, namespace: hooks }
spec:
  selector: { app: admission-hooks }
  ports: [{ port: 443, targetPort: ${PORT} }]
---
apiVersion: v1
kind: Service
metadata: { name: wrong-port, namespace: hooks }
spec:
  selector: { app: admission-hooks }
  ports: [{ port: 443, targetPort: 9999 }]
---
apiVersion: v1
kind: Namespace
metadata: { name: demo, labels: { hooks: enabled } }
---
apiVersion: v1
kind: Namespace
metadata: { name: plain }
`;

/** One webhook of a configuration on pod CREATEs, scoped to namespaces labelled hooks=enabled. */
function webhookConfig(kind: 'Mutating' | 'Validating', name: string, path: string, extra: Record<string, unknown> = {}, service = 'admission-hooks'): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: `${kind}WebhookConfiguration`,
    metadata: { name },
    webhooks: [
      {
        name: `${name}.example.com`,
        clientConfig: { service: { namespace: 'hooks', name: service, path } },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        namespaceSelector: { matchLabels: { hooks: 'enabled' } },
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        ...extra,
      },
    ],
  });
}

const run = (name: string, ns = 'demo', ...more: string[]) => kubectl(['run', name, '-n', ns, '--image=nginx', '--restart=Never', ...more]);
const label = (name: string, ns = 'demo') => ok(['get', 'pod', name, '-n', ns, '-o', 'jsonpath={.metadata.labels.hooked\\.example\\.com/mutated}']);
const created: string[] = [];

async function apply(yaml: string): Promise<void> {
  await ok(['apply', '-f', '-'], yaml);
  const o = JSON.parse(yaml) as { kind: string; metadata: { name: string } };
  created.push(`${o.kind.toLowerCase()}/${o.metadata.name}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-webhooks-'));
  cluster = await EmbeddedCluster.start({
    workloads: { timings: { schedule: 0, pull: 10, start: 10, ready: 10, terminate: 50, run: 100, backoff: 100, probeDelayScale: 0 }, nodePorts: false },
    addons: [admissionHooks],
  });
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
  await ok(['apply', '-f', '-'], server);
  await ok(['rollout', 'status', 'deployment/admission-hooks', '-n', 'hooks', '--timeout=30s']);
});

afterEach(async () => {
  for (const c of created.splice(0)) await ok(['delete', c, '--ignore-not-found']);
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('mutating webhooks', () => {
  it('patch the object with the JSONPatch they answer, in the namespaces their selector picks', async () => {
    await apply(webhookConfig('Mutating', 'label-adder', '/mutate'));
    expect(await run('m1')).toMatchObject({ code: 0, stdout: 'pod/m1 created\n' });
    expect(await label('m1')).toBe('yes');
    // The namespace selector leaves other namespaces alone.
    expect((await run('m1', 'plain')).code).toBe(0);
    expect(await label('m1', 'plain')).toBe('');
    // The server saw the AdmissionReview kube sends.
    expect(await ok(['logs', 'deployment/admission-hooks', '-n', 'hooks'])).toContain('/mutate CREATE Pod m1 dryRun=false');
  });

  it('objectSelector matches on the object labels', async () => {
    await apply(webhookConfig('Mutating', 'label-adder', '/mutate', { objectSelector: { matchExpressions: [{ key: 'skip-hooks', operator: 'DoesNotExist' }] } }));
    expect((await run('m2', 'demo', '--labels=skip-hooks=true')).code).toBe(0);
    expect(await label('m2')).toBe('');
    expect((await run('m3')).code).toBe(0);
    expect(await label('m3')).toBe('yes');
  });

  it('reinvocationPolicy IfNeeded calls a webhook again when a later one changed the object', async () => {
    // Configurations run in name order: a-seen-b first, then b-add.
    await apply(webhookConfig('Mutating', 'a-seen-b', '/seen-b', { reinvocationPolicy: 'IfNeeded' }));
    await apply(webhookConfig('Mutating', 'b-add', '/add-b'));
    expect((await run('r1')).code).toBe(0);
    expect(await ok(['get', 'pod', 'r1', '-n', 'demo', '-o', 'jsonpath={.metadata.annotations.seen-b} {.metadata.labels.b}'])).toBe('added added');
    // Without it the first webhook's view stays what it saw first.
    await ok(['patch', 'mutatingwebhookconfiguration', 'a-seen-b', '--type=json', '-p', '[{"op":"replace","path":"/webhooks/0/reinvocationPolicy","value":"Never"}]']);
    expect((await run('r2')).code).toBe(0);
    expect(await ok(['get', 'pod', 'r2', '-n', 'demo', '-o', 'jsonpath={.metadata.annotations.seen-b} {.metadata.labels.b}'])).toBe('absent added');
  });
});

describe('validating webhooks', () => {
  it('deny with kube\'s wording and pass warnings on to kubectl', async () => {
    await apply(webhookConfig('Validating', 'name-policy', '/validate'));
    const denied = await run('forbidden-1');
    expect(denied).toMatchObject({ code: 1, stdout: '' });
    expect(denied.stderr).toBe('Error from server: admission webhook "name-policy.example.com" denied the request: name "forbidden-1" is not allowed\n');
    const warned = await run('warn-1');
    expect(warned).toMatchObject({ code: 0, stdout: 'pod/warn-1 created\n' });
    expect(warned.stderr).toBe('Warning: name "warn-1" looks temporary\n');
    expect((await kubectl(['get', 'pod', 'forbidden-1', '-n', 'demo'])).code).toBe(1);
  });

  it('see the object after the mutating webhooks changed it', async () => {
    await apply(webhookConfig('Mutating', 'label-adder', '/mutate'));
    await apply(webhookConfig('Validating', 'name-policy', '/validate', { objectSelector: { matchLabels: { 'hooked.example.com/mutated': 'yes' } } }));
    expect((await run('forbidden-2')).stderr).toContain('admission webhook "name-policy.example.com" denied the request');
  });
});

describe('failures', () => {
  it('failurePolicy Fail refuses when the webhook has no endpoints; Ignore lets the request through', async () => {
    await apply(webhookConfig('Mutating', 'label-adder', '/mutate'));
    await ok(['scale', 'deployment/admission-hooks', '-n', 'hooks', '--replicas=0']);
    await until('no endpoints', async () => (await ok(['get', 'endpoints', 'admission-hooks', '-n', 'hooks', '-o', 'jsonpath={.subsets}'])) === '');
    try {
      const r = await run('f1');
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'Error from server (InternalError): Internal error occurred: failed calling webhook "label-adder.example.com": failed to call webhook: Post "https://admission-hooks.hooks.svc:443/mutate?timeout=10s": no endpoints available for service "admission-hooks"\n',
      );
      // The configuration is read live: the next request sees the new policy.
      await ok(['patch', 'mutatingwebhookconfiguration', 'label-adder', '--type=json', '-p', '[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Ignore"}]']);
      expect(await run('f1')).toMatchObject({ code: 0, stdout: 'pod/f1 created\n' });
      expect(await label('f1')).toBe('');
    } finally {
      await ok(['scale', 'deployment/admission-hooks', '-n', 'hooks', '--replicas=1']);
      await ok(['rollout', 'status', 'deployment/admission-hooks', '-n', 'hooks', '--timeout=30s']);
    }
  });

  it('a ReplicaSet whose pods are refused reports FailedCreate and creates them once the webhook is back', async () => {
    await apply(webhookConfig('Mutating', 'label-adder', '/mutate'));
    await ok(['scale', 'deployment/admission-hooks', '-n', 'hooks', '--replicas=0']);
    await until('no endpoints', async () => (await ok(['get', 'endpoints', 'admission-hooks', '-n', 'hooks', '-o', 'jsonpath={.subsets}'])) === '');
    try {
      await ok(['create', 'deployment', 'web', '-n', 'demo', '--image=nginx']);
      const event = await until('FailedCreate', async () => ok(['get', 'events', '-n', 'demo', '--field-selector', 'reason=FailedCreate', '-o', 'jsonpath={.items[0].type} {.items[0].source.component} {.items[0].message}']));
      expect(event).toMatch(
        /^Warning replicaset-controller Error creating: Internal error occurred: failed calling webhook "label-adder\.example\.com": failed to call webhook: Post "https:\/\/admission-hooks\.hooks\.svc:443\/mutate\?timeout=10s": no endpoints available for service "admission-hooks"$/,
      );
      expect(await ok(['get', 'pods', '-n', 'demo', '-l', 'app=web', '-o', 'name'])).toBe('');
    } finally {
      await ok(['scale', 'deployment/admission-hooks', '-n', 'hooks', '--replicas=1']);
      await ok(['rollout', 'status', 'deployment/admission-hooks', '-n', 'hooks', '--timeout=30s']);
    }
    // The controller retries with backoff: the pod comes, patched by the webhook.
    const labels = await until('web pod', async () => ok(['get', 'pods', '-n', 'demo', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.labels.hooked\\.example\\.com/mutated}']));
    expect(labels).toBe('yes');
    await ok(['delete', 'deployment', 'web', '-n', 'demo']);
  });

  it('a Service port nothing listens behind is connection refused', async () => {
    await apply(webhookConfig('Validating', 'refused', '/validate', {}, 'wrong-port'));
    const r = await run('c1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^Error from server \(InternalError\): Internal error occurred: failed calling webhook "refused\.example\.com": failed to call webhook: Post "https:\/\/wrong-port\.hooks\.svc:443\/validate\?timeout=10s": dial tcp \d+\.\d+\.\d+\.\d+:9999: connect: connection refused\n$/,
    );
  });

  it('a webhook that never answers fails the request after timeoutSeconds', async () => {
    await apply(webhookConfig('Validating', 'slow', '/hang', { timeoutSeconds: 1 }));
    const t0 = Date.now();
    const r = await run('t1');
    const took = Date.now() - t0;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error from server (InternalError): Internal error occurred: failed calling webhook "slow.example.com": failed to call webhook: Post "https://admission-hooks.hooks.svc:443/hang?timeout=1s": context deadline exceeded\n');
    expect(took).toBeGreaterThanOrEqual(1000);
  });
});

describe('dry run', () => {
  it('calls webhooks without side effects and refuses the ones with side effects', async () => {
    await apply(webhookConfig('Mutating', 'label-adder', '/mutate'));
    const r = await run('d1', 'demo', '--dry-run=server', '-o', 'jsonpath={.metadata.labels.hooked\\.example\\.com/mutated}');
    expect(r).toMatchObject({ code: 0, stdout: 'yes' });
    expect(await ok(['logs', 'deployment/admission-hooks', '-n', 'hooks'])).toContain('/mutate CREATE Pod d1 dryRun=true');
    expect((await kubectl(['get', 'pod', 'd1', '-n', 'demo'])).code).toBe(1);
    // admissionregistration/v1 only accepts None/NoneOnDryRun; a configuration from before v1
    // (v1beta1 allowed Some) still exists in old clusters' storage, so put one there directly.
    const def = cluster.api.kinds.require('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations');
    const legacy = JSON.parse(webhookConfig('Validating', 'side-effects', '/validate', { sideEffects: 'Some', failurePolicy: 'Fail', matchPolicy: 'Equivalent', timeoutSeconds: 10, objectSelector: {} }));
    legacy.metadata = { name: 'side-effects', uid: '5d0c3a9e-0000-4000-8000-000000000001', creationTimestamp: '2021-01-01T00:00:00Z', generation: 1 };
    cluster.api.store.create(def.bucket, legacy);
    created.push('validatingwebhookconfiguration/side-effects');
    const refused = await run('d2', 'demo', '--dry-run=server');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('Error from server (BadRequest): admission webhook "side-effects.example.com" does not support dry run\n');
    // Without dry run the same webhook is called.
    expect((await run('d2')).code).toBe(0);
  });
});

describe('webhook configurations', () => {
  it('get kube\'s v1 defaults', async () => {
    await apply(webhookConfig('Mutating', 'label-adder', '/mutate'));
    const fields = '{.failurePolicy} {.matchPolicy} {.timeoutSeconds} {.reinvocationPolicy} {.clientConfig.service.port} {.rules[0].scope} {.objectSelector}';
    expect(await ok(['get', 'mutatingwebhookconfiguration', 'label-adder', '-o', `jsonpath={.webhooks[0]}{range .webhooks[*]}${fields}{end}`])).toMatch(/Fail Equivalent 10 Never 443 \* \{\}$/);
  });

  it('are validated as kube-apiserver validates them', async () => {
    const someSideEffects = await kubectl(['apply', '-f', '-'], webhookConfig('Validating', 'side-effects', '/validate', { sideEffects: 'Some' }));
    expect(someSideEffects.code).toBe(1);
    expect(someSideEffects.stderr).toBe(
      'The ValidatingWebhookConfiguration "side-effects" is invalid: webhooks[0].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"\n',
    );
    const bad = JSON.parse(webhookConfig('Mutating', 'bad', '/mutate', { admissionReviewVersions: ['v1beta2'], timeoutSeconds: 31 }));
    bad.webhooks[0].name = 'short';
    delete bad.webhooks[0].sideEffects;
    const r = await kubectl(['create', '-f', '-'], JSON.stringify(bad));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'The MutatingWebhookConfiguration "bad" is invalid: \n' +
        '* webhooks[0].name: Invalid value: "short": should be a domain with at least three segments separated by dots\n' +
        '* webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun\n' +
        '* webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds\n' +
        '* webhooks[0].admissionReviewVersions: Invalid value: []string{"v1beta2"}: must include at least one of v1, v1beta1\n',
    );
  });
});
