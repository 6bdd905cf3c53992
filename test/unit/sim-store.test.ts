import { describe, expect, it } from 'vitest';
import { ObjectStore, type StoreEvent } from '../../server/sim/storage/store.js';
import { ApiError } from '../../server/sim/errors.js';

const obj = (name: string, ns = 'default', data: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data });

describe('ObjectStore', () => {
  it('gives every write a higher resourceVersion, including deletes', () => {
    const s = new ObjectStore();
    const a = s.create('/configmaps', obj('a'));
    const b = s.update('/configmaps', { ...a, data: { x: '1' } });
    const gone = s.delete('/configmaps', 'default', 'a');
    expect(Number(a.metadata.resourceVersion)).toBeLessThan(Number((b as { metadata: { resourceVersion: string } }).metadata.resourceVersion));
    expect(Number(gone!.metadata.resourceVersion)).toBeGreaterThan(Number((b as { metadata: { resourceVersion: string } }).metadata.resourceVersion));
  });

  it('rebuilds a bucket as it was at a past resourceVersion, until the history no longer reaches it', () => {
    const s = new ObjectStore(20);
    const a = s.create('/configmaps', obj('a', 'default', { v: '1' }));
    s.create('/configmaps', obj('b', 'other'));
    const at = s.currentRV;
    s.update('/configmaps', { ...a, data: { v: '2' } });
    s.delete('/configmaps', 'other', 'b');
    s.create('/configmaps', obj('c'));
    s.create('/secrets', obj('unrelated'));
    const view = (xs: ReturnType<ObjectStore['listAt']>) => xs!.map((o) => [o.metadata.namespace, o.metadata.name, (o.data as Record<string, string>)?.v]);
    expect(view(s.listAt('/configmaps', at))).toEqual([['default', 'a', '1'], ['other', 'b', undefined]]);
    expect(view(s.listAt('/configmaps', at, 'default'))).toEqual([['default', 'a', '1']]);
    expect(view(s.listAt('/configmaps', s.currentRV))).toEqual([['default', 'a', '2'], ['default', 'c', undefined]]);
    for (let i = 0; i < 30; i++) s.create('/configmaps', obj(`f${i}`));
    expect(s.listAt('/configmaps', at)).toBeUndefined();
  });

  it('refuses an update against a stale resourceVersion and reports missing objects', () => {
    const s = new ObjectStore();
    const a = s.create('/configmaps', obj('a'));
    s.update('/configmaps', { ...a, data: { x: '1' } });
    expect(s.update('/configmaps', { ...a, data: { x: '2' } }, a.metadata.resourceVersion)).toBe('conflict');
    expect(s.update('/configmaps', obj('zzz'))).toBe('missing');
  });

  it('hands out copies, so callers cannot change stored state', () => {
    const s = new ObjectStore();
    s.create('/configmaps', obj('a', 'default', { k: 'v' }));
    const got = s.get('/configmaps', 'default', 'a')!;
    (got.data as Record<string, string>).k = 'mutated';
    expect(s.get('/configmaps', 'default', 'a')!.data).toEqual({ k: 'v' });
  });

  it('lists in namespace/name order and filters by namespace', () => {
    const s = new ObjectStore();
    for (const [n, ns] of [['b', 'y'], ['a', 'y'], ['c', 'x']]) s.create('/configmaps', obj(n, ns));
    expect(s.list('/configmaps').map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['x/c', 'y/a', 'y/b']);
    expect(s.list('/configmaps', 'y').map((o) => o.metadata.name)).toEqual(['a', 'b']);
  });

  it('replays history after a resourceVersion, then streams; too old is 410 Gone', () => {
    const s = new ObjectStore(10);
    const start = s.currentRV;
    s.create('/configmaps', obj('a'));
    const seen: string[] = [];
    const stop = s.watch({ bucket: '/configmaps', namespace: 'default' }, start, (e: StoreEvent) => seen.push(`${e.type} ${e.object.metadata.name}`));
    s.create('/configmaps', obj('b'));
    s.create('/configmaps', obj('other', 'elsewhere'));
    stop();
    s.create('/configmaps', obj('c'));
    expect(seen).toEqual(['ADDED a', 'ADDED b']);
    for (let i = 0; i < 30; i++) s.create('/configmaps', obj(`n${i}`));
    try {
      s.watch({ bucket: '/configmaps' }, start, () => {});
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe(410);
      expect((e as ApiError).message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
    }
  });

  it('restores a snapshot without letting resourceVersion go backwards', () => {
    const s = new ObjectStore();
    s.create('/configmaps', obj('kept'));
    const snap = s.snapshot();
    s.create('/configmaps', obj('later'));
    const before = s.currentRV;
    s.restore(snap);
    expect(s.list('/configmaps').map((o) => o.metadata.name)).toEqual(['kept']);
    expect(s.currentRV).toBeGreaterThan(before);
  });

  it('drops a whole bucket with DELETED events', () => {
    const s = new ObjectStore();
    s.create('example.com/widgets', obj('w1'));
    s.create('example.com/widgets', obj('w2'));
    const deleted: string[] = [];
    s.onAnyChange((e) => e.type === 'DELETED' && deleted.push(e.object.metadata.name!));
    s.dropBucket('example.com/widgets');
    expect(deleted.sort()).toEqual(['w1', 'w2']);
    expect(s.count('example.com/widgets')).toBe(0);
  });
});
