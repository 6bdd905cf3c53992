import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ObjectStore } from '../../server/sim/storage/store.js';
import { ClusterPersistence } from '../../server/sim/storage/persistence.js';

const obj = (name: string, ns = 'default', data: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data });
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-persist-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** What a new cluster process does: load what is on disk into a fresh store, then keep logging. */
function reopen(dir: string, warnings: string[] = [], compactBytes?: number) {
  const p = new ClusterPersistence(dir, { warn: (m) => warnings.push(m), ...(compactBytes ? { compactBytes } : {}) });
  const loaded = p.load();
  const store = new ObjectStore();
  if (loaded.snapshot) store.restore(loaded.snapshot);
  p.attach(store);
  return { p, store, loaded };
}
const names = (s: ObjectStore) => s.list('/configmaps').map((o) => `${o.metadata.namespace}/${o.metadata.name}=${JSON.stringify(o.data)}`);

describe('cluster persistence', () => {
  it('every committed change is on disk before the write returns (no close, as after kill -9)', () => {
    const dir = tmp();
    const { store } = reopen(dir);
    const a = store.create('/configmaps', obj('a', 'default', { v: '1' }));
    store.create('/configmaps', obj('b', 'other'));
    store.update('/configmaps', { ...a, data: { v: '2' } });
    store.delete('/configmaps', 'other', 'b');
    const lastRV = store.currentRV;
    // Never closed: a second process reads what the first left.
    const { store: again, loaded } = reopen(dir);
    expect(loaded.problems).toEqual([]);
    expect(loaded.replayed).toBe(4);
    expect(names(again)).toEqual(['default/a={"v":"2"}']);
    expect(again.currentRV).toBeGreaterThan(lastRV);
    expect(Number(again.create('/configmaps', obj('c')).metadata.resourceVersion)).toBeGreaterThan(lastRV);
  });

  it('ignores a torn last line and keeps appending after what was valid', () => {
    const dir = tmp();
    const { store } = reopen(dir);
    store.create('/configmaps', obj('kept'));
    fs.appendFileSync(path.join(dir, 'log.jsonl'), '{"rv":99,"op":"p","b":"/configmaps","o":{"metadata":{"name":"tor');
    const warnings: string[] = [];
    const { store: again, loaded } = reopen(dir, warnings);
    expect(names(again)).toEqual(['default/kept={}']);
    expect(loaded.problems).toEqual([expect.stringContaining('ignored an incomplete last entry')]);
    again.create('/configmaps', obj('after'));
    const third = reopen(dir);
    expect(names(third.store)).toEqual(['default/after={}', 'default/kept={}']);
    expect(third.loaded.problems).toEqual([]);
  });

  it('restores what is valid from damaged files, says what was wrong, never throws', () => {
    const dir = tmp();
    const { store, p } = reopen(dir);
    store.create('/configmaps', obj('snap'));
    p.compact(store);
    store.create('/configmaps', obj('one'));
    fs.appendFileSync(path.join(dir, 'log.jsonl'), 'garbage\n{"rv":"x"}\n');
    store.create('/configmaps', obj('two'));
    let r = reopen(dir);
    expect(names(r.store)).toEqual(['default/one={}', 'default/snap={}', 'default/two={}']);
    expect(r.loaded.problems).toEqual([expect.stringMatching(/skipped 2 damaged entries/)]);

    // A snapshot cut in half: the log alone is replayed.
    r.store.create('/configmaps', obj('three'));
    const snapshot = path.join(dir, 'snapshot.json');
    fs.writeFileSync(snapshot, fs.readFileSync(snapshot, 'utf8').slice(0, 40));
    r = reopen(dir);
    expect(names(r.store)).toEqual(['default/three={}']);
    expect(r.loaded.problems).toEqual([expect.stringMatching(/snapshot\.json is damaged .*starting from the log alone/)]);

    fs.writeFileSync(snapshot, '[1,2]');
    fs.writeFileSync(path.join(dir, 'log.jsonl'), '\u0000\u0001binary\n');
    r = reopen(dir);
    expect(names(r.store)).toEqual([]);
    expect(r.loaded.problems).toHaveLength(2);
  });

  it('folds the log into the snapshot as it grows; entries the snapshot holds are not replayed twice', () => {
    const dir = tmp();
    const { store } = reopen(dir, [], 2048);
    for (let i = 0; i < 40; i++) store.create('/configmaps', obj(`cm${i}`, 'default', { pad: 'x'.repeat(100) }));
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      expect(fs.statSync(path.join(dir, 'log.jsonl')).size).toBeLessThan(4096);
      // A compaction cut short after the rename, before the log was emptied: the old entries are still there.
      const stale = `${JSON.stringify({ rv: 2, op: 'd', b: '/configmaps', ns: 'default', n: 'cm0' })}\n`;
      fs.writeFileSync(path.join(dir, 'log.jsonl'), stale + fs.readFileSync(path.join(dir, 'log.jsonl'), 'utf8'));
      const again = reopen(dir);
      expect(again.store.list('/configmaps')).toHaveLength(40);
      expect(fs.statSync(path.join(dir, 'snapshot.json')).mode & 0o777).toBe(0o600);
    });
  });
});
