/**
 * Server configuration from environment variables and command-line flags (flags win),
 * validated with zod so a bad value stops the server with a message naming the setting.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as z from 'zod';

const port = z.coerce.number().int().min(0, 'must be 0 (any free port) or 1-65535').max(65535, 'must be at most 65535');

export const configSchema = z
  .object({
    host: z.string().min(1),
    port,
    dataDir: z.string().min(1),
    lessonsDir: z.string().min(1),
    backend: z.enum(['sim', 'kubeconfig']),
    kubeconfig: z.string().optional(),
    context: z.string().optional(),
    /** Seconds a detached, silent terminal lives before its shell is killed. */
    idleTimeoutSeconds: z.coerce.number().int().positive(),
    scrollbackLines: z.coerce.number().int().min(100).max(100_000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    /** Fixed access token (instructors, tests); random per start when absent. */
    token: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Extra origins allowed to open the terminal WebSocket (e.g. behind a reverse proxy). */
    allowedOrigins: z.array(z.string().url()),
    /** Where the built client lives. */
    clientDir: z.string().min(1),
  })
  .superRefine((c, ctx) => {
    if (c.backend === 'kubeconfig' && !c.kubeconfig) {
      ctx.addIssue({ code: 'custom', path: ['kubeconfig'], message: 'is required when backend is "kubeconfig" (set PLAYGROUND_KUBECONFIG or --kubeconfig)' });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** Where each setting comes from: flag name and environment variable. */
const sources: Record<Exclude<keyof Config, 'allowedOrigins'>, { flag: string; env: string[] }> = {
  host: { flag: 'host', env: ['HOST', 'PLAYGROUND_HOST'] },
  port: { flag: 'port', env: ['PORT', 'PLAYGROUND_PORT'] },
  dataDir: { flag: 'data-dir', env: ['PLAYGROUND_DATA_DIR'] },
  lessonsDir: { flag: 'lessons-dir', env: ['PLAYGROUND_LESSONS_DIR'] },
  backend: { flag: 'backend', env: ['PLAYGROUND_BACKEND'] },
  kubeconfig: { flag: 'kubeconfig', env: ['PLAYGROUND_KUBECONFIG'] },
  context: { flag: 'context', env: ['PLAYGROUND_CONTEXT'] },
  idleTimeoutSeconds: { flag: 'idle-timeout', env: ['PLAYGROUND_IDLE_TIMEOUT'] },
  scrollbackLines: { flag: 'scrollback', env: ['PLAYGROUND_SCROLLBACK'] },
  logLevel: { flag: 'log-level', env: ['LOG_LEVEL', 'PLAYGROUND_LOG_LEVEL'] },
  token: { flag: 'token', env: ['PLAYGROUND_TOKEN'] },
  clientDir: { flag: 'client-dir', env: ['PLAYGROUND_CLIENT_DIR'] },
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
  idleTimeoutSeconds: 30 * 60,
  scrollbackLines: 5000,
  logLevel: 'info',
  allowedOrigins: [] as string[],
  clientDir: path.join(projectRoot, 'dist', 'client'),
} as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function describe(key: string): string {
  const source = sources[key as keyof typeof sources];
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
        return `${describe(key)}: ${i.message}${value !== undefined ? ` (got ${JSON.stringify(value)})` : ''}`;
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
  ) as Record<string, { type: 'string' }>;
  let flags: Record<string, string | boolean | undefined>;
  try {
    ({ values: flags } = parseArgs({
      args: argv,
      options: { ...options, 'allow-origin': { type: 'string', multiple: true } as never },
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
  const origins = [
    ...((flags['allow-origin'] as unknown as string[] | undefined) ?? []),
    ...(env.PLAYGROUND_ALLOWED_ORIGINS ? env.PLAYGROUND_ALLOWED_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean) : []),
  ];
  if (origins.length) input.allowedOrigins = origins;
  return resolveConfig(input);
}
