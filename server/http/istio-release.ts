/**
 * The offline Istio download, served without the access token: a learner's `curl -L <url> | sh -`
 * carries no cookie, and what is served is public, static content (the download script and the
 * release tarball, and the Gateway API CRDs istio.io installs from GitHub). Only GET/HEAD of these
 * exact paths; everything else under the prefix is 404.
 */
import express from 'express';
import type { Logger } from 'pino';
import { ISTIO_VERSION } from '../sim/addons/istio/version.js';
import { GATEWAY_API_VERSION } from '../sim/addons/istio/gateway-api/version.js';

export const ISTIO_RELEASE_PREFIX = '/istio';
export const ISTIO_DOWNLOAD_PATH = `${ISTIO_RELEASE_PREFIX}/downloadIstio`;
/** The Gateway API CRDs (standard channel) that istio.io has learners fetch from GitHub, served offline. */
export const GATEWAY_API_CRDS_PATH = `${ISTIO_RELEASE_PREFIX}/gateway-api/${GATEWAY_API_VERSION}/standard-install.yaml`;

/** The playground URL as the client reached it, if it is a plain host[:port] (it is pasted into a shell script). */
function baseUrl(req: express.Request): string | undefined {
  const host = req.headers.host ?? '';
  if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)) return undefined;
  return `${req.protocol === 'https' ? 'https' : 'http'}://${host}`;
}

export function istioReleaseRouter(opts: { cacheDir: string; logger: Logger }): express.Router {
  const router = express.Router();
  router.get('/downloadIstio', async (req, res) => {
    const base = baseUrl(req);
    if (!base) {
      res.status(400).type('text').send('bad Host header\n');
      return;
    }
    const { downloadScript } = await import('../sim/addons/istio/release/script.js');
    res.setHeader('Cache-Control', 'no-cache');
    res.type('text/x-sh; charset=utf-8').send(downloadScript(base));
  });
  const tarballPath = /^\/releases\/([^/]+)\/istio-([^/]+)-(linux|osx)-(amd64|arm64|armv7)\.tar\.gz$/;
  router.get(tarballPath, async (req, res, next) => {
    const m = tarballPath.exec(req.path)!;
    if (m[1] !== ISTIO_VERSION || m[2] !== ISTIO_VERSION) {
      res.status(404).type('text').send('Not Found\n');
      return;
    }
    try {
      const { releaseTarball } = await import('../sim/addons/istio/release/build.js');
      const data = await releaseTarball(opts.cacheDir);
      res.setHeader('Cache-Control', 'public, max-age=3600');
      res.type('application/gzip').send(data);
    } catch (err) {
      opts.logger.error({ err }, 'building the Istio release failed');
      next(err);
    }
  });
  router.get(GATEWAY_API_CRDS_PATH.slice(ISTIO_RELEASE_PREFIX.length), async (_req, res) => {
    const { standardInstallYaml } = await import('../sim/addons/istio/gateway-api/crds.js');
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('application/yaml; charset=utf-8').send(standardInstallYaml());
  });
  router.use((_req, res) => {
    res.status(404).type('text').send('Not Found\n');
  });
  return router;
}
