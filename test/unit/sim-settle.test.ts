/** settle(): quiet means a whole pass over every controller with the store unchanged, and it says so when that never happens. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../server/sim/cluster.js';

let cluster: EmbeddedCluster;

beforeAll(async () => {
  cluster = await EmbeddedCluster.start();
});

afterAll(async () => {
  await cluster?.stop();
});

describe('settle', () => {
  it('waits for work controllers queue in reaction to each other', async () => {
    const cms = cluster.api.kinds.require('', 'v1', 'configmaps');
    // A controller that reacts to its own writes one pass later: settle must keep coming back.
    let pending = 8; // more than any fixed number of rounds a settle() might try
    const unregister = cluster.api.controllers.register({
      name: 'chain',
      async idle() {
        if (pending > 0) await cluster.api.rest.create(cms, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `chain-${pending--}` } });
      },
    });
    try {
      await cluster.settle();
      expect(pending).toBe(0);
      expect(cluster.store.count(cms.bucket, 'default')).toBeGreaterThanOrEqual(8);
    } finally {
      unregister();
    }
  });

  it('throws a clear error when the cluster never stops changing', async () => {
    const cms = cluster.api.kinds.require('', 'v1', 'configmaps');
    await cluster.api.rest.create(cms, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'flapping' }, data: { n: '0' } });
    let n = 0;
    const unregister = cluster.api.controllers.register({
      name: 'flapper',
      async idle() {
        const cur = cluster.api.store.get(cms.bucket, 'default', 'flapping')!;
        await cluster.api.rest.update(cms, 'default', 'flapping', { ...cur, data: { n: String(++n) } });
      },
    });
    try {
      await expect(cluster.settle()).rejects.toThrow(/did not settle: the store was still changing after \d+ passes over its controllers \(.*flapper.*\)/);
    } finally {
      unregister();
    }
    await cluster.settle();
  });
});
