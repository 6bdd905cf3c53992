import type WebSocket from 'ws';

/** Collects a socket's binary output (a terminal's screen) and waits for text in it. */
export function screenOf(ws: WebSocket) {
  let text = '';
  ws.on('message', (data: Buffer, binary) => {
    if (binary) text += data.toString('utf8');
  });
  return {
    text: () => text,
    async waitFor(needle: string, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!text.includes(needle)) {
        if (Date.now() > deadline) throw new Error(`never saw ${needle}; got ${JSON.stringify(text.slice(-300))}`);
        // Woken by the next frame, or by the deadline when none comes.
        await new Promise<void>((r) => {
          const timer = setTimeout(r, Math.max(0, deadline - Date.now()));
          ws.once('message', () => {
            clearTimeout(timer);
            r();
          });
        });
      }
    },
  };
}
