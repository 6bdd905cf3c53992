/**
 * A throwaway PostgreSQL cluster (Debian's postgresql package) for tests: initdb in a temp dir,
 * the server listening only on a Unix socket there, fsync off; run as `nobody` when we are root,
 * since initdb and postgres refuse to run as root.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The newest PostgreSQL server binaries installed (Debian puts them under /usr/lib/postgresql/<major>/bin). */
export function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const majors = fs.readdirSync(base).filter((d) => fs.existsSync(path.join(base, d, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return majors[0] ? path.join(base, majors[0], 'bin') : undefined;
}

export interface Postgres {
  /** A connection URL for a new, empty database of its own. */
  newDatabase(): Promise<string>;
  stop(): Promise<void>;
}

const NOBODY = 65534;

export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql): .ci/run installs it');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-test-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) fs.chownSync(dir, NOBODY, NOBODY);
  const as = (cmd: string, args: string[]) => (asRoot ? ['setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', cmd, ...args]] : [cmd, args]) as [string, string[]];
  const data = path.join(dir, 'data');
  await run(...as(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']));
  const port = '5432';
  const child: ChildProcess = spawn(...as(path.join(bin, 'postgres'), ['-D', data, '-k', dir, '-p', port, '-c', 'listen_addresses=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Ready when the server says so on its log (stderr), or failed when it exits first.
  await new Promise<void>((resolve, reject) => {
    let log = '';
    child.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
      if (log.includes('database system is ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`postgres exited (${code}) before it was ready:\n${log}`)));
  });
  const url = (db: string) => `postgresql://postgres@localhost/${db}?host=${encodeURIComponent(dir)}&port=${port}`;
  let n = 0;
  return {
    async newDatabase() {
      const name = `t${++n}`;
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT'); // fast shutdown
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
