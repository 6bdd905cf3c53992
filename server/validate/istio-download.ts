/**
 * What `$ISTIO_DOWNLOAD_URL` names in a validation shell. Learner shells get the playground's own
 * offline stand-in for https://istio.io/downloadIstio; validation has no playground server, so
 * on the embedded backend it serves the same router on a loopback port for the run, and on a
 * real cluster it names Istio's real script (the release's istioctl only drives embedded clusters).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { ISTIO_DOWNLOAD_PATH, ISTIO_RELEASE_PREFIX, istioReleaseRouter } from '../http/istio-release.js';

export const REAL_ISTIO_DOWNLOAD_URL = 'https://istio.io/downloadIstio';

export interface IstioDownload {
  url: string;
  close(): Promise<void>;
}

export async function serveIstioDownload(cacheDir: string): Promise<IstioDownload> {
  const app = express();
  app.use(ISTIO_RELEASE_PREFIX, istioReleaseRouter({ cacheDir, logger: pino({ level: 'error' }, pino.destination(2)) }));
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${ISTIO_DOWNLOAD_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
