import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../server/sim/images/testing/memory-network.js';
import { request } from '../../server/sim/images/http.js';

/** Bookinfo with reviews v2 only (black stars: a 10 s timeout to ratings). */
function bookinfoV2() {
  const net = new MemoryNetwork();
  for (const app of ['details', 'ratings', 'reviews', 'productpage']) net.addService(app, { app }, [{ port: 9080 }]);
  for (const [app, v] of [['details', 'v1'], ['ratings', 'v1'], ['reviews', 'v2'], ['productpage', 'v1']]) {
    net.addPod({ name: `${app}-${v}-5d8f7c9b4-abcde`, image: `docker.io/istio/examples-bookinfo-${app}-${v}:1.20.3`, labels: { app, version: v }, containerName: app });
  }
  const client = net.addPod({ name: 'curl-1', image: 'curlimages/curl:8.16.0', command: ['/bin/sleep', 'infinity'] });
  return { net, client };
}

describe('Bookinfo under a ratings delay (the fault-injection task)', () => {
  it('ratings slower than productpage can wait: the page comes after 2 × 3 s with the reviews error, status 200', async () => {
    const { net, client } = bookinfoV2();
    // What a 7 s delay for jason does: reviews v2 waits up to 10 s, productpage gives up after 3 s, twice.
    net.setFault('ratings-v1-5d8f7c9b4-abcde', 'hang');
    const start = Date.now();
    const res = await client.net.request({ host: 'productpage', port: 9080 }, request('GET', '/productpage'));
    const took = Date.now() - start;
    expect(res.status).toBe(200);
    const page = res.body.toString('utf8');
    expect(page).toContain('Error fetching product reviews');
    expect(page).toContain('Sorry, product reviews are currently unavailable for this book.');
    expect(page).not.toContain('Error fetching product details');
    expect(took).toBeGreaterThanOrEqual(5900);
    // Two tries of 3 s, not a third (9 s); the rest is room for a loaded machine.
    expect(took).toBeLessThan(8500);
    const logs = net.logs.get('productpage-v1-5d8f7c9b4-abcde')!;
    expect(logs.filter((l) => l === 'DEBUG:urllib3.connectionpool:Starting new HTTP connection (1): reviews:9080')).toHaveLength(2);
  }, 15_000);
});
