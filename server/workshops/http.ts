/**
 * Workshops over HTTP: the join pages (server-rendered, no script), the instructor's page and API,
 * the learners' workshop API (broadcasts, hint-opened events), and the instructor's read-only
 * terminal view over WebSocket.
 *
 * CSRF: every cookie here is SameSite=Strict, so a cross-site page's requests carry none; on top,
 * state-changing instructor requests must be JSON (a cross-site form cannot send that without a
 * CORS preflight we never answer) from one of our origins, and the join form only from our origins.
 */
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import fs from 'node:fs';
import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { WebSocketServer, WebSocket } from 'ws';
import * as z from 'zod';
import type { Auth } from '../http/auth.js';
import { jsonBody } from '../http/json-body.js';
import type { TerminalSessions } from '../terminal/sessions.js';
import { encodeMessage } from '../terminal/protocol.js';
import { InstructorAuth, NO_INSTRUCTOR } from './instructor-auth.js';
import { JOIN_CODE_SHAPE, checkDisplayName, NAME_MAX } from './names.js';
import { RateLimit } from './rate-limit.js';
import { JOIN_REFUSALS, workshopStatus, type JoinRefusal, type Workshop } from './store.js';
import type { Workshops } from './service.js';
import { ResetError } from '../steps/reset.js';
import { resultsCsv, resultsJunit } from './export.js';
import { FORWARDED_BY, FORWARDED_NOT_HERE, type Forwarder, type ForwardTarget } from './forward.js';

export const WATCH_PATH = '/ws/watch';

export interface WorkshopHttpOptions {
  workshops: Workshops;
  auth: Auth;
  instructor: InstructorAuth;
  terminals: TerminalSessions;
  clientDir: string;
  /** Known tracks (id, title) for the create form and validation. */
  trackIds: () => { id: string; title: string }[];
  logger: Logger;
  /** Re-issues an instructor's request about a learner held by another live replica; absent, such requests are refused. */
  forwarder?: Forwarder;
  /** Join attempts per client address per minute (default 60) and unknown codes per 10 minutes (default 20). */
  joinLimits?: { perMinute?: number; badCodesPer10Min?: number };
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set for a learner who joined a workshop. */
    workshop?: { id: string; title: string; tracks: string[]; displayName: string; active: boolean };
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const PAGE_STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.6rem;line-height:1.25}label{display:block;font-weight:600;margin:1.2rem 0 .3rem}
input{font:inherit;padding:.5rem .6rem;width:100%;box-sizing:border-box;border:1px solid #8c959f;border-radius:6px}
button{font:inherit;margin-top:1rem;padding:.5rem 1.2rem;border-radius:6px;border:1px solid #1a7f37;background:#1f883d;color:#fff;cursor:pointer}
input:focus-visible,button:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.error{color:#b3261e;font-weight:600}.note{color:#57606a}
@media (prefers-color-scheme: dark){body{background:#0d1117;color:#e6edf3}input{background:#161b22;color:#e6edf3}.note{color:#9198a1}.error{color:#ff7b72}}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><link rel="icon" href="data:,"><style>${PAGE_STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function joinForm(workshop: Workshop, code: string, error?: string, name = ''): string {
  return page(
    `Join ${workshop.title}`,
    `<h1>Join “${escapeHtml(workshop.title)}”</h1>
<p class="note">You get a terminal and a Kubernetes cluster of your own. Your instructor sees the name you choose and your progress.</p>
<form method="post" action="/join/${escapeHtml(code)}" novalidate>
<label for="name">Your display name</label>
<input id="name" name="name" autocomplete="nickname" required maxlength="${NAME_MAX}" value="${escapeHtml(name)}"${error ? ' aria-invalid="true" aria-describedby="name-error"' : ''} autofocus>
${error ? `<p id="name-error" class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<button type="submit">Join the workshop</button>
</form>`,
  );
}

function refusalPage(reason: JoinRefusal | 'rate-limited', workshop?: Workshop): string {
  const text = reason === 'rate-limited' ? RATE_LIMITED : JOIN_REFUSALS[reason];
  return page('Cannot join this workshop', `<h1>Cannot join${workshop ? ` “${escapeHtml(workshop.title)}”` : ' this workshop'}</h1><p class="error" role="alert" data-reason="${reason}">${escapeHtml(text)}</p>`);
}

/**
 * Names the learner's workshop for a load balancer hashing on it (deploy/istio-routing): set with
 * the join form, so the form's POST already reaches the pod that will hold the learner. Not a
 * secret (the join code is); Lax so a join link opened from another site carries it on.
 */
export const ROUTE_COOKIE = 'pg_workshop';
const routeCookie = (workshopId: string) => `${ROUTE_COOKIE}=${workshopId}; Path=/; HttpOnly; SameSite=Lax`;

export const TERMINAL_ELSEWHERE = 'this learner’s terminal is open on another replica: the live view works only through the replica the learner is on';
export const RATE_LIMITED = 'Too many join attempts from your network: wait a minute and try again.';
export const WORKSHOP_ENDED = 'This workshop has ended: your access to it expired with it. Ask your instructor for a new join link.';

const REFUSAL_STATUS: Record<JoinRefusal, number> = { 'not-found': 404, closed: 403, expired: 410, full: 409, 'name-taken': 409 };

/** `name=…` from a small urlencoded form body. */
function readForm(req: Request, limit = 4096): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(Object.assign(new Error('request entity too large'), { status: 413 }));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

const createSchema = z
  .object({
    title: z.string().trim().min(1, 'a title is needed').max(120),
    tracks: z.array(z.string().min(1).max(200)).min(1, 'choose at least one track').max(50),
    capacity: z.number().int().min(1).max(1000),
    expiresInMinutes: z.number().int().min(1).max(60 * 24 * 30),
  })
  .strict();

const broadcastSchema = z.object({ message: z.string().trim().min(1, 'the message is empty').max(500) }).strict();
const resetStepSchema = z.object({ trackId: z.string().min(1).max(200), stepId: z.string().min(1).max(200) }).strict();
const hintSchema = z.object({ trackId: z.string().min(1).max(200), stepId: z.string().min(1).max(200) }).strict();

const issuesOf = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');

function sse(res: Response): (event: string, data: unknown) => void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
  res.on('close', () => clearInterval(heartbeat));
  return (event, data) => {
    if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
}

export function workshopHttp(options: WorkshopHttpOptions) {
  const { workshops, auth, instructor, logger } = options;
  const perMinute = new RateLimit(options.joinLimits?.perMinute ?? 60, 60_000);
  const badCodes = new RateLimit(options.joinLimits?.badCodesPer10Min ?? 20, 10 * 60_000);
  // The socket's address, or with `--trust-proxy` the client address the trusted proxies report (Express's req.ip).
  const clientKey = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

  /** Join pages and the instructor's page, API and assets: mounted before the learners' token check. */
  const router = express.Router();

  router.get('/join/:code', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    // Under no-referrer a browser posts the form with `Origin: null`, which the join refuses:
    // same-origin lets the form say where it comes from, and sends nothing to other sites.
    res.setHeader('Referrer-Policy', 'same-origin');
    const code = req.params.code;
    if (badCodes.blocked(clientKey(req))) return void res.status(429).type('html').send(refusalPage('rate-limited'));
    const workshop = JOIN_CODE_SHAPE.test(code) ? await workshops.store.byJoinCode(code) : undefined;
    if (!workshop) {
      badCodes.take(clientKey(req));
      return void res.status(404).type('html').send(refusalPage('not-found'));
    }
    // Opening the link again in the browser that joined: back to the lesson.
    const learnerId = auth.learnerOf(req);
    if (learnerId) {
      const mine = await workshops.store.membership(learnerId);
      if (mine?.workshop.id === workshop.id && workshopStatus(workshop, workshops.now()) !== 'expired') return void res.redirect(303, '/');
    }
    const status = workshopStatus(workshop, workshops.now());
    if (status !== 'open') return void res.status(REFUSAL_STATUS[status]).type('html').send(refusalPage(status, workshop));
    // Said before a name is typed; the join itself checks again, atomically.
    if ((await workshops.store.members(workshop.id)).length >= workshop.capacity) return void res.status(409).type('html').send(refusalPage('full', workshop));
    res.setHeader('Set-Cookie', routeCookie(workshop.id));
    res.type('html').send(joinForm(workshop, code));
  });

  router.post('/join/:code', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'same-origin');
    const refused = auth.checkOrigin(req);
    if (refused) return void res.status(403).type('text').send(refused.message);
    const key = clientKey(req);
    if (badCodes.blocked(key) || !perMinute.take(key)) return void res.status(429).type('html').send(refusalPage('rate-limited'));
    const code = req.params.code;
    const form = await readForm(req);
    const workshop = JOIN_CODE_SHAPE.test(code) ? await workshops.store.byJoinCode(code) : undefined;
    if (!workshop) {
      badCodes.take(key);
      return void res.status(404).type('html').send(refusalPage('not-found'));
    }
    const name = checkDisplayName(form.get('name'));
    if (!name.ok) return void res.status(400).type('html').send(joinForm(workshop, code, name.message, form.get('name')?.slice(0, 200) ?? ''));
    let cookie = '';
    const outcome = await workshops.join(code, name.name, () => {
      const issued = auth.issueLearner();
      cookie = issued.cookie;
      return issued.learnerId;
    });
    if (!outcome.ok) {
      if (outcome.reason === 'name-taken' && outcome.workshop) return void res.status(409).type('html').send(joinForm(outcome.workshop, code, JOIN_REFUSALS['name-taken'], name.name));
      return void res.status(REFUSAL_STATUS[outcome.reason]).type('html').send(refusalPage(outcome.reason, outcome.workshop));
    }
    logger.info({ workshopId: outcome.workshop.id, learnerId: outcome.member.learnerId }, 'learner joined a workshop');
    res.setHeader('Set-Cookie', [cookie, routeCookie(outcome.workshop.id)]);
    res.redirect(303, '/');
  });

  // The instructor's token exchange: ?admin_token= becomes a cookie and leaves the address bar.
  router.get('/admin', (req, res, next) => {
    const token = typeof req.query.admin_token === 'string' ? req.query.admin_token : undefined;
    if (token === undefined) return next();
    if (!instructor.isValidToken(token)) return void res.status(401).type('html').send(page('Instructor access needed', `<h1>Instructor access needed</h1><p class="error">${escapeHtml(NO_INSTRUCTOR)}</p>`));
    res.setHeader('Set-Cookie', instructor.cookieHeader());
    res.redirect(302, '/admin');
  });

  const requireInstructor = (req: Request, res: Response, next: () => void) => {
    if (instructor.isInstructor(req)) return next();
    if (req.originalUrl.startsWith('/api/')) res.status(401).json({ error: NO_INSTRUCTOR });
    else res.status(401).type('html').send(page('Instructor access needed', `<h1>Instructor access needed</h1><p class="error">${escapeHtml(NO_INSTRUCTOR)}</p>`));
  };

  const adminPage = path.join(options.clientDir, 'admin.html');
  router.get('/admin', requireInstructor, (_req, res) => {
    if (!fs.existsSync(adminPage)) return void res.status(500).type('text').send(`The browser client is not built (${adminPage} is missing). Run: npm run build`);
    res.setHeader('Cache-Control', 'no-store');
    res.sendFile(adminPage);
  });
  // The instructor has no learners' token: the page's assets are served to them here.
  const assets = express.static(path.join(options.clientDir, 'assets'), { index: false, fallthrough: false });
  router.use('/assets', (req, res, next) => (instructor.isInstructor(req) && !auth.hasAccess(req) ? assets(req, res, next) : next()));

  const admin = express.Router();
  admin.use(requireInstructor);
  admin.use(jsonBody({ limitBytes: 16 * 1024 }));
  admin.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const refused = auth.checkOrigin(req);
    if (refused) return void res.status(403).json({ error: refused.message });
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return void res.status(403).json({ error: `cross-site request refused (Sec-Fetch-Site: ${site})` });
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') return void res.status(415).json({ error: 'instructor requests must be application/json' });
    next();
  });

  const workshopJson = (w: Workshop, members?: number) => ({
    id: w.id,
    title: w.title,
    tracks: w.tracks,
    capacity: w.capacity,
    status: workshopStatus(w, workshops.now()),
    createdAt: w.createdAt.toISOString(),
    expiresAt: w.expiresAt.toISOString(),
    closedAt: w.closedAt?.toISOString() ?? null,
    joinPath: `/join/${w.joinCode}`,
    ...(members !== undefined ? { members } : {}),
  });

  admin.get('/tracks', (_req, res) => void res.json({ tracks: options.trackIds() }));

  admin.get('/workshops', async (_req, res) => {
    const list = await workshops.store.list();
    res.json({ workshops: await Promise.all(list.map(async (w) => workshopJson(w, (await workshops.store.members(w.id)).length))) });
  });

  admin.post('/workshops', async (req, res) => {
    const parsed = createSchema.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: `invalid workshop: ${issuesOf(parsed.error)}` });
    const known = new Set(options.trackIds().map((t) => t.id));
    const unknown = parsed.data.tracks.filter((t) => !known.has(t));
    if (unknown.length) return void res.status(400).json({ error: `unknown track${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}` });
    const w = await workshops.store.create({
      title: parsed.data.title,
      tracks: [...new Set(parsed.data.tracks)],
      capacity: parsed.data.capacity,
      expiresAt: new Date(workshops.now().getTime() + parsed.data.expiresInMinutes * 60_000),
    });
    logger.info({ workshopId: w.id, title: w.title }, 'workshop created');
    res.status(201).json(workshopJson(w, 0));
  });

  const found = async (req: Request, res: Response) => {
    const w = await workshops.store.get(String(req.params.id));
    if (!w) res.status(404).json({ error: `no workshop "${String(req.params.id)}"` });
    return w;
  };

  /**
   * Where an instructor's request about a learner goes: handled here (undefined), to the live
   * replica holding the learner, or refused here (that replica is gone; or the request was already
   * forwarded once, which never happens twice).
   */
  const elsewhere = async (req: IncomingMessage, learnerId: string): Promise<{ forward: ForwardTarget } | { refuse: { status: number; message: string } } | undefined> => {
    const route = await workshops.route(learnerId);
    if (route.kind === 'here') return undefined;
    if (req.headers[FORWARDED_BY] !== undefined) return { refuse: { status: 409, message: FORWARDED_NOT_HERE } };
    if (route.kind === 'gone') return { refuse: { status: 503, message: route.message } };
    if (route.kind === 'replica' && options.forwarder) return { forward: { name: route.name, url: route.url } };
    return undefined;
  };

  /** The same endpoint on the learner's replica, built from the ids alone (nothing else of the request goes there). */
  const learnerPath = (workshopId: string, learnerId: string, action: 'reset-step' | 'reset-step/events' | 'reset-cluster') =>
    `/api/admin/workshops/${encodeURIComponent(workshopId)}/learners/${encodeURIComponent(learnerId)}/${action}`;

  const memberOf = async (req: Request, res: Response, w: Workshop) => {
    const learnerId = String(req.params.learnerId);
    const m = await workshops.store.membership(learnerId);
    if (!m || m.workshop.id !== w.id) {
      res.status(404).json({ error: `no learner "${learnerId}" in this workshop` });
      return undefined;
    }
    return m.member;
  };

  admin.post('/workshops/:id/close', async (req, res) => {
    if (!(await found(req, res))) return;
    const w = (await workshops.store.close(String(req.params.id)))!;
    workshops.changed(w.id);
    res.json(workshopJson(w));
  });

  admin.delete('/workshops/:id', async (req, res) => {
    if (!(await found(req, res))) return;
    await workshops.delete(String(req.params.id));
    res.status(204).end();
  });

  admin.get('/workshops/:id/dashboard', async (req, res) => {
    const d = await workshops.dashboard(String(req.params.id));
    if (!d) return void res.status(404).json({ error: `no workshop "${String(req.params.id)}"` });
    res.json(d);
  });

  admin.get('/workshops/:id/events', async (req, res) => {
    const first = await workshops.dashboard(String(req.params.id));
    if (!first) return void res.status(404).json({ error: `no workshop "${String(req.params.id)}"` });
    const send = sse(res);
    send('dashboard', first);
    const stop = workshops.subscribeDashboard(first.workshop.id, (d) => send('dashboard', d));
    res.on('close', stop);
  });

  admin.post('/workshops/:id/broadcast', async (req, res) => {
    if (!(await found(req, res))) return;
    const parsed = broadcastSchema.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: `invalid message: ${issuesOf(parsed.error)}` });
    const b = (await workshops.broadcast(String(req.params.id), parsed.data.message))!;
    res.json({ id: b.id, text: b.text, at: b.at.toISOString() });
  });

  admin.post('/workshops/:id/learners/:learnerId/reset-step', async (req, res) => {
    const w = await found(req, res);
    if (!w) return;
    const member = await memberOf(req, res, w);
    if (!member) return;
    const parsed = resetStepSchema.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: `invalid reset: ${issuesOf(parsed.error)}` });
    const { trackId, stepId } = parsed.data;
    const track = options.trackIds().find((t) => t.id === trackId);
    const d = await workshops.dashboard(w.id);
    if (!track || !w.tracks.includes(trackId) || !d?.tracks.find((t) => t.id === trackId)?.steps.some((s) => s.id === stepId)) {
      return void res.status(400).json({ error: `this workshop has no step "${stepId}" in track "${trackId}"` });
    }
    // Run by the learner's replica, which also tells the learner's page.
    const away = await elsewhere(req, member.learnerId);
    if (away && 'refuse' in away) return void res.status(away.refuse.status).json({ error: away.refuse.message });
    if (away) return options.forwarder!.json(away.forward, 'POST', learnerPath(w.id, member.learnerId, 'reset-step'), { trackId, stepId }, res);
    try {
      // Answered at once: the reset's progress, and how it ended, come on the stream below.
      res.status(202).json(await workshops.resetStep(member.learnerId, trackId, stepId));
    } catch (err) {
      if (err instanceof ResetError) return void res.status(err.status).json({ error: err.message });
      throw err;
    }
  });

  // The selected learner's step reset as it runs (phase, message, and what failed): their own or the instructor's.
  admin.get('/workshops/:id/learners/:learnerId/reset-step/events', async (req, res) => {
    const w = await found(req, res);
    if (!w) return;
    const member = await memberOf(req, res, w);
    if (!member) return;
    const away = await elsewhere(req, member.learnerId);
    if (away && 'refuse' in away) return void res.status(away.refuse.status).json({ error: away.refuse.message });
    if (away) return options.forwarder!.sse(away.forward, learnerPath(w.id, member.learnerId, 'reset-step/events'), res);
    const send = sse(res);
    res.flushHeaders();
    const stop = workshops.subscribeStepReset(member.learnerId, (status) => send('reset', status));
    res.on('close', stop);
  });

  admin.post('/workshops/:id/learners/:learnerId/reset-cluster', async (req, res) => {
    const w = await found(req, res);
    if (!w) return;
    const member = await memberOf(req, res, w);
    if (!member) return;
    const away = await elsewhere(req, member.learnerId);
    if (away && 'refuse' in away) return void res.status(away.refuse.status).json({ error: away.refuse.message });
    if (away) return options.forwarder!.json(away.forward, 'POST', learnerPath(w.id, member.learnerId, 'reset-cluster'), {}, res);
    if (!workshops.canResetCluster) return void res.status(501).json({ error: 'resetting a cluster needs the embedded cluster backend (--backend sim)' });
    try {
      await workshops.resetCluster(member.learnerId);
    } catch (err) {
      if (err instanceof ResetError) return void res.status(err.status).json({ error: err.message });
      throw err;
    }
    res.json({ ok: true });
  });

  const exportName = (w: { title: string }, ext: string) => `${w.title.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'workshop'}-results.${ext}`;
  admin.get('/workshops/:id/results.csv', async (req, res) => {
    const d = await workshops.dashboard(String(req.params.id));
    if (!d) return void res.status(404).json({ error: `no workshop "${String(req.params.id)}"` });
    res.setHeader('Content-Disposition', `attachment; filename="${exportName(d.workshop, 'csv')}"`);
    res.type('text/csv; charset=utf-8').send(resultsCsv(d));
  });
  admin.get('/workshops/:id/results.xml', async (req, res) => {
    const d = await workshops.dashboard(String(req.params.id));
    if (!d) return void res.status(404).json({ error: `no workshop "${String(req.params.id)}"` });
    res.setHeader('Content-Disposition', `attachment; filename="${exportName(d.workshop, 'junit.xml')}"`);
    res.type('application/xml; charset=utf-8').send(resultsJunit(d));
  });

  admin.use((_req, res) => void res.status(404).json({ error: 'no such instructor endpoint' }));
  router.use('/api/admin', admin);

  /**
   * Before the token check: a workshop member is let in by their membership (no token to copy),
   * for as long as the workshop lasts.
   */
  const membership = async (req: Request, _res: Response, next: () => void) => {
    const learnerId = auth.learnerOf(req);
    if (learnerId !== undefined) {
      const a = await workshops.access(learnerId);
      if (a) req.workshop = { id: a.workshop.id, title: a.workshop.title, tracks: a.workshop.tracks, displayName: a.member.displayName, active: a.active };
    }
    next();
  };

  /** The learners' side, mounted inside the API (after the token and identity checks). */
  const learnerApi = express.Router();
  learnerApi.get('/', (req, res) => {
    // Not an error for a self-paced learner: every page asks.
    if (!req.workshop) return void res.json({ workshop: null });
    res.json({ workshop: { title: req.workshop.title, displayName: req.workshop.displayName, tracks: req.workshop.tracks } });
  });
  learnerApi.get('/events', async (req, res) => {
    const send = sse(res);
    const stop = await workshops.subscribeLearner(req.learnerId!, (m) => send(m.kind, m.kind === 'broadcast' ? m.broadcast : m.reset));
    res.on('close', stop);
    // Headers go now, not with the first message or heartbeat: the stream is open (EventSource's
    // `open`) once this learner is listening.
    res.flushHeaders();
  });
  learnerApi.post('/hint', async (req, res) => {
    const parsed = hintSchema.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: `invalid hint event: ${issuesOf(parsed.error)}` });
    if (req.workshop) await workshops.hintOpened(req.learnerId!, parsed.data.trackId, parsed.data.stepId);
    res.status(204).end();
  });

  /** A track outside the learner's workshop does not exist for them. */
  const scope = (req: Request, res: Response, next: () => void) => {
    const m = /^\/(?:tracks|progress|checks)\/([^/]+)/.exec(req.path);
    if (req.workshop && m) {
      let trackId: string;
      try {
        trackId = decodeURIComponent(m[1]!);
      } catch {
        trackId = m[1]!;
      }
      if (!req.workshop.tracks.includes(trackId)) return void res.status(404).json({ error: `track "${trackId}" not found` });
    }
    next();
  };

  // Tracked, so a shutdown ends the instructor's views (an open one would keep the server from closing).
  const watchServer = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false, clientTracking: true });
  const closeViews = () => {
    for (const view of watchServer.clients) {
      view.close(1001, 'the playground is shutting down');
      setTimeout(() => view.terminate(), 1000).unref();
    }
  };

  /** The instructor's read-only view of one learner's terminal: `/ws/watch?workshop=…&learner=…`. */
  const watchUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer, refuse: (status: number, message: string) => void) => {
    if (!instructor.isInstructor(req)) return refuse(401, NO_INSTRUCTOR);
    const url = new URL(req.url ?? '/', 'http://x');
    const workshopId = url.searchParams.get('workshop') ?? '';
    const learnerId = url.searchParams.get('learner') ?? '';
    const m = learnerId ? await workshops.store.membership(learnerId) : undefined;
    if (!m || m.workshop.id !== workshopId) return refuse(404, 'no such learner in this workshop');
    // A learner on another live replica is watched through it; a gone one is said plainly.
    const away = await elsewhere(req, learnerId);
    if (away && 'refuse' in away) return refuse(away.refuse.status, away.refuse.message);
    if (away) return options.forwarder!.watch(away.forward, `${WATCH_PATH}?${new URLSearchParams({ workshop: workshopId, learner: learnerId }).toString()}`, req, socket, head, watchServer, refuse);
    // Not here and nowhere known: said plainly, not a view waiting for a terminal that never opens here.
    const terminalThere = await workshops.terminalElsewhere(learnerId);
    if (terminalThere) return refuse(409, `${TERMINAL_ELSEWHERE} (${terminalThere})`);
    watchServer.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      // Read-only, enforced here: nothing the viewer sends reaches the learner's shell.
      ws.on('message', () => {});
      let stop: (() => void) | undefined;
      let closed = false;
      ws.once('close', () => {
        closed = true;
        stop?.();
      });
      const send = (data: Buffer | string) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        // A viewer that cannot keep up is dropped (it can reopen), never slowing the learner.
        if (ws.bufferedAmount > 8 * 1024 * 1024) return void ws.close(1013, 'viewer too slow');
        ws.send(data);
      };
      void options.terminals
        .watch(learnerId, {
          data: (chunk) => send(chunk),
          resize: (cols, rows) => send(encodeMessage({ t: 'hello', sessionId: learnerId, cols, rows })),
        })
        .then((w) => {
          if (closed) return w.stop();
          stop = w.stop;
          send(encodeMessage({ t: 'hello', sessionId: learnerId, cols: w.cols, rows: w.rows }));
          send(Buffer.from(w.screen, 'utf8'));
        });
    });
  };

  return { router, membership, learnerApi, scope, watchUpgrade, closeViews };
}
