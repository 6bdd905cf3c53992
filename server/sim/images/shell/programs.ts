/** The programs an image's $PATH offers, by userland. */
import type { Userland } from '../types.js';
import type { Program } from './program.js';
import { curl } from './commands/curl.js';
import { wget } from './commands/wget.js';
import { tar } from './commands/tar.js';
import { cat, cut, echo, grep, head, printf, seq, sort, tail, tee, tr, uniq, wc } from './commands/text.js';
import { date, env, hostname, id, ls, mkdir, nslookup, printenv, rm, sleep, test, touch, uname, unsupportedProgram, which, whoami } from './commands/system.js';

const COMMON: Record<string, Program> = {
  cat, cut, echo, grep, head, printf, seq, sort, tail, tee, tr, uniq, wc,
  date, env, hostname, ls, mkdir, nslookup, printenv, rm, sleep, test, '[': test, touch, uname,
  curl, wget, id, whoami, tar,
  true: async () => 0,
  false: async () => 1,
  pwd: async (io) => (io.stdout.write(io.cwd + '\n'), 0),
};

/**
 * Programs available in a container. The shells (`sh`, `bash`) are added by the caller because
 * they need the interpreter; `missing` removes what the image does not ship.
 */
export function programsFor(userland: Userland, missing: string[] = [], shells: Record<string, Program> = {}, unsupported: string[] = []): Map<string, Program> {
  const map = new Map<string, Program>();
  for (const name of unsupported) map.set(name, unsupportedProgram(name));
  if (userland === 'distroless') return map;
  for (const [k, v] of Object.entries(COMMON)) map.set(k, v);
  for (const [k, v] of Object.entries(shells)) map.set(k, v);
  map.set('which', (io) => which(io, (n) => map.has(n)));
  for (const m of missing) map.delete(m);
  return map;
}
