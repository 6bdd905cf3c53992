/**
 * A kind written in code and registered by an add-on (through the cluster API's kinds.register) is
 * served like a built-in kind, with nothing else edited: the real kubectl finds it in discovery, explains it
 * from the schema it brings, prints its Table columns, merges strategic patches by its merge keys
 * and splits server-side apply ownership at its status subresource.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import type { AddOn } from '../../server/sim/addons/api.js';
import type { KindDefinition } from '../../server/sim/registry/kind.js';
import { conditions, keyedList, struct } from '../../server/sim/registry/patch/merge-schema.js';
import { ageCol, col, nameCol } from '../../server/sim/registry/printers/columns.js';
import { validateObjectMeta } from '../../server/sim/registry/strategies/meta.js';
import { kubectlIn } from '../helpers/kubectl.js';

type Obj = Record<string, any>;

const component = 'dev.example.widgets.v1.Widget';

/** A small fake group: one namespaced kind with a short name, a status subresource and columns. */
const widgetKind: KindDefinition = {
  group: 'widgets.example.dev',
  version: 'v1',
  kind: 'Widget',
  names: { plural: 'widgets', shortNames: ['wdg'] },
  scope: 'Namespaced',
  strategy: {
    generation: true,
    prepareForCreate: (o) => void delete (o as Obj).status,
    validate: (o) => validateObjectMeta(o, 'subdomain', true),
  },
  subresources: { status: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ parts: keyedList(struct({}), 'name') }),
    status: struct({ conditions: conditions() }),
  }),
  zeroPaths: ['metadata', 'spec', 'status'],
  printer: {
    columns: [nameCol(), col('Color', 'string', 'The colour of the widget.'), col('Parts', 'integer', 'How many parts it has.'), ageCol()],
    cells: (o: Obj) => [o.metadata.name, o.spec?.color ?? '<none>', (o.spec?.parts ?? []).length, '1s'],
  },
  openapi: {
    component,
    schemas: {
      [component]: {
        description: 'Widget is the kind this test registers at runtime.',
        type: 'object',
        properties: {
          spec: {
            description: 'What the widget should be.',
            type: 'object',
            properties: {
              color: { description: 'The colour of the widget.', type: 'string' },
              parts: {
                description: 'The parts, merged by name.',
                type: 'array',
                items: { type: 'object', properties: { name: { type: 'string' }, count: { type: 'integer' } } },
              },
            },
          },
          status: { description: 'What the widget is.', type: 'object', properties: { conditions: { type: 'array', items: { type: 'object' } } } },
        },
      },
    },
  },
};

let cluster: EmbeddedCluster;
let dir: string;
let unregister: () => Promise<void>;



const { kubectl, ok } = kubectlIn(() => dir);

const widget = (spec: Obj, extra: Obj = {}) => YAML.stringify({ apiVersion: 'widgets.example.dev/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'default' }, spec, ...extra });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-kinds-'));
  const widgets: AddOn = {
    name: 'widgets',
    async start(api) {
      unregister = await api.kinds.register({ builtin: widgetKind });
      return () => undefined;
    },
  };
  cluster = await EmbeddedCluster.start({ addons: [widgets] });
  await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a kind registered at runtime', () => {
  it('appears in kubectl api-resources (aggregated discovery) with its short name', async () => {
    const out = await ok(['api-resources', '--api-group=widgets.example.dev']);
    expect(out).toMatch(/^widgets\s+wdg\s+widgets\.example\.dev\/v1\s+true\s+Widget$/m);
    expect(await ok(['api-versions'])).toContain('widgets.example.dev/v1');
  });

  it('is explained from the schema it brings', async () => {
    const out = await ok(['explain', 'widgets.spec.color']);
    expect(out).toMatch(/GROUP:\s+widgets\.example\.dev/);
    expect(out).toMatch(/KIND:\s+Widget/);
    expect(out).toContain('The colour of the widget.');
  });

  it('prints its Table columns in kubectl get, by name and by short name', async () => {
    expect(await ok(['apply', '-f', '-'], widget({ color: 'blue', parts: [{ name: 'a', count: 1 }] }))).toBe('widget.widgets.example.dev/w1 created\n');
    const out = await ok(['get', 'widgets']);
    const [header, row] = out.trim().split('\n');
    expect(header!.trim().split(/\s{2,}/)).toEqual(['NAME', 'COLOR', 'PARTS', 'AGE']);
    expect(row!.trim().split(/\s+/)).toEqual(['w1', 'blue', '1', '1s']);
    expect(await ok(['get', 'wdg', 'w1', '-o', 'name'])).toBe('widget.widgets.example.dev/w1\n');
  });

  it('merges a strategic merge patch by its merge keys', async () => {
    await ok(['patch', 'widget', 'w1', '--type=strategic', '-p', JSON.stringify({ spec: { parts: [{ name: 'b', count: 2 }] } })]);
    const parts = JSON.parse(await ok(['get', 'widget', 'w1', '-o', 'jsonpath={.spec.parts}']));
    expect(parts).toEqual([{ name: 'b', count: 2 }, { name: 'a', count: 1 }]);
    // A merge patch, by contrast, replaces the list.
    await ok(['patch', 'widget', 'w1', '--type=merge', '-p', JSON.stringify({ spec: { parts: [{ name: 'c', count: 3 }] } })]);
    expect(JSON.parse(await ok(['get', 'widget', 'w1', '-o', 'jsonpath={.spec.parts}']))).toEqual([{ name: 'c', count: 3 }]);
  });

  it('splits server-side apply ownership at its status subresource', async () => {
    const applied = widget({ color: 'red' }, { metadata: { name: 'w2', namespace: 'default' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    await ok(['apply', '--server-side', '-f', '-'], applied);
    let o = JSON.parse(await ok(['get', 'widget', 'w2', '-o', 'json', '--show-managed-fields']));
    // The main resource neither stores nor owns status.
    expect(o.status).toBeUndefined();
    expect(o.metadata.managedFields).toEqual([
      expect.objectContaining({ manager: 'kubectl', operation: 'Apply', apiVersion: 'widgets.example.dev/v1', fieldsV1: { 'f:spec': { 'f:color': {} } } }),
    ]);
    await ok(['patch', 'widget', 'w2', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True' }] } })]);
    o = JSON.parse(await ok(['get', 'widget', 'w2', '-o', 'json', '--show-managed-fields']));
    expect(o.status.conditions).toEqual([{ type: 'Ready', status: 'True' }]);
    const status = o.metadata.managedFields.find((m: Obj) => m.subresource === 'status');
    expect(status).toMatchObject({ manager: 'kubectl-patch', operation: 'Update' });
    expect(Object.keys(status.fieldsV1)).toEqual(['f:status']);
  });

  it('leaves discovery when unregistered', async () => {
    await unregister();
    const r = await kubectl(['api-resources', '--api-group=widgets.example.dev'], undefined, 'fresh-cache');
    expect(r.stdout).not.toMatch(/Widget/);
    expect((await kubectl(['get', 'widgets'], undefined, 'fresh-cache')).stderr).toContain(`the server doesn't have a resource type "widgets"`);
  });
});

describe('what built-in kinds declare beyond the generic store', () => {
  const pod = (name: string) => YAML.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });

  it('a Pod delete answers with the pod, any other kind with a Status', async () => {
    await ok(['apply', '-f', '-'], pod('p1'));
    await ok(['create', 'configmap', 'c1']);
    expect(JSON.parse(await ok(['delete', '--raw', '/api/v1/namespaces/default/pods/p1']))).toMatchObject({ kind: 'Pod', metadata: { name: 'p1' } });
    expect(JSON.parse(await ok(['delete', '--raw', '/api/v1/namespaces/default/configmaps/c1']))).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'c1', kind: 'configmaps' } });
  });

  it('a Pod serves its eviction subresource: a delete', async () => {
    await ok(['apply', '-f', '-'], pod('p2'));
    const eviction = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p2', namespace: 'default' } });
    const evictionFile = join(dir, 'eviction.json');
    await writeFile(evictionFile, eviction);
    expect(JSON.parse(await ok(['create', '--raw', '/api/v1/namespaces/default/pods/p2/eviction', '-f', evictionFile]))).toMatchObject({ kind: 'Status', status: 'Success', code: 201 });
    expect((await kubectl(['get', 'pod', 'p2'])).stderr).toContain('pods "p2" not found');
  });

  it('a Namespace serves its finalize subresource, which replaces spec.finalizers only', async () => {
    await ok(['create', 'namespace', 'fin']);
    expect(await ok(['get', 'ns', 'fin', '-o', 'jsonpath={.spec.finalizers}'])).toBe('["kubernetes"]');
    const body = join(dir, 'ns.json');
    await writeFile(body, JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fin', labels: { ignored: 'yes' } }, spec: { finalizers: [] } }));
    const out = JSON.parse(await ok(['replace', '--raw', '/api/v1/namespaces/fin/finalize', '-f', body]));
    expect(out.spec.finalizers ?? []).toEqual([]);
    expect(out.metadata.labels.ignored).toBeUndefined();
  });
});
