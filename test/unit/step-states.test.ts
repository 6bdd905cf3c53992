import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CompiledStep, CompiledTrack } from '../../server/lessons/compiled.js';
import { StepStates, setupChain, shellDiff, stateKey } from '../../server/steps/states.js';
import { stepEnvScript } from '../../server/steps/home.js';
import { rebaseState } from '../../server/sim/storage/rebase.js';
import { ObjectStore } from '../../server/sim/storage/store.js';

const step = (id: string, solution: string[], setup: string[]): CompiledStep => ({ id, title: id, file: `t/${id}.md`, html: '', hints: [], solution, checks: [], sticky: true, setup });
const track = (steps: CompiledStep[]): CompiledTrack => ({ id: 't', title: 'T', summary: 'S', backends: ['sim'], file: 't/track.yaml', steps, cleanup: [] });
const base = () => track([step('a', ['echo a'], []), step('b', ['echo b'], ['a']), step('c', ['echo c'], ['a', 'b']), step('d', ['echo d'], ['a'])]);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('step state cache keys', () => {
  it('are the same for the same solutions and code, whatever else of the track changed', () => {
    const states = new StepStates({ cacheDir: '/nonexistent', codeIdentity: 'code-1', shellEnv: async () => ({ env: {}, pathPrepend: [] }) });
    const t = base();
    const renamed = track(t.steps.map((s) => ({ ...s, title: `${s.title}!`, html: '<p>changed</p>' })));
    expect(states.keyOf(renamed, 'c')).toBe(states.keyOf(t, 'c'));
    // b starts from a; d declares the same setup: one state serves both.
    expect(states.keyOf(t, 'd')).toBe(states.keyOf(t, 'b'));
  });

  it('change when a replayed solution, the order, the track or the code changes, and not for a later step', () => {
    const t = base();
    const key = (tr: CompiledTrack, id: string, code = 'code-1') => stateKey({ codeIdentity: code, trackId: tr.id, chain: setupChain(tr, id) });
    const c = key(t, 'c');
    const changedA = track(t.steps.map((s) => (s.id === 'a' ? { ...s, solution: ['echo A'] } : s)));
    expect(key(changedA, 'c')).not.toBe(c);
    const changedC = track(t.steps.map((s) => (s.id === 'c' ? { ...s, solution: ['echo C'] } : s)));
    expect(key(changedC, 'c')).toBe(c);
    const reordered = track(t.steps.map((s) => (s.id === 'c' ? { ...s, setup: ['b', 'a'] } : s)));
    expect(key(reordered, 'c')).not.toBe(c);
    expect(key(t, 'c', 'code-2')).not.toBe(c);
    expect(stateKey({ codeIdentity: 'code-1', trackId: 'other', chain: setupChain(t, 'c') })).not.toBe(c);
    // Entries are delimited: ["ab"] is not ["a", "b"].
    expect(stateKey({ codeIdentity: 'x', trackId: 't', chain: [{ id: 's', solution: ['ab'] }] })).not.toBe(stateKey({ codeIdentity: 'x', trackId: 't', chain: [{ id: 's', solution: ['a', 'b'] }] }));
  });

  it('a cached state is found only when whole (meta.json with its own key)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-states-'));
    dirs.push(dir);
    const states = new StepStates({ cacheDir: dir, codeIdentity: 'code-1', shellEnv: async () => ({ env: {}, pathPrepend: [] }) });
    const t = base();
    const key = states.keyOf(t, 'c');
    expect(states.cached(t, 'c')).toBeUndefined();
    fs.mkdirSync(path.join(dir, key));
    fs.writeFileSync(path.join(dir, key, 'meta.json'), '{"format":1,"key":"someone-else"');
    expect(states.cached(t, 'c')).toBeUndefined();
    fs.writeFileSync(path.join(dir, key, 'meta.json'), JSON.stringify({ format: 1, key }));
    expect(states.cached(t, 'c')?.clusterFile).toBe(path.join(dir, key, 'cluster.json'));
  });
});

describe('a state moved into a learner’s cluster and shell', () => {
  it('moves node addresses to the learner’s block, never a longer number, and times by whole seconds', () => {
    const json = JSON.stringify({ ip: '127.1.2.3', other: '127.1.23.4', url: 'http://127.1.2.7:3000/', t: '2026-01-01T00:00:00Z', f: '2026-01-01T00:00:00.123456Z' });
    const out = JSON.parse(rebaseState(json, '127.1.2', '127.9.8', 61_400)) as Record<string, string>;
    expect(out).toEqual({ ip: '127.9.8.3', other: '127.1.23.4', url: 'http://127.9.8.7:3000/', t: '2026-01-01T00:01:01Z', f: '2026-01-01T00:01:01.123456Z' });
  });

  it('keeps what the shell changed: exports, PATH additions and the folder, with the home as $HOME', () => {
    const home = '/tmp/scratch/home';
    const before = { cwd: home, env: { PATH: '/usr/bin', HOME: home, KEEP: 'x' } };
    const after = { cwd: `${home}/istio-1.30.3`, env: { PATH: `${home}/istio-1.30.3/bin:/usr/bin`, HOME: home, KEEP: 'x', GATEWAY_URL: '127.1.2.3:31000', OLDPWD: home, PWD: `${home}/istio-1.30.3` } };
    const diff = shellDiff(before, after, home, '/usr/bin');
    expect(diff).toEqual({ cwd: 'istio-1.30.3', env: { GATEWAY_URL: '127.1.2.3:31000' }, pathPrepend: ['$HOME/istio-1.30.3/bin'] });
    expect(stepEnvScript(diff, 't: the start of step x')).toBe(
      [
        '# t: the start of step x',
        '# Written by "Reset this step" / "Jump to step"; the next reset or jump rewrites it.',
        `export PATH="$HOME"'/istio-1.30.3/bin':"$PATH"`,
        `export GATEWAY_URL='127.1.2.3:31000'`,
        `cd "$HOME"/'istio-1.30.3' 2>/dev/null || true`,
        '',
      ].join('\n'),
    );
    // A value with a quote stays one literal word.
    expect(stepEnvScript({ env: { Q: "it's" }, pathPrepend: [] }, 'x')).toContain(`export Q='it'\\''s'`);
  });
});

describe('replacing a store’s contents', () => {
  it('deletes, creates and updates as events, leaves equal objects (times apart) and kept buckets alone', () => {
    const store = new ObjectStore();
    store.create('/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'same', namespace: 'd', uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z' }, data: { a: '1' } });
    store.create('/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gone', namespace: 'd', uid: 'u2' } });
    store.create('/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'changed', namespace: 'd', uid: 'u3' }, data: { a: '1' } });
    store.create('/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'mine', uid: 'n1' } });
    const events: string[] = [];
    store.onAnyChange((e) => events.push(`${e.type} ${e.object.metadata.name}`));
    const counts = store.replaceContents(
      {
        rv: 5,
        buckets: {
          '/configmaps': [
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'same', namespace: 'd', uid: 'u1', creationTimestamp: '2026-02-02T00:00:00Z', resourceVersion: '99' }, data: { a: '1' } },
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'changed', namespace: 'd', uid: 'u3' }, data: { a: '2' } },
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'new', namespace: 'd', uid: 'u4' } },
          ],
          '/nodes': [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'theirs', uid: 'n2' } }],
        },
      },
      (bucket) => bucket === '/nodes',
    );
    expect(counts).toEqual({ added: 1, modified: 1, deleted: 1, unchanged: 1 });
    expect(events).toEqual(['DELETED gone', 'MODIFIED changed', 'ADDED new']);
    expect(store.get('/configmaps', 'd', 'same')!.metadata.creationTimestamp).toBe('2026-01-01T00:00:00Z');
    expect(store.list('/nodes').map((n) => n.metadata.name)).toEqual(['mine']);
  });
});
