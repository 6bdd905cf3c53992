/**
 * `npm run workshop -- <command>`: workshops from the command line, on the same store the server
 * reads (the data dir's workshops.sqlite, or PostgreSQL with --database-url), so it works whether
 * or not the server runs.
 *
 *   create --title T --tracks a,b --capacity 30 --expires 8h   prints the join link
 *   list                                                       id, status, seats, join link
 *   close <id>                                                 no more joins
 *   delete <id>                                                the workshop and its members' access
 *
 * Options: --data-dir (PLAYGROUND_DATA_DIR), --database-url (PLAYGROUND_DATABASE_URL), --lessons-dir, --url (the address learners open,
 * default http://127.0.0.1:8080/).
 */
import { parseArgs } from 'node:util';
import { defaults } from '../config.js';
import { loadCatalog } from '../lessons/catalog.js';
import { openWorkshopStore } from './open-store.js';
import { workshopStatus, type Workshop, type WorkshopStore } from './store.js';

export class UsageError extends Error {}

/** `8h`, `90m`, `2d`, `45` (minutes) → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*([mhd]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`--expires: "${text}" is not a duration (e.g. 90m, 8h, 2d)`);
  const n = Number(m[1]);
  const ms = n * { '': 60_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as '' | 'm' | 'h' | 'd'];
  if (ms <= 0 || ms > 30 * 86_400_000) throw new UsageError('--expires: between 1 minute and 30 days');
  return ms;
}

export interface CliDeps {
  store: WorkshopStore;
  trackIds: () => Promise<string[]>;
  baseUrl: string;
  now?: () => Date;
}

const line = (w: Workshop, members: number, baseUrl: string, now: Date) =>
  `${w.id}  ${workshopStatus(w, now).padEnd(7)}  ${String(members).padStart(4)}/${String(w.capacity).padEnd(4)}  expires ${w.expiresAt.toISOString()}  ${new URL(`join/${w.joinCode}`, baseUrl).href}  ${w.title}`;

/** Runs one command; returns what to print. */
export async function runWorkshopCommand(args: string[], deps: CliDeps): Promise<string> {
  const [command, ...rest] = args;
  const now = deps.now ?? (() => new Date());
  const { values, positionals } = parseArgs({
    args: rest,
    options: { title: { type: 'string' }, tracks: { type: 'string' }, capacity: { type: 'string' }, expires: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  switch (command) {
    case 'create': {
      const title = values.title?.trim();
      if (!title) throw new UsageError('create needs --title');
      const tracks = (values.tracks ?? '').split(',').map((t) => t.trim()).filter(Boolean);
      if (!tracks.length) throw new UsageError('create needs --tracks (comma-separated track ids)');
      const known = await deps.trackIds();
      const unknown = tracks.filter((t) => !known.includes(t));
      if (unknown.length) throw new UsageError(`unknown track${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (known: ${known.join(', ')})`);
      const capacity = Number(values.capacity ?? '30');
      if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1000) throw new UsageError('--capacity: a whole number from 1 to 1000');
      const expiresAt = new Date(now().getTime() + parseDuration(values.expires ?? '8h'));
      const w = await deps.store.create({ title, tracks: [...new Set(tracks)], capacity, expiresAt });
      return `Created workshop ${w.id} "${w.title}" (${capacity} seats, expires ${expiresAt.toISOString()}).\nJoin link: ${new URL(`join/${w.joinCode}`, deps.baseUrl).href}\n`;
    }
    case 'list': {
      const list = await deps.store.list();
      if (!list.length) return 'No workshops.\n';
      const rows = await Promise.all(list.map(async (w) => line(w, (await deps.store.members(w.id)).length, deps.baseUrl, now())));
      return `${rows.join('\n')}\n`;
    }
    case 'close':
    case 'delete': {
      const id = positionals[0];
      if (!id) throw new UsageError(`${command} needs a workshop id (see: list)`);
      if (command === 'close') {
        const w = await deps.store.close(id);
        if (!w) throw new UsageError(`no workshop "${id}"`);
        return `Closed workshop ${w.id}: no more joins; its learners keep working until ${w.expiresAt.toISOString()}.\n`;
      }
      if (!(await deps.store.delete(id))) throw new UsageError(`no workshop "${id}"`);
      return `Deleted workshop ${id}: its learners no longer have access.\n`;
    }
    default:
      throw new UsageError('usage: npm run workshop -- create --title T --tracks a,b [--capacity 30] [--expires 8h] | list | close <id> | delete <id>');
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values, positionals } = parseArgs({
    args: argv,
    options: { 'data-dir': { type: 'string' }, 'database-url': { type: 'string' }, 'lessons-dir': { type: 'string' }, url: { type: 'string' }, title: { type: 'string' }, tracks: { type: 'string' }, capacity: { type: 'string' }, expires: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const dataDir = values['data-dir'] ?? process.env.PLAYGROUND_DATA_DIR ?? defaults.dataDir;
  const lessonsDir = values['lessons-dir'] ?? process.env.PLAYGROUND_LESSONS_DIR ?? defaults.lessonsDir;
  const databaseUrl = values['database-url'] ?? (process.env.PLAYGROUND_DATABASE_URL || undefined);
  const { store } = await openWorkshopStore({ dataDir, databaseUrl });
  const passOn = [...positionals.slice(0, 1), ...['title', 'tracks', 'capacity', 'expires'].flatMap((k) => (values[k as 'title'] !== undefined ? [`--${k}`, values[k as 'title']!] : [])), ...positionals.slice(1)];
  try {
    process.stdout.write(
      await runWorkshopCommand(passOn, {
        store,
        baseUrl: values.url ?? `http://127.0.0.1:${process.env.PORT ?? process.env.PLAYGROUND_PORT ?? defaults.port}/`,
        trackIds: async () => (await loadCatalog(lessonsDir)).tracks.map((t) => t.id),
      }),
    );
  } finally {
    await store.dispose();
  }
}

if (process.argv[1] && /workshops[\\/]cli\.[jt]s$/.test(process.argv[1])) {
  main().catch((err: unknown) => {
    process.stderr.write(`workshop: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1);
  });
}
