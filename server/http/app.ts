/**
 * The Express app: the built client, the lesson and progress APIs, all behind the token.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import * as z from 'zod';
import { jsonBody } from './json-body.js';
import { NO_LEARNER, NO_TOKEN, type Auth } from './auth.js';
import { onSitePath } from './site.js';
import type { ProgressStore } from '../progress/store.js';
import type { LessonLibrary } from './lesson-library.js';
import type { CheckEngine } from '../checks/engine.js';
import type { MeshWatcher } from '../mesh/watcher.js';
import { ISTIO_RELEASE_PREFIX, istioReleaseRouter } from './istio-release.js';
import { WORKSHOP_ENDED, type workshopHttp } from '../workshops/http.js';

type WorkshopRoutes = Pick<ReturnType<typeof workshopHttp>, 'router' | 'membership' | 'learnerApi' | 'scope'>;
import { ResetError, type StepResets } from '../steps/reset.js';

export interface AppDeps {
  auth: Auth;
  progress: ProgressStore;
  lessons: LessonLibrary;
  checks: CheckEngine;
  /** The live mesh picture of each learner's own cluster. */
  mesh?: MeshWatcher;
  /** Reset this step / Jump to step. */
  resets?: StepResets;
  logger: Logger;
  clientDir: string;
  info: () => Promise<unknown>;
  /** The learner's cluster's state (a kind cluster being created shows its progress). */
  clusterStatus?: (learnerId: string) => unknown;

  /** Workshops (join pages, instructor API, learners' membership); see server/workshops/http.ts. */
  workshops?: WorkshopRoutes;
  /** Told when a learner's page changed their progress (the instructor's dashboard). */
  onProgress?: (learnerId: string, trackId: string, currentStep: string | undefined) => void;
  /** Express's `trust proxy` (config.ts): whose X-Forwarded-For `req.ip` believes; none by default. */
  trustProxy?: number | string[];
  /** Where the Istio release tarball is cached (under the data dir). */
  istioReleaseCacheDir?: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    learnerId?: string;
  }
}

const progressUpdate = z
  .object({
    currentStep: z.string().min(1).max(200).optional(),
    done: z.object({ stepId: z.string().min(1).max(200), done: z.boolean() }).optional(),
  })
  .strict();

/**
 * The page for a browser without the token. It shows the address it was opened at (the Host
 * header already passed the DNS-rebinding check, and is escaped), so the example URL is this
 * server's, whatever its port.
 */
function unauthorizedPage(req: Request): string {
  const origin = escapeHtml(`${req.protocol}://${req.headers.host ?? 'localhost'}`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>istio-playground: access token needed</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2328}code{background:#f0f0f0;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>Access token needed</h1><p>This playground gives its visitors a real shell, so it only opens with the access token the server printed when it started.</p>
<p>Open the URL from the server's output, which looks like <code>${origin}/?token=…</code>.</p></body></html>`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The paths that load the app: loading it is how a browser gets its learner identity. */
const APP_PAGES = new Set(['/', '/index.html']);

const isApi = (pathname: string) => pathname === '/api' || pathname.startsWith('/api/');

export function createApp(deps: AppDeps): express.Express {
  const { auth, progress, lessons, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', deps.trustProxy ?? false);

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          // Shiki's highlighted code carries its colours in style attributes.
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      crossOriginEmbedderPolicy: false,
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );

  // DNS rebinding: a request naming a host we do not answer for gets nothing, not even the 401 page.
  app.use((req, res, next) => {
    const refused = auth.checkHost(req);
    if (!refused) return next();
    res.status(refused.status).type('text').send(refused.message);
  });

  // Liveness for container health checks (Dockerfile's HEALTHCHECK): says nothing about learners, needs no token.
  app.get('/healthz', (_req, res) => {
    res.type('text').send('ok\n');
  });

  // Istio's offline download (`curl -L … | sh -`) is public, static content: the one path served without the token.
  if (deps.istioReleaseCacheDir) app.use(ISTIO_RELEASE_PREFIX, istioReleaseRouter({ cacheDir: deps.istioReleaseCacheDir, logger }));

  // Join links and the instructor's page and API have their own access (server/workshops/http.ts).
  if (deps.workshops) {
    app.use(deps.workshops.router);
    app.use(deps.workshops.membership);
  }

  // Token exchange: the URL's token becomes a cookie and leaves the address bar. This is a page
  // load, so a browser without a learner identity gets one here.
  app.use((req, res, next) => {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (token === undefined || req.method !== 'GET') return next();
    // The Location is rebuilt from the path alone: `//evil.example/?token=…` stays on this site.
    const back = onSitePath(req.path);
    if (!auth.isValidToken(token)) {
      // A stale bookmark (old token) in a browser that is signed in still opens the playground.
      if (auth.hasAccess(req)) return res.redirect(302, back);
      res.status(401).type('html').send(unauthorizedPage(req));
      return;
    }
    const cookies = [auth.tokenCookieHeader()];
    if (auth.learnerOf(req) === undefined) cookies.push(auth.issueLearner().cookie);
    res.setHeader('Set-Cookie', cookies);
    res.redirect(302, back);
  });

  app.use((req, res, next) => {
    // A workshop's learner holds no token: their membership lets them in while the workshop lasts.
    if (auth.hasAccess(req) || req.workshop?.active) return next();
    if (req.workshop) {
      if (isApi(req.path)) res.status(403).json({ error: WORKSHOP_ENDED });
      else res.status(403).type('html').send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Workshop ended</title></head><body><h1>Workshop ended</h1><p>${WORKSHOP_ENDED}</p></body></html>`);
      return;
    }
    if (isApi(req.path)) res.status(401).json({ error: NO_TOKEN });
    else res.status(401).type('html').send(unauthorizedPage(req));
  });

  // Learner identity: the app page issues one to a browser without (or with a stale one); the API
  // answers only a known learner and never creates one (nor a cluster) for an unknown caller.
  app.use((req, res, next) => {
    const learnerId = auth.learnerOf(req);
    if (learnerId !== undefined) {
      req.learnerId = learnerId;
      if (isApi(req.path)) progress.touchLearner(learnerId);
      return next();
    }
    if (isApi(req.path)) {
      res.status(401).json({ error: NO_LEARNER });
      return;
    }
    if (req.method === 'GET' && APP_PAGES.has(req.path)) res.append('Set-Cookie', auth.issueLearner().cookie);
    next();
  });

  const api = express.Router();
  api.use(jsonBody({ limitBytes: 16 * 1024 }));
  // Same-site cookies already stop cross-site writes; refusing foreign Origins is a second lock.
  api.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const denied = auth.checkOrigin(req);
    if (denied && !denied.ok) {
      res.status(403).json({ error: denied.message });
      return;
    }
    next();
  });

  api.get('/cluster', (req, res) => {
    res.json(deps.clusterStatus?.(req.learnerId!) ?? { state: 'ready' });
  });

  if (deps.workshops) {
    api.use(deps.workshops.scope);
    api.use('/workshop', deps.workshops.learnerApi);
  }

  api.get('/info', async (_req, res) => {
    res.json(await deps.info());
  });

  api.get('/tracks', (req, res) => {
    const counts = progress.doneCounts(req.learnerId!);
    res.json({
      tracks: lessons.summaries().filter((t) => !req.workshop || req.workshop.tracks.includes(t.id)).map((t) => ({ ...t, doneCount: counts[t.id] ?? 0 })),
      problems: lessons.problems(),
    });
  });

  api.get('/tracks/:trackId', async (req, res) => {
    const track = await lessons.renderedTrack(req.params.trackId);
    if (!track) {
      res.status(404).json({ error: `track "${req.params.trackId}" not found` });
      return;
    }
    res.json(track);
  });

  api.get('/progress/:trackId', (req, res) => {
    if (!lessons.hasTrack(req.params.trackId)) {
      res.status(404).json({ error: `track "${req.params.trackId}" not found` });
      return;
    }
    res.json(progress.get(req.learnerId!, req.params.trackId));
  });

  api.put('/progress/:trackId', (req, res) => {
    const trackId = req.params.trackId;
    if (!lessons.hasTrack(trackId)) {
      res.status(404).json({ error: `track "${trackId}" not found` });
      return;
    }
    const parsed = progressUpdate.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: `invalid progress update: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}` });
      return;
    }
    const { currentStep, done } = parsed.data;
    for (const stepId of [currentStep, done?.stepId]) {
      if (stepId !== undefined && !lessons.hasStep(trackId, stepId)) {
        res.status(400).json({ error: `track "${trackId}" has no step "${stepId}"` });
        return;
      }
    }
    if (currentStep) progress.setCurrentStep(req.learnerId!, trackId, currentStep);
    if (done) progress.setStepDone(req.learnerId!, trackId, done.stepId, done.done);
    deps.onProgress?.(req.learnerId!, trackId, currentStep);
    res.json(progress.get(req.learnerId!, trackId));
  });

  // Live check verdicts for the step a page shows, as server-sent events.
  api.get('/checks/:trackId/:stepId/events', (req, res) => {
    const { trackId, stepId } = req.params;
    let open = true;
    const send = (state: unknown) => {
      if (open) res.write(`event: checks\ndata: ${JSON.stringify(state)}\n\n`);
    };
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    const unsubscribe = deps.checks.subscribe(req.learnerId!, trackId, stepId, send);
    if (!unsubscribe) {
      res.write(`event: error\ndata: ${JSON.stringify({ error: `track "${trackId}" has no step "${stepId}"` })}\n\n`);
      res.end();
      return;
    }
    // Comments keep proxies and the browser from timing the stream out.
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
    req.on('close', () => {
      open = false;
      clearInterval(heartbeat);
      unsubscribe();
    });
  });

  api.post('/checks/:trackId/:stepId/run', async (req, res) => {
    const state = await deps.checks.runNow(req.learnerId!, req.params.trackId, req.params.stepId);
    if (!state) {
      res.status(404).json({ error: `track "${req.params.trackId}" has no step "${req.params.stepId}"` });
      return;
    }
    res.json(state);
  });

  // The mesh picture of the caller's own cluster: the learner comes from their cookie, never from the request.
  api.get('/mesh', async (req, res) => {
    if (!deps.mesh) return void res.status(404).json({ error: 'no mesh picture on this server' });
    const update = await deps.mesh.snapshot(req.learnerId!);
    res.setHeader('Cache-Control', 'no-store');
    if ('error' in update) res.status(503).json(update);
    else res.json(update.graph);
  });

  api.get('/mesh/events', (req, res) => {
    if (!deps.mesh) return void res.status(404).json({ error: 'no mesh picture on this server' });
    let open = true;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    const unsubscribe = deps.mesh.subscribe(req.learnerId!, (update) => {
      if (open) res.write('error' in update ? `event: error\ndata: ${JSON.stringify(update)}\n\n` : `event: mesh\ndata: ${JSON.stringify(update.graph)}\n\n`);
    });
    req.on('close', () => {
      open = false;
      unsubscribe();
    });
  });

  // Reset this step / Jump to step: always the caller's own cluster and home (the learner comes from the cookie).
  api.post('/steps/:trackId/:stepId/reset', (req, res) => {
    if (!deps.resets) return void res.status(404).json({ error: 'step resets are not available on this server' });
    try {
      const { status } = deps.resets.start(req.learnerId!, req.params.trackId, req.params.stepId);
      res.status(202).json(status);
    } catch (err) {
      if (err instanceof ResetError) return void res.status(err.status).json({ error: err.message });
      throw err;
    }
  });

  api.get('/steps/reset', (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(deps.resets?.status(req.learnerId!) ?? null);
  });

  api.get('/steps/reset/events', (req, res) => {
    if (!deps.resets) return void res.status(404).json({ error: 'step resets are not available on this server' });
    let open = true;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    // Headers now, not with the first event: a client waits for them before it asks for a reset.
    res.flushHeaders();
    const unsubscribe = deps.resets.subscribe(req.learnerId!, (status) => {
      if (open) res.write(`event: reset\ndata: ${JSON.stringify(status)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
    req.on('close', () => {
      open = false;
      clearInterval(heartbeat);
      unsubscribe();
    });
  });

  api.use((_req, res) => {
    res.status(404).json({ error: 'no such API endpoint' });
  });
  app.use('/api', api);

  const indexFile = path.join(deps.clientDir, 'index.html');
  app.use(express.static(deps.clientDir, { index: false, fallthrough: true, maxAge: 0 }));
  app.get('/', (_req, res) => {
    if (!fs.existsSync(indexFile)) {
      res.status(500).type('text').send(`The browser client is not built (${indexFile} is missing). Run: npm run build`);
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.sendFile(indexFile);
  });

  app.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });

  // Malformed JSON and other client errors get a clear 4xx; anything else is logged, never leaked.
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error({ err, path: req.path }, 'request failed');
    const message = status === 500 ? 'internal error' : err.type === 'entity.parse.failed' ? 'request body is not valid JSON' : err.message;
    if (req.path.startsWith('/api/')) res.status(status).json({ error: message });
    else res.status(status).type('text').send(message);
  });

  return app;
}
