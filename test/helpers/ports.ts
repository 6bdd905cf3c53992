import net from 'node:net';

/**
 * `count` consecutive TCP ports free on every address right now, for a setting that takes a base
 * port and uses the next ones too (kind's --kind-host-port publishes two).
 *
 * Chosen in 20000-29999, below the kernel's ephemeral range (32768-60999 here): a port from
 * listen(0) is free only at that moment, and its neighbour was never checked; any test running
 * alongside may then be given either one for its own listen(0) or outgoing connection. CI hit it:
 * "host port 42420 is in use" for a pair found by listen(0) on 42419.
 */
export async function freePorts(count: number): Promise<number> {
  const bind = (port: number) =>
    new Promise<net.Server | undefined>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(undefined));
      s.listen({ port, host: '0.0.0.0', exclusive: true }, () => resolve(s));
    });
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * (10_000 - count));
    const held = await Promise.all(Array.from({ length: count }, (_, i) => bind(base + i)));
    await Promise.all(held.map((s) => s && new Promise((r) => s.close(r))));
    if (held.every(Boolean)) return base;
  }
}

/** Two consecutive free ports: kind's host port and the one after it. */
export const freePortPair = (): Promise<number> => freePorts(2);
