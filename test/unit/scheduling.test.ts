/**
 * The server's scheduling group (server/scheduling.ts): raised when it may, said plainly when it
 * may not. Run in child processes: raising it here would change the test runner's own session.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_AUTOGROUP_NICE } from '../../server/scheduling.js';

const SCRIPT = `
import { pino } from 'pino';
import fs from 'node:fs';
import { favourTheServer } from './server/scheduling.ts';
favourTheServer(pino());
console.log('AUTOGROUP ' + fs.readFileSync('/proc/self/autogroup', 'utf8').trim());
`;
const run = (prefix: string[] = []) =>
  execFileSync(prefix[0] ?? process.execPath, [...(prefix.length ? [...prefix.slice(1), process.execPath] : []), '--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    cwd: process.cwd(),
    encoding: 'utf8',
    // A session of its own: the group raised is the child's, not the test runner's.
    detached: true,
  } as Parameters<typeof execFileSync>[2] & { encoding: 'utf8' });

const autogroup = fs.existsSync('/proc/self/autogroup');
const root = process.getuid?.() === 0;

describe.runIf(autogroup)("the server's scheduling group", () => {
  it.runIf(root)('is raised to nice -10 when the server may (root)', () => {
    const out = run(['/usr/bin/setsid']);
    expect(out).toContain("the server's scheduling group is raised above learners' work");
    expect(out).toMatch(new RegExp(`AUTOGROUP /autogroup-\\d+ nice ${SERVER_AUTOGROUP_NICE}`));
  });

  it.runIf(root && fs.existsSync('/usr/bin/setpriv'))('stays as it was, with a sentence saying why, when the server may not', () => {
    // Root without CAP_SYS_NICE (a container's default): the same files readable, no right to raise.
    const out = run(['/usr/bin/setsid', '/usr/bin/setpriv', '--bounding-set=-sys_nice', '--inh-caps=-sys_nice']);
    expect(out).toContain("the server's scheduling group could not be raised (needs root or CAP_SYS_NICE)");
    expect(out).toMatch(/AUTOGROUP \/autogroup-\d+ nice 0/);
  });
});
