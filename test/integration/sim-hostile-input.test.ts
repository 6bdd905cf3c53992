/**
 * A learner attacking their own embedded cluster from their terminal, with real curl and
 * kubectl: each finding of issue 14 (deep YAML that aborted the process, deep JSON that gave a
 * 500, a null container that broke a controller, malformed strategic-merge patches) and kube's
 * other body limits, answered with kube-apiserver's status and words while the cluster keeps
 * serving kubectl.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { runProcess } from '../helpers/run.js';

let cluster: EmbeddedCluster;
let dir: string;
const errors: string[] = [];
const origError = console.error;

function run(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runProcess(cmd, args, { maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache') }, input, timeoutMs: 0 });
}

/** curl as a learner would type it: the body from a file, the token and CA from their kubeconfig. */
async function curl(method: string, path: string, body: string | undefined, contentType: string, extra: string[] = []): Promise<{ code: number; body: any; raw: string }> {
  const args = ['-sS', '--cacert', join(dir, 'ca.pem'), '-H', `Authorization: Bearer ${cluster.token}`, '-X', method, '-o', '-', '-w', '\n%{http_code}', ...extra];
  if (body !== undefined) {
    const file = join(dir, `body-${Math.random().toString(36).slice(2)}`);
    await writeFile(file, body);
    args.push('-H', `Content-Type: ${contentType}`, '--data-binary', `@${file}`);
  }
  args.push(cluster.url + path);
  const r = await run('curl', args);
  const cut = r.stdout.lastIndexOf('\n');
  const text = r.stdout.slice(0, cut);
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { code: Number(r.stdout.slice(cut + 1)), body: parsed, raw: text };
}

/** The cluster still answers kubectl, and the process did not log an unexpected error. */
async function stillServes(): Promise<void> {
  const r = await run('kubectl', ['get', 'namespace', 'default', '-o', 'jsonpath={.metadata.name}']);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('default');
  expect(errors).toEqual([]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-hostile-'));
  cluster = await EmbeddedCluster.start();
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
  await writeFile(join(dir, 'ca.pem'), cluster.caPem);
  console.error = (...args: unknown[]) => {
    errors.push(args.map(String).join(' '));
    origError(...args);
  };
});

beforeEach(() => {
  errors.length = 0;
});

afterAll(async () => {
  console.error = origError;
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const CM = '/api/v1/namespaces/default/configmaps';
const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';

describe('the findings of issue 14', () => {
  it('5,000 `[` of YAML, twice, is a 400 in go-yaml words and the process lives on', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await curl('POST', CM, '['.repeat(5000), 'application/yaml');
      expect(r.code).toBe(400);
      expect(r.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400, message: 'error converting YAML to JSON: yaml: exceeded max depth of 256' });
    }
    // Block nesting and a deep value inside a real object fail the same way.
    const block = Array.from({ length: 400 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';
    const r2 = await curl('POST', CM, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n${block.replace(/^/gm, '  ')}`, 'application/yaml');
    expect(r2.code).toBe(400);
    expect(r2.body.message).toMatch(/^error converting YAML to JSON: yaml: (line \d+: )?exceeded max depth of 256$/);
    await stillServes();
  });

  it('JSON nested 2,000 deep is a 400 in encoding/json words, not a 500', async () => {
    const r = await curl('POST', CM, '['.repeat(2000) + ']'.repeat(2000), 'application/json');
    expect(r.code).toBe(400);
    expect(r.body).toMatchObject({ reason: 'BadRequest', message: "couldn't get version/kind; json parse error: invalid character '[' exceeded max depth" });
    const inner = '{"a":'.repeat(2000) + '1' + '}'.repeat(2000);
    const r2 = await curl('POST', CM, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":${inner}}`, 'application/json');
    expect(r2.code).toBe(400);
    expect(r2.body.message).toBe("couldn't get version/kind; json parse error: invalid character '{' exceeded max depth");
    // As a patch body, in the patch handler's words.
    await run('kubectl', ['create', 'configmap', 'target', '--from-literal=k=v']);
    const r3 = await curl('PATCH', `${CM}/target`, `{"data":${inner}}`, 'application/merge-patch+json');
    expect(r3.code).toBe(400);
    expect(r3.body.message).toBe("error decoding patch: invalid character '{' exceeded max depth");
    const r4 = await curl('PATCH', `${CM}/target`, `{"data":${inner}}`, 'application/strategic-merge-patch+json');
    expect(r4.code).toBe(400);
    expect(r4.body.message).toBe("invalid character '{' exceeded max depth");
    await stillServes();
  });

  it('a Deployment with a null container is refused as kube refuses a zero-value container', async () => {
    const body = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'nullc' },
      spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [null] } } },
    };
    const r = await curl('POST', DEPLOY, JSON.stringify(body), 'application/json');
    expect(r.code).toBe(422);
    expect(r.body).toMatchObject({
      reason: 'Invalid',
      message: 'Deployment.apps "nullc" is invalid: [spec.template.spec.containers[0].name: Required value, spec.template.spec.containers[0].image: Required value]',
    });
    // kubectl apply of the same manifest: the same answer, nothing stored.
    await writeFile(join(dir, 'nullc.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nullc\nspec:\n  selector:\n    matchLabels: {app: x}\n  template:\n    metadata:\n      labels: {app: x}\n    spec:\n      containers:\n      - null\n');
    const k = await run('kubectl', ['apply', '-f', join(dir, 'nullc.yaml')]);
    expect(k.code).not.toBe(0);
    expect(k.stderr).toContain('spec.template.spec.containers[0].name: Required value');
    const get = await run('kubectl', ['get', 'deployment', 'nullc']);
    expect(get.stderr).toContain('deployments.apps "nullc" not found');
    await stillServes();
  });

  it('malformed strategic-merge patches get kube-apiserver answers, never an internal error of ours', async () => {
    await run('kubectl', ['create', 'configmap', 'smp', '--from-literal=k=v']);
    const path = `${CM}/smp`;
    const cases: [string, number, string, string][] = [
      ['{"data":', 400, 'BadRequest', 'unexpected end of JSON input'],
      ['{"$retainKeys":"data"}', 400, 'BadRequest', 'invalid patch format of retainKeys'],
      ['{"data":[1]}', 422, 'Invalid', ' "" is invalid: patch: Invalid value: "map[data:[1]]": json: cannot unmarshal array into Go struct field ConfigMap.data of type map[string]string'],
      // kube-apiserver itself answers these with a 500 and an empty reason (handlers/patch.go
      // passes strategicpatch's uninterpreted errors through).
      ['{"$patch":"bogus"}', 500, '', 'unknown patch type: bogus in map: map[$patch:bogus]'],
      ['{"$setElementOrder/data":1}', 500, '', 'expected a slice, but received a float64'],
    ];
    for (const [patch, code, reason, message] of cases) {
      const r = await curl('PATCH', path, patch, 'application/strategic-merge-patch+json');
      expect({ patch, code: r.code, reason: r.body.reason, message: r.body.message }).toEqual({ patch, code, reason: reason || undefined, message });
    }
    const k = await run('kubectl', ['patch', 'configmap', 'smp', '-p', '{"metadata":{"$retainKeys":"x"}}']);
    expect(k.stderr).toContain('invalid patch format of retainKeys');
    const live = await run('kubectl', ['get', 'configmap', 'smp', '-o', 'jsonpath={.data.k}']);
    expect(live.stdout).toBe('v');
    await stillServes();
  });
});

describe("kube's other body limits", () => {
  it('a body over 3 MiB is a 413 with kube-apiserver\'s message, declared or streamed', async () => {
    const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(3 * 1024 * 1024) } });
    const declared = await curl('POST', CM, big, 'application/json');
    expect(declared.code).toBe(413);
    expect(declared.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'RequestEntityTooLarge', code: 413, message: 'Request entity too large: limit is 3145728' });
    const chunked = await curl('POST', CM, big, 'application/json', ['-H', 'Transfer-Encoding: chunked']);
    expect(chunked.code).toBe(413);
    expect(chunked.body.message).toBe('Request entity too large: limit is 3145728');
    // Just under the limit still works (the object itself is then within etcd's size).
    const fits = await curl('POST', CM, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fits' }, data: { a: 'x'.repeat(1024 * 1024) } }), 'application/json');
    expect(fits.code).toBe(201);
    await stillServes();
  });

  it('YAML aliases: a billion laughs is refused as go-yaml refuses it, a self-containing anchor too', async () => {
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) laughs.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(',')}]`);
    const r = await curl('POST', CM, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\n${laughs.map((l) => `x${l}`).join('\n')}\n`, 'application/yaml');
    expect(r.code).toBe(400);
    expect(r.body.message).toBe('error converting YAML to JSON: yaml: document contains excessive aliasing');
    const self = await curl('POST', CM, 'apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: self\n  labels: *m\n', 'application/yaml');
    expect(self.code).toBe(400);
    expect(self.body.message).toBe("error converting YAML to JSON: yaml: anchor 'm' value contains itself");
    // A modest alias is fine and stored as a copy.
    const ok = await curl('POST', CM, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: alias\n  labels: &l {a: b}\n  annotations: *l\n', 'application/yaml');
    expect(ok.code).toBe(201);
    expect(ok.body.metadata.annotations).toEqual({ a: 'b' });
    await stillServes();
  });

  it('a YAML stream is read as YAMLToJSON reads it: the first document only', async () => {
    const r = await curl('POST', CM, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n---\n[[[ this is never parsed\n', 'application/yaml');
    expect(r.code).toBe(201);
    expect(r.body.metadata.name).toBe('first');
    await stillServes();
  });

  it("a CRD's catastrophic pattern runs in linear time, as Go's RE2 runs it", async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'evils.hostile.example.com' },
      spec: {
        group: 'hostile.example.com',
        scope: 'Namespaced',
        names: { plural: 'evils', singular: 'evil', kind: 'Evil' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } } } } } }],
      },
    };
    await writeFile(join(dir, 'evil-crd.json'), JSON.stringify(crd));
    expect((await run('kubectl', ['apply', '-f', join(dir, 'evil-crd.json')])).stderr).toBe('');
    const started = Date.now();
    const r = await curl('POST', '/apis/hostile.example.com/v1/namespaces/default/evils', JSON.stringify({ apiVersion: 'hostile.example.com/v1', kind: 'Evil', metadata: { name: 'e' }, spec: { s: `${'a'.repeat(5000)}!` } }), 'application/json');
    // Backtracking would take longer than the universe has left; RE2 answers at once.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.code).toBe(422);
    expect(r.body.message).toContain(`spec.s in body should match '^(a+)+$'`);
    await stillServes();
  });

  it('a JSON patch cannot deepen an object past the bound step by step', async () => {
    await run('kubectl', ['create', 'configmap', 'grow', '--from-literal=k=v']);
    const value = '{"a":'.repeat(200) + '1' + '}'.repeat(200);
    const r1 = await curl('PATCH', `${CM}/grow`, `[{"op":"add","path":"/metadata/annotations","value":{}},{"op":"add","path":"/x","value":${value}}]`, 'application/json-patch+json');
    // An unknown field is dropped on decoding (Warn), so the deep value never reaches the store…
    expect(r1.code).toBe(200);
    // …but while patching it is checked: adding below it crosses the bound.
    const path = '/x' + '/a'.repeat(150);
    const r2 = await curl('PATCH', `${CM}/grow`, `[{"op":"add","path":"/x","value":${value}},{"op":"replace","path":"${path}","value":${value}}]`, 'application/json-patch+json');
    expect(r2.code).toBe(422);
    expect(r2.body.message).toBe(` "" is invalid: patch: Invalid value: "": couldn't get version/kind; json parse error: invalid character '{' exceeded max depth`);
    await stillServes();
  });
});
