/**
 * Wires one playground server: config → lessons → progress → cluster backend → terminals → HTTP.
 * `startPlayground` is what `npm start` runs and what the integration and browser tests start.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { projectRoot, resolveConfig, type Config } from './config.js';
import { createBackend } from './cluster/index.js';
import type { ClusterBackend } from './cluster/backend.js';
import { kubectlStatus, projectToolsDir, type ToolStatus } from './cluster/tools.js';
import { Auth, randomToken } from './http/auth.js';
import { createApp } from './http/app.js';
import { LessonLibrary } from './http/lesson-library.js';
import { learnerWorkspace } from './learners/workspace.js';
import { ProgressStore } from './progress/store.js';
import { TerminalSessions, type ShellSpec } from './terminal/sessions.js';
import { createTerminalUpgrade } from './terminal/ws.js';
import { CheckEngine } from './checks/engine.js';
import type { Kubeconfig } from './cluster/kubeconfig.js';

export interface Playground {
  /** The URL to open, token included. */
  url: string;
  /** The URL without the token. */
  baseUrl: string;
  token: string;
  port: number;
  config: Config;
  backend: ClusterBackend;
  terminals: TerminalSessions;
  kubectl: ToolStatus;
  logger: Logger;
  close(): Promise<void>;
}

const TERMINAL_PATH = '/ws/terminal';
/** Control messages are small; a bigger frame is garbage and closes only that socket. */
const MAX_WS_FRAME_BYTES = 256 * 1024;

export async function startPlayground(overrides: Partial<Config> & { logger?: Logger } = {}): Promise<Playground> {
  const { logger: givenLogger, ...configInput } = overrides;
  const config = resolveConfig(configInput);
  const logger = givenLogger ?? pino({ level: config.logLevel, name: 'istio-playground' });

  // Compiled once (in a child process when built) and cached under the data dir: see lesson-library.ts.
  // A cold compile takes a second; the rest of start-up goes on meanwhile.
  const lessonsLoading = LessonLibrary.load(config.lessonsDir, config.backend, { cacheDir: path.join(config.dataDir, 'cache') });
  lessonsLoading.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled

  const toolsDir = projectToolsDir(projectRoot);
  const shellPath = [toolsDir, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(path.delimiter);
  const kubectl = await kubectlStatus(shellPath);
  if (kubectl.found) logger.info({ kubectl: kubectl.path, version: kubectl.version }, 'kubectl found');
  else logger.warn(kubectl.installHint);

  const progress = new ProgressStore(config.dataDir);
  const backend = await createBackend(config).catch((err: unknown) => {
    progress.close();
    throw err;
  });
  const lessons = await lessonsLoading.catch(async (err: unknown) => {
    progress.close();
    await backend.close();
    throw err;
  });
  const lessonLoad = lessons.loadReport();
  for (const warning of lessonLoad.warnings) logger.warn(warning);
  if (lessonLoad.error) logger.error({ dir: config.lessonsDir }, `no lessons are served: ${lessonLoad.error}`);
  for (const p of lessons.problems()) logger.error({ file: p.file, line: p.line }, `lesson refused: ${p.file}:${p.line}: ${p.message}`);
  logger.info({ tracks: lessons.trackCount(), dir: config.lessonsDir, from: lessonLoad.source, compiler: lessonLoad.compiler, ms: lessonLoad.ms }, 'lessons loaded');

  const terminals = new TerminalSessions({
    idleTimeoutMs: config.idleTimeoutSeconds * 1000,
    scrollbackLines: config.scrollbackLines,
    logger: logger.child({ part: 'terminal' }),
  });
  const terminalUpgrade = createTerminalUpgrade({ sessions: terminals, maxPayload: MAX_WS_FRAME_BYTES });

  const shellSpec = (learnerId: string) => async (): Promise<ShellSpec> => {
    const workspace = learnerWorkspace(config.dataDir, learnerId);
    const banner: string[] = [];
    const env: Record<string, string> = { HOME: workspace.home, LANG: 'C.UTF-8', USER: 'learner' };
    // The offline stand-in for https://istio.io/downloadIstio (server/http/istio-release.ts), for lessons' `curl -L "$ISTIO_DOWNLOAD_URL" | sh -`.
    env.ISTIO_DOWNLOAD_URL = `${baseUrl}istio/downloadIstio`;
    let pathPrepend: string[] = [];
    try {
      const access = await backend.acquire(learnerId);
      Object.assign(env, access.env);
      pathPrepend = access.pathPrepend;
      banner.push(`Welcome to istio-playground. kubectl talks to: ${backend.describe()}.`);
    } catch (err) {
      logger.error({ err, learnerId }, 'cluster backend failed');
      banner.push(`The cluster is not available: ${(err as Error).message}`);
    }
    if (!kubectl.found) banner.push(kubectl.installHint ?? 'kubectl was not found.');
    env.PATH = [...pathPrepend, shellPath].join(path.delimiter);
    return { cwd: workspace.home, env, banner: banner.join('\r\n') };
  };

  // Step checks see the learner's cluster through the same kubeconfig as their terminal.
  const kubeConfigs = new Map<string, { path: string; kc: Kubeconfig }>();
  const checks = new CheckEngine({
    logger: logger.child({ part: 'checks' }),
    persistence: progress,
    stepChecks: (trackId, stepId) => lessons.stepChecks(trackId, stepId),
    contextFor: async (learnerId) => {
      const spec = await shellSpec(learnerId)();
      const kubeconfigPath = spec.env.KUBECONFIG!;
      let cached = kubeConfigs.get(learnerId);
      // Loaded when a step first has something to check: the kubeconfig reader and the checks' objects client.
      const { createCheckContext, loadKubeConfig } = await import('./checks/context.js');
      if (!cached || cached.path !== kubeconfigPath) {
        cached = { path: kubeconfigPath, kc: loadKubeConfig(kubeconfigPath) };
        kubeConfigs.set(learnerId, cached);
      }
      return createCheckContext({ kc: cached.kc, transcript: () => terminals.transcript(learnerId), shell: { cwd: spec.cwd, env: spec.env } });
    },
  });
  terminals.onActivity((learnerId) => checks.activity(learnerId));

  const token = config.token ?? randomToken();
  // The port is needed for cookie names before listening; with port 0 we learn it after listen.
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const auth = new Auth({ token, port, allowedOrigins: config.allowedOrigins });

  const app = createApp({
    auth,
    progress,
    lessons,
    checks,
    logger,
    clientDir: config.clientDir,
    istioReleaseCacheDir: path.join(config.dataDir, 'cache'),
    info: async () => ({
      backend: { name: backend.name, description: backend.describe() },
      kubectl: { found: kubectl.found, ...(kubectl.version ? { version: kubectl.version } : {}), ...(kubectl.installHint ? { installHint: kubectl.installHint } : {}) },
      version: '0.1.0',
    }),
  });
  server.on('request', app);

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', (err) => logger.debug({ err }, 'upgrade socket error'));
    const refuse = (status: number, message: string) => {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${message}\n`);
    };
    const pathname = (req.url ?? '').split('?')[0];
    const who = auth.authenticate(req);
    if (!who.ok) return refuse(who.status, who.message);
    const origin = auth.checkOrigin(req);
    if (origin && !origin.ok) {
      logger.warn({ origin: req.headers.origin }, 'refused terminal WebSocket from a foreign origin');
      return refuse(origin.status, origin.message);
    }
    if (pathname !== TERMINAL_PATH) return refuse(404, 'no such WebSocket endpoint');
    // The terminal belongs to a learner: the page must have set the learner cookie first.
    if (who.newLearner) return refuse(401, 'no learner session: open the playground page first');
    terminalUpgrade(req, socket, head, who.learnerId, shellSpec(who.learnerId));
  });

  const displayHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const baseUrl = `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${port}/`;
  let closing: Promise<void> | undefined;

  const close = () =>
    (closing ??= (async () => {
      logger.info('shutting down');
      checks.close();
      await terminals.closeAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await backend.close();
      progress.close();
    })());

  return { url: `${baseUrl}?token=${encodeURIComponent(token)}`, baseUrl, token, port, config, backend, terminals, kubectl, logger, close };
}
