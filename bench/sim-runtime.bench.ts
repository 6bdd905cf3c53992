/**
 * Workload runtime cost: a productpage render (details + reviews + ratings calls and the HTML)
 * and an exec of the documented `curl | grep` check, against a single details GET as the
 * baseline measured in the same run. In-memory network, no sockets.
 */
import { MemoryNetwork, deployBookinfo } from '../server/sim/images/testing/memory-network.js';
import { exec } from '../server/sim/images/testing/exec.js';
import { request } from '../server/sim/images/http.js';

async function measure(label: string, iterations: number, fn: () => Promise<unknown>): Promise<{ label: string; median: number; p99: number; perSec: number }> {
  for (let i = 0; i < Math.min(50, iterations); i++) await fn();
  const times: number[] = [];
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  const total = performance.now() - started;
  times.sort((a, b) => a - b);
  return { label, median: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)], perSec: (iterations * 1000) / total };
}

export default async function run(): Promise<void> {
  const net = new MemoryNetwork({ record: false });
  const pods = deployBookinfo(net);
  const client = pods['ratings-v1'];
  const results = [
    await measure('details GET /details/0 (baseline)', 3000, () => client.net.request({ host: 'details', port: 9080 }, request('GET', '/details/0'))),
    await measure('productpage GET /productpage', 1500, () => client.net.request({ host: 'productpage', port: 9080 }, request('GET', '/productpage'))),
    await measure('exec sh -c "curl -sS productpage:9080/productpage | grep -o <title>"', 500, () =>
      exec(client, ['sh', '-c', 'curl -sS productpage:9080/productpage | grep -o "<title>.*</title>"']),
    ),
  ];
  const base = results[0].median;
  for (const r of results) {
    process.stdout.write(
      `${r.label.padEnd(72)} median ${r.median.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  ${Math.round(r.perSec)}/s  ×${(r.median / base).toFixed(1)} baseline\n`,
    );
  }
  const mem = process.memoryUsage();
  process.stdout.write(`heap used after the run: ${(mem.heapUsed / 1024 / 1024).toFixed(1)} MB\n`);
}
