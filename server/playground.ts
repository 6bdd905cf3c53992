/**
 * Wires one playground server: config → lessons → progress → cluster backend → terminals → HTTP.
 * `startPlayground` is what `npm start` runs and what the integration and browser tests start.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { projectRoot, resolveConfig, type Config } from './config.js';
import { createBackend } from './cluster/index.js';
import type { ClusterBackend } from './cluster/backend.js';
import { IdleRelease } from './cluster/idle-release.js';
import { kubectlStatus, projectToolsDir, type ToolStatus } from './cluster/tools.js';
import { Auth, randomToken } from './http/auth.js';
import { createApp } from './http/app.js';
import { Site } from './http/site.js';
import { LessonLibrary } from './http/lesson-library.js';
import { learnerWorkspace } from './learners/workspace.js';
import { ProgressStore } from './progress/store.js';
import { LEARNER_GO_ENV } from './scheduling.js';
import { TerminalSessions, type ShellSpec } from './terminal/sessions.js';
import { ShellSandbox, type SandboxOptions } from './terminal/sandbox.js';
import { createTerminalUpgrade } from './terminal/ws.js';
import { CheckEngine } from './checks/engine.js';
import { MeshWatcher } from './mesh/watcher.js';
import type { Kubeconfig } from './cluster/kubeconfig.js';
import { GATEWAY_API_CRDS_PATH } from './http/istio-release.js';
import { openWorkshopStore } from './workshops/open-store.js';
import type { WorkshopStore } from './workshops/store.js';
import { Workshops } from './workshops/service.js';
import { InstructorAuth } from './workshops/instructor-auth.js';
import { WATCH_PATH, workshopHttp } from './workshops/http.js';
import { Replicas } from './workshops/replicas.js';
import { Forwarder } from './workshops/forward.js';
import { StepStates, codeIdentity } from './steps/states.js';
import { StepResets } from './steps/reset.js';
import { replayCommands } from './steps/replay.js';
import type { SimBackend } from './cluster/sim-backend.js';

export interface Playground {
  /** The URL to open, token included. */
  url: string;
  /** The URL without the token. */
  baseUrl: string;
  token: string;
  /** The instructor's URL (dashboard, workshops), instructor token included. */
  adminUrl: string;
  adminToken: string;
  workshops: Workshops;
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

export interface PlaygroundExtras {
  logger?: Logger;
  sandbox?: Partial<Omit<SandboxOptions, 'dataDir' | 'logger'>>;
  /** Workshop storage (default: SQLite in the data dir) and the dashboard's tuning, for tests. */
  workshops?: { store?: WorkshopStore; clock?: () => Date; stuckAfterMs?: number; joinLimits?: { perMinute?: number; badCodesPer10Min?: number } };
}

export async function startPlayground(overrides: Partial<Config> & PlaygroundExtras = {}): Promise<Playground> {
  const { logger: givenLogger, sandbox: sandboxOptions, workshops: workshopOptions, ...configInput } = overrides;
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

  const sandbox = new ShellSandbox({ ...sandboxOptions, dataDir: config.dataDir, logger: logger.child({ part: 'sandbox' }) });
  const progress = new ProgressStore(config.dataDir);
  // Learners share the machine's loopback: their NodePorts refuse other learners' uids.
  const backend = await createBackend(config, logger.child({ part: 'cluster' }), { peerGuard: (id) => sandbox.peerGuard(id) }).catch((err: unknown) => {
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
    sandbox,
  });
  const terminalUpgrade = createTerminalUpgrade({ sessions: terminals, maxPayload: MAX_WS_FRAME_BYTES });

  const clusterRevisions = new Map<string, string>();
  /** Learners' own namespaces on a shared cluster (namespace-per-learner mode). */
  const learnerNamespaces = new Map<string, string>();
  const shellSpec = (learnerId: string) => async (): Promise<ShellSpec> => {
    const workspace = learnerWorkspace(config.dataDir, learnerId);
    const banner: string[] = [];
    const env: Record<string, string> = { HOME: workspace.home, LANG: 'C.UTF-8', USER: 'learner', ...LEARNER_GO_ENV };
    // The offline stand-in for https://istio.io/downloadIstio (server/http/istio-release.ts), for lessons' `curl -L "$ISTIO_DOWNLOAD_URL" | sh -`.
    env.ISTIO_DOWNLOAD_URL = `${baseUrl}istio/downloadIstio`;
    // The Gateway API CRDs istio.io applies from GitHub: `kubectl apply -f "$GATEWAY_API_CRDS_URL"`.
    env.GATEWAY_API_CRDS_URL = `${baseUrl}${GATEWAY_API_CRDS_PATH.slice(1)}`;
    let pathPrepend: string[] = [];
    let sharedDirs: string[] = [];
    let kubeconfig: string | undefined;
    try {
      const access = await backend.acquire(learnerId);
      kubeconfig = access.kubeconfigPath;
      idle.touch(learnerId);
      clusterRevisions.set(learnerId, access.revision ?? '');
      if (access.namespace) learnerNamespaces.set(learnerId, access.namespace);
      Object.assign(env, access.env);
      pathPrepend = access.pathPrepend;
      sharedDirs = access.sharedDirs ?? [];
      banner.push(`Welcome to istio-playground. kubectl talks to: ${backend.describe()}.`);
    } catch (err) {
      logger.error({ err, learnerId }, 'cluster backend failed');
      banner.push(`The cluster is not available: ${(err as Error).message}`);
    }
    if (!kubectl.found) banner.push(kubectl.installHint ?? 'kubectl was not found.');
    env.PATH = [...pathPrepend, shellPath].join(path.delimiter);
    // Server-side paths (the checks use them); the sandbox maps them to what the shell sees.
    // The backend's shared folders (the fetched Istio release) stay visible inside the sandbox.
    const learner = { learnerId, root: workspace.root, home: workspace.home, ...(kubeconfig ? { kubeconfig } : {}), ...(sharedDirs.length ? { tools: sharedDirs } : {}) };
    return { cwd: workspace.home, env, banner: banner.join('\r\n'), learner };
  };

  // Step checks and the mesh picture see the learner's cluster through the same kubeconfig as their terminal.
  const kubeConfigs = new Map<string, { path: string; kc: Kubeconfig }>();
  const learnerKube = async (learnerId: string) => {
    const spec = await shellSpec(learnerId)();
    const kubeconfigPath = spec.env.KUBECONFIG;
    // The banner says why (e.g. a cluster that keeps running out of memory); the step's checks say the same.
    if (!kubeconfigPath) throw new Error(spec.banner?.split('\r\n').find((l) => l.startsWith('The cluster is not available')) ?? 'The cluster is not available.');
    let cached = kubeConfigs.get(learnerId);
    // Loaded when a step first has something to check: the kubeconfig reader and the checks' objects client.
    const { loadKubeConfig } = await import('./checks/context.js');
    // A restarted embedded cluster listens elsewhere: same file, new contents.
    const revision = `${kubeconfigPath}\u0000${clusterRevisions.get(learnerId) ?? ''}`;
    if (!cached || cached.path !== revision) {
      cached = { path: revision, kc: loadKubeConfig(kubeconfigPath) };
      kubeConfigs.set(learnerId, cached);
    }
    return { spec, kc: cached.kc };
  };
  const checks = new CheckEngine({
    logger: logger.child({ part: 'checks' }),
    persistence: progress,
    stepChecks: (trackId, stepId) => lessons.stepChecks(trackId, stepId),
    outputMark: (learnerId) => terminals.outputMark(learnerId),
    contextFor: async (learnerId, since) => {
      const { spec, kc } = await learnerKube(learnerId);
      const { createCheckContext } = await import('./checks/context.js');
      const defaultNamespace = learnerNamespaces.get(learnerId);
      return createCheckContext({ kc, commands: () => (since ? terminals.commandsSince(learnerId, since) : []), shell: { cwd: spec.cwd, env: spec.env }, ...(defaultNamespace ? { defaultNamespace } : {}) });
    },
  });
  const mesh = new MeshWatcher({
    logger: logger.child({ part: 'mesh' }),
    kubeFor: async (learnerId) => {
      const { kc } = await learnerKube(learnerId);
      const { kubeObjectsFor } = await import('./checks/kube-objects.js');
      const own = learnerNamespaces.get(learnerId);
      if (!own) return kubeObjectsFor(kc);
      const { scopedToNamespaces } = await import('./cluster/namespace-scope.js');
      return scopedToNamespaces(kubeObjectsFor(kc), own);
    },
  });
  terminals.onActivity((learnerId) => checks.activity(learnerId));

  // A learner's cluster lives while they use it: released after the idle timeout once no
  // terminal and no watched step remains, restored from its saved state on the next use.
  const idle = new IdleRelease({
    backend,
    idleMs: config.idleTimeoutSeconds * 1000,
    inUse: (learnerId) => terminals.has(learnerId) || checks.watching(learnerId) || mesh.watching(learnerId),
    logger: logger.child({ part: 'cluster' }),
  });
  terminals.onEnd((learnerId) => idle.unused(learnerId));
  backend.onClusterNotice?.((learnerId, message) => terminals.notice(learnerId, message));

  // Reset this step / Jump to step: embedded clusters restore cached step states, real ones replay solutions.
  const stepStates =
    backend.name === 'sim'
      ? new StepStates({
          cacheDir: path.join(config.dataDir, 'cache', 'step-states'),
          codeIdentity: () => codeIdentity(),
          shellEnv: async () => ({ env: { ISTIO_DOWNLOAD_URL: `${baseUrl}istio/downloadIstio`, GATEWAY_API_CRDS_URL: `${baseUrl}${GATEWAY_API_CRDS_PATH.slice(1)}` }, pathPrepend: [] }),
          log: (m) => logger.info({ part: 'steps' }, m),
        })
      : undefined;
  const resets = new StepResets({
    track: (trackId) => lessons.compiledTrack(trackId),
    backendName: backend.name,
    ...(stepStates ? { states: stepStates } : {}),
    restoreCluster: async (learnerId, state) => {
      const sim = backend as unknown as { restoreState?: SimBackend['restoreState'] };
      if (!sim.restoreState) throw new Error('this cluster backend cannot restore states');
      return sim.restoreState(learnerId, { file: state.clusterFile, fromBlock: state.meta.nodeBlock, capturedAt: state.meta.capturedAt });
    },
    replay: async (learnerId, commands, progress) => {
      const spec = await shellSpec(learnerId)();
      if (!spec.env.KUBECONFIG) throw new Error(spec.banner ?? 'the cluster is not available');
      const { ScriptedShell } = await import('./validate/scripted-shell.js');
      const bash = ['/bin/bash', '/usr/bin/bash'].find((f) => fs.existsSync(f)) ?? 'bash';
      // The learner's own sandboxed shell (their uid, their home): lessons' commands never run as the server.
      const shell = new ScriptedShell({ cwd: spec.cwd, env: spec.env, launch: (env) => sandbox.launch(spec.learner!, bash, env, spec.cwd) });
      try {
        return await replayCommands(shell, learnerWorkspace(config.dataDir, learnerId).home, commands, progress);
      } finally {
        await shell.close();
      }
    },
    sharesCluster: (learnerId) => learnerNamespaces.has(learnerId),
    homeOf: (learnerId) => {
      const home = learnerWorkspace(config.dataDir, learnerId).home;
      // Root hands what it writes to the home's owner (the learner's uid under the sandbox).
      if (process.getuid?.() !== 0) return { home };
      const st = fs.statSync(home);
      return { home, uid: st.uid, gid: st.gid };
    },
    endTerminal: (learnerId) => terminals.end(learnerId),
    resetProgress: async (learnerId, trackId, stepIds, currentStep) => {
      progress.resetSteps(learnerId, trackId, stepIds, currentStep);
      // The instructor's dashboard: awaited, so the row shows the reset by the time it is done.
      await workshops.stepsReset(learnerId, trackId, stepIds, currentStep).catch((err: unknown) => logger.error({ err, learnerId }, 'workshop progress update failed'));
    },
    rerunChecks: (learnerId) => checks.restarted(learnerId),
    logger: logger.child({ part: 'steps' }),
  });

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
  // Where other replicas reach this one: as configured (deploy/ gives the pod's IP), else this host by name.
  const unspecified = config.host === '0.0.0.0' || config.host === '::';
  const advertiseUrl = config.advertiseUrl ?? new URL(`http://${unspecified ? os.hostname() : config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`).origin;
  const site = new Site({ listenHost: config.host, port, publicOrigins: config.publicOrigins, internalHosts: [new URL(advertiseUrl).host] });
  const auth = new Auth({ token, port, site, learners: progress.identities });
  const adminToken = config.adminToken ?? randomToken();
  const instructor = new InstructorAuth(adminToken, port);
  const opened = workshopOptions?.store ? { store: workshopOptions.store, where: 'given', shared: false } : await openWorkshopStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  logger.info({ store: opened.where }, 'workshop store');
  // Stable across a pod's restarts (a StatefulSet keeps its host name), distinct for two processes
  // on one host; a store of this server's own has only this one, whatever its port.
  const replicaName = opened.shared ? `${os.hostname()}:${port}` : 'this server';
  // Replicas sharing the store register and heartbeat there; one server alone has no one to tell.
  const replicas = opened.shared
    ? new Replicas({
        store: opened.store,
        name: replicaName,
        url: advertiseUrl,
        intervalMs: config.replicaHeartbeatSeconds * 1000,
        timeoutMs: config.replicaTimeoutSeconds * 1000,
        logger: logger.child({ part: 'replicas' }),
        onChange: () => workshops.replicasChanged(),
      })
    : undefined;
  const workshops = new Workshops({
    store: opened.store,
    progress,
    tracks: () => lessons.summaries().map((t) => ({ id: t.id, title: t.title, steps: t.steps })),
    hasTerminal: (learnerId) => terminals.has(learnerId),
    replica: replicaName,
    ...(replicas ? { replicas } : {}),
    ...(backend.reset ? { resetCluster: (learnerId: string) => backend.reset!(learnerId) } : {}),
    startStepReset: (learnerId, trackId, stepId) => resets.start(learnerId, trackId, stepId),
    subscribeStepReset: (learnerId, listener) => resets.subscribe(learnerId, listener),
    isHere: (learnerId) => progress.identities.exists(learnerId),
    logger: logger.child({ part: 'workshops' }),
    ...(workshopOptions?.stuckAfterMs !== undefined ? { stuckAfterMs: workshopOptions.stuckAfterMs } : {}),
    ...(workshopOptions?.clock ? { clock: workshopOptions.clock } : {}),
  });
  // Another replica's learners (same PostgreSQL) reach this replica's dashboards too.
  if ('subscribe' in opened && opened.subscribe) await opened.subscribe((workshopId) => void workshops.changedElsewhere(workshopId));
  // Terminals this replica's previous run left recorded as open are gone with it.
  await workshops.clearTerminals();
  await replicas?.start();
  if (replicas) logger.info({ replica: replicaName, url: advertiseUrl }, 'registered with the other replicas: they forward the instructor’s live view and resets of this replica’s learners here');
  checks.onState((learnerId, state) => void workshops.checkState(learnerId, state.trackId, state.stepId, state.state, state.done));
  terminals.onEnd((learnerId) => void workshops.terminalChanged(learnerId));
  terminals.onActivity((learnerId) => workshops.terminalActive(learnerId));
  const workshopRoutes = workshopHttp({
    workshops,
    auth,
    instructor,
    terminals,
    clientDir: config.clientDir,
    trackIds: () => lessons.summaries().map((t) => ({ id: t.id, title: t.title })),
    logger: logger.child({ part: 'workshops' }),
    // Every replica of a deployment shares the instructor token, which is all a forwarded request carries.
    ...(replicas ? { forwarder: new Forwarder({ adminToken, from: replicaName }) } : {}),
    ...(workshopOptions?.joinLimits ? { joinLimits: workshopOptions.joinLimits } : {}),
  });
  logger.info({ origins: [...site.origins] }, 'pages from these origins may open terminals; publish elsewhere with --public-origin');

  const app = createApp({
    auth,
    progress,
    lessons,
    checks,
    mesh,
    resets,
    logger,
    workshops: workshopRoutes,
    onProgress: (learnerId, trackId, currentStep) => {
      workshops.progressChanged(learnerId, trackId, currentStep).catch((err: unknown) => logger.error({ err }, 'workshop progress update failed'));
    },
    clientDir: config.clientDir,
    ...(config.trustProxy !== undefined ? { trustProxy: config.trustProxy } : {}),
    istioReleaseCacheDir: path.join(config.dataDir, 'cache'),
    clusterStatus: (learnerId) => backend.status?.(learnerId) ?? { state: 'ready' },
    info: async () => ({
      backend: { name: backend.name, description: backend.describe(), learnerNamespaces: config.learnerNamespaces },
      kubectl: { found: kubectl.found, ...(kubectl.version ? { version: kubectl.version } : {}), ...(kubectl.installHint ? { installHint: kubectl.installHint } : {}) },
      version: '0.1.0',
    }),
  });
  server.on('request', app);

  server.on('upgrade', (req, socket, head) => {
    upgrade(req, socket, head).catch((err: unknown) => {
      logger.error({ err }, 'WebSocket upgrade failed');
      socket.destroy();
    });
  });
  const upgrade = async (req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    socket.on('error', (err) => logger.debug({ err }, 'upgrade socket error'));
    const refuse = (status: number, message: string) => {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${message}\n`);
    };
    const pathname = (req.url ?? '').split('?')[0];
    const host = auth.checkHost(req);
    if (host) return refuse(host.status, host.message);
    const origin = auth.checkOrigin(req);
    if (origin) {
      logger.warn({ origin: req.headers.origin }, 'refused terminal WebSocket from a foreign origin');
      return refuse(origin.status, origin.message);
    }
    // The instructor's read-only view of a learner's terminal: instructor access, never a learner's.
    if (pathname === WATCH_PATH) return workshopRoutes.watchUpgrade(req, socket, head, refuse);
    // Token (or an active workshop membership) and an issued learner identity: a terminal is never
    // opened for (or created by) anyone else.
    let who = auth.authenticate(req);
    if (!who.ok) {
      const learnerId = auth.learnerOf(req);
      if (learnerId !== undefined && (await workshops.access(learnerId))?.active) who = { ok: true, learnerId };
    }
    if (!who.ok) return refuse(who.status, who.message);
    if (pathname !== TERMINAL_PATH) return refuse(404, 'no such WebSocket endpoint');
    terminalUpgrade(req, socket, head, who.learnerId, shellSpec(who.learnerId));
    void workshops.terminalChanged(who.learnerId);
  };

  const displayHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const baseUrl = `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${port}/`;
  let closing: Promise<void> | undefined;

  const close = () =>
    (closing ??= (async () => {
      logger.info('shutting down');
      checks.close();
      mesh.close();
      workshops.close();
      // First: other replicas stop forwarding here while this one goes.
      await replicas?.stop().catch((err: unknown) => logger.error({ err }, 'could not leave the replicas’ registry'));
      await stepStates?.close();
      idle.close();
      await terminals.closeAll();
      workshopRoutes.closeViews();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await workshops.clearTerminals().catch((err: unknown) => logger.error({ err }, 'could not clear this replica’s terminals from the workshop store'));
      await backend.close();
      progress.close();
      await workshops.store.dispose();
    })());

  const adminUrl = `${baseUrl}admin?admin_token=${encodeURIComponent(adminToken)}`;
  return { url: `${baseUrl}?token=${encodeURIComponent(token)}`, baseUrl, token, adminUrl, adminToken, workshops, port, config, backend, terminals, kubectl, logger, close };
}
