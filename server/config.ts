/**
 * Server configuration from environment variables and command-line flags (flags win),
 * validated with zod so a bad value stops the server with a message naming the setting.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import express from 'express';
import * as z from 'zod';

/** `scheme://host[:port]` and nothing more; kept in the URL standard's serialization. */
const origin = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a URL (expected e.g. https://lab.example.org)` });
    return z.NEVER;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not an origin: give scheme, host and port only (e.g. https://lab.example.org)` });
    return z.NEVER;
  }
  return url.origin;
});

/**
 * Express's `trust proxy` (https://expressjs.com/en/guide/behind-proxies.html), limited to what a
 * learner cannot forge: a number of proxy hops in front of the server, or the proxies' addresses
 * (IPs, CIDRs, `loopback`, `linklocal`, `uniquelocal`). Checked by Express's own parser.
 */
const trustProxy = z.union([z.number(), z.string(), z.array(z.string())]).transform((value, ctx): number | string[] => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const hops = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
  if (hops !== undefined) return Number.isInteger(hops) && hops >= 1 && hops <= 32 ? hops : fail('must be 1 to 32 hops (leave it unset to trust no proxy)');
  const list = (Array.isArray(value) ? value : String(value).split(',')).map((v) => v.trim()).filter(Boolean);
  if (!list.length) return fail('is empty: give a number of hops or the proxies\' addresses');
  if (list.some((v) => /^(true|false|yes|no|on|off)$/i.test(v))) {
    return fail('must say whom to trust: the number of proxies in front of the playground (e.g. 1) or their addresses (e.g. 10.0.0.0/8); trusting every hop would let a learner choose their address with X-Forwarded-For');
  }
  try {
    express().set('trust proxy', list);
  } catch (err) {
    return fail(`${(err as Error).message} (expected a number of hops, or IP addresses, CIDRs, loopback, linklocal, uniquelocal)`);
  }
  return list;
});

/** An http(s) base URL other replicas reach this one at: scheme, host and port, no path or credentials. */
const advertiseUrl = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a URL (expected e.g. http://10.1.2.3:8080)` });
    return z.NEVER;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} must be scheme, host and port only (e.g. http://10.1.2.3:8080)` });
    return z.NEVER;
  }
  return url.origin;
});

const seconds = z.coerce.number().positive('must be a positive number of seconds').max(3600, 'must be at most 3600 seconds');

const port = z.coerce.number().int().min(0, 'must be 0 (any free port) or 1-65535').max(65535, 'must be at most 65535');

export const configSchema = z
  .object({
    host: z.string().min(1),
    port,
    dataDir: z.string().min(1),
    lessonsDir: z.string().min(1),
    backend: z.enum(['sim', 'kubeconfig', 'kind']),
    kubeconfig: z.string().optional(),
    context: z.string().optional(),
    /** kind backend: the cluster to find or create (per-learner clusters are named after it). */
    kindCluster: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/, 'must be a lower-case DNS label of at most 32 characters (kind names Docker containers after it)'),
    /** kind backend: one cluster for everyone, or one per learner (about 1.5 GB of memory each). */
    kindMode: z.enum(['shared', 'per-learner']),
    /** kind backend: the host port the ingress gateway's pinned http2 NodePort (30080) is mapped to; https (30443) gets the next. Per-learner clusters take two ports each from here. */
    kindHostPort: port.refine((p) => p > 0, 'must be a port (1-65535)'),
    /** kind backend: how long creating a cluster (image pull included) may take. */
    kindTimeoutSeconds: z.coerce.number().int().positive(),
    /** kubeconfig and shared kind backends: each learner gets a namespace and a ServiceAccount token bound to it by RBAC. */
    learnerNamespaces: z.preprocess((v) => (typeof v === 'string' ? ['1', 'true', 'yes', 'on'].includes(v.toLowerCase()) : v), z.boolean()),
    /** Seconds a detached, silent terminal lives before its shell is killed. */
    idleTimeoutSeconds: z.coerce.number().int().positive(),
    /** Embedded cluster: learners' clusters running at once; derived from memory when absent (server/cluster/learner-limit.ts). */
    maxLearners: z.coerce.number().int().min(1).max(100_000).optional(),
    scrollbackLines: z.coerce.number().int().min(100).max(100_000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    /** Fixed access token (instructors, tests); random per start when absent. */
    token: z.string().min(16, 'must be at least 16 characters').optional(),
    /** The instructor's token (dashboard, workshops): never the learners' token; random per start when absent. */
    adminToken: z.string().min(16, 'must be at least 16 characters').optional(),
    /**
     * Origins the playground is published at besides its listening address (a reverse proxy, a
     * DNS name, a forwarded port): pages from them may open terminals, and their hosts are answered.
     */
    publicOrigins: z.array(origin),
    /** Where the built client lives. */
    clientDir: z.string().min(1),
    /**
     * The reverse proxies in front of the server (hops or addresses): the join rate limit then keys
     * on the client address they report in X-Forwarded-For. Unset: the socket's address, and
     * X-Forwarded-For is ignored (a learner could write anything there).
     */
    trustProxy: trustProxy.optional(),
    /** PostgreSQL for workshops shared by several replicas (postgres://…); SQLite in the data dir without it. */
    databaseUrl: z
      .string()
      .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL')
      .optional(),
    /**
     * Where the other replicas on the same database reach this one (the instructor's live view and
     * resets of this replica's learners are forwarded here); derived from host and port when absent.
     */
    advertiseUrl: advertiseUrl.optional(),
    /** How often a replica writes its heartbeat to the shared store. */
    replicaHeartbeatSeconds: seconds,
    /** A replica without a heartbeat for this long counts as gone. */
    replicaTimeoutSeconds: seconds,
  })
  .superRefine((c, ctx) => {
    if (c.replicaTimeoutSeconds < 2 * c.replicaHeartbeatSeconds) {
      ctx.addIssue({ code: 'custom', path: ['replicaTimeoutSeconds'], message: `must be at least twice the heartbeat interval (${c.replicaHeartbeatSeconds} s), or one late heartbeat makes a live replica look gone` });
    }
    if (c.adminToken !== undefined && c.adminToken === c.token) {
      ctx.addIssue({ code: 'custom', path: ['adminToken'], message: "must differ from the learners' access token: instructors and learners have separate access" });
    }
    if (c.backend === 'kubeconfig' && !c.kubeconfig) {
      ctx.addIssue({ code: 'custom', path: ['kubeconfig'], message: 'is required when backend is "kubeconfig" (set PLAYGROUND_KUBECONFIG or --kubeconfig)' });
    }
    if (c.learnerNamespaces && !(c.backend === 'kubeconfig' || (c.backend === 'kind' && c.kindMode === 'shared'))) {
      ctx.addIssue({ code: 'custom', path: ['learnerNamespaces'], message: 'needs one cluster shared by the learners: backend "kubeconfig", or "kind" with kindMode "shared"' });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** Where each setting comes from: flag name and environment variable. */
const sources: Record<Exclude<keyof Config, 'publicOrigins'>, { flag: string; env: string[] }> = {
  host: { flag: 'host', env: ['HOST', 'PLAYGROUND_HOST'] },
  port: { flag: 'port', env: ['PORT', 'PLAYGROUND_PORT'] },
  dataDir: { flag: 'data-dir', env: ['PLAYGROUND_DATA_DIR'] },
  lessonsDir: { flag: 'lessons-dir', env: ['PLAYGROUND_LESSONS_DIR'] },
  backend: { flag: 'backend', env: ['PLAYGROUND_BACKEND'] },
  kubeconfig: { flag: 'kubeconfig', env: ['PLAYGROUND_KUBECONFIG'] },
  context: { flag: 'context', env: ['PLAYGROUND_CONTEXT'] },
  kindCluster: { flag: 'kind-cluster', env: ['PLAYGROUND_KIND_CLUSTER'] },
  kindMode: { flag: 'kind-mode', env: ['PLAYGROUND_KIND_MODE'] },
  kindHostPort: { flag: 'kind-host-port', env: ['PLAYGROUND_KIND_HOST_PORT'] },
  kindTimeoutSeconds: { flag: 'kind-timeout', env: ['PLAYGROUND_KIND_TIMEOUT'] },
  learnerNamespaces: { flag: 'learner-namespaces', env: ['PLAYGROUND_LEARNER_NAMESPACES'] },
  idleTimeoutSeconds: { flag: 'idle-timeout', env: ['PLAYGROUND_IDLE_TIMEOUT'] },
  maxLearners: { flag: 'max-learners', env: ['PLAYGROUND_MAX_LEARNERS'] },
  scrollbackLines: { flag: 'scrollback', env: ['PLAYGROUND_SCROLLBACK'] },
  logLevel: { flag: 'log-level', env: ['LOG_LEVEL', 'PLAYGROUND_LOG_LEVEL'] },
  token: { flag: 'token', env: ['PLAYGROUND_TOKEN'] },
  adminToken: { flag: 'admin-token', env: ['PLAYGROUND_ADMIN_TOKEN'] },
  clientDir: { flag: 'client-dir', env: ['PLAYGROUND_CLIENT_DIR'] },
  databaseUrl: { flag: 'database-url', env: ['PLAYGROUND_DATABASE_URL'] },
  trustProxy: { flag: 'trust-proxy', env: ['PLAYGROUND_TRUST_PROXY'] },
  advertiseUrl: { flag: 'advertise-url', env: ['PLAYGROUND_ADVERTISE_URL'] },
  replicaHeartbeatSeconds: { flag: 'replica-heartbeat', env: ['PLAYGROUND_REPLICA_HEARTBEAT'] },
  replicaTimeoutSeconds: { flag: 'replica-timeout', env: ['PLAYGROUND_REPLICA_TIMEOUT'] },
};

/**
 * The checkout's root, found by walking up to our package.json: the server runs both from source
 * (server/config.ts) and compiled (dist/server/config.js), so a fixed `..` would be wrong in one.
 */
export const projectRoot = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'istio-playground') return dir;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find the istio-playground package.json above ${start}`);
  }
}

export const defaults = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: path.join(projectRoot, 'data'),
  lessonsDir: path.join(projectRoot, 'lessons'),
  backend: 'sim',
  kindCluster: 'istio-playground',
  kindMode: 'shared',
  kindHostPort: 30080,
  kindTimeoutSeconds: 600,
  learnerNamespaces: false,
  idleTimeoutSeconds: 30 * 60,
  scrollbackLines: 5000,
  logLevel: 'info',
  publicOrigins: [] as string[],
  clientDir: path.join(projectRoot, 'dist', 'client'),
  replicaHeartbeatSeconds: 10,
  replicaTimeoutSeconds: 30,
} as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function describe(key: string): string {
  const source = sources[key as keyof typeof sources];
  if (key === 'publicOrigins') return `${key} (--public-origin / PLAYGROUND_PUBLIC_ORIGIN)`;
  return source ? `${key} (--${source.flag} / ${source.env.join(' or ')})` : key;
}

/** Validates a partial config over the defaults; throws ConfigError naming each bad setting. */
export function resolveConfig(input: Partial<Record<keyof Config, unknown>>): Config {
  const merged = { ...defaults, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const key = String(i.path[0] ?? '');
        const value = (merged as Record<string, unknown>)[key];
        // A database URL may carry a password: never echoed.
        const shown = value !== undefined && key !== 'databaseUrl';
        return `${describe(key)}: ${i.message}${shown ? ` (got ${JSON.stringify(value)})` : ''}`;
      }),
    );
  }
  const c = parsed.data;
  return {
    ...c,
    dataDir: path.resolve(c.dataDir),
    lessonsDir: path.resolve(c.lessonsDir),
    clientDir: path.resolve(c.clientDir),
    ...(c.kubeconfig ? { kubeconfig: path.resolve(c.kubeconfig) } : {}),
  };
}

/** Reads flags and environment (flags win) into a validated Config. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const options = Object.fromEntries(
    Object.values(sources).map((s) => [s.flag, { type: 'string' as const }]),
  ) as Record<string, { type: 'string' | 'boolean' }>;
  // A switch: `--learner-namespaces` alone turns it on.
  options['learner-namespaces'] = { type: 'boolean' };
  let flags: Record<string, string | boolean | undefined>;
  try {
    ({ values: flags } = parseArgs({
      args: argv,
      options: { ...options, 'public-origin': { type: 'string', multiple: true } as never, 'allow-origin': { type: 'string', multiple: true } as never },
      strict: true,
      allowPositionals: false,
    }) as { values: Record<string, string | boolean | undefined> });
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
  const input: Partial<Record<keyof Config, unknown>> = {};
  for (const [key, source] of Object.entries(sources)) {
    const fromFlag = flags[source.flag];
    const fromEnv = source.env.map((name) => env[name]).find((v) => v !== undefined && v !== '');
    const value = fromFlag ?? fromEnv;
    if (value !== undefined) input[key as keyof Config] = value;
  }
  // `--allow-origin` / PLAYGROUND_ALLOWED_ORIGINS are this setting's older names, same meaning.
  const list = (values: unknown) => ((values as string[] | undefined) ?? []).flatMap((v) => v.split(','));
  const origins = [
    ...list(flags['public-origin']),
    ...list(flags['allow-origin']),
    ...list([env.PLAYGROUND_PUBLIC_ORIGIN ?? '']),
    ...list([env.PLAYGROUND_ALLOWED_ORIGINS ?? '']),
  ]
    .map((o) => o.trim())
    .filter(Boolean);
  if (origins.length) input.publicOrigins = origins;
  return resolveConfig(input);
}
