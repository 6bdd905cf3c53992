/** Learner uids: one each, stable across restarts, never a uid the machine already uses or another server's learner has. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LearnerUids } from '../../server/learners/uids.js';

const dirs: string[] = [];
const dataDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-uids-'));
  dirs.push(dir);
  return dir;
};
// Each test has machine-wide claims of its own, so tests (and this machine's servers) don't meet.
let claims = '';
const uids = (dir: string, base?: number) => new LearnerUids(dir, base, claims);
beforeEach(() => {
  claims = dataDir();
});
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('learner uids', () => {
  it('gives each learner a uid of their own and the same one after a restart', () => {
    const dir = dataDir();
    const first = uids(dir, 200_000);
    const a = first.uidOf('learner-a');
    const b = first.uidOf('learner-b');
    expect(a).toBeGreaterThanOrEqual(200_000);
    expect(b).not.toBe(a);
    expect(first.uidOf('learner-a')).toBe(a);
    const again = uids(dir, 200_000);
    expect(again.uidOf('learner-b')).toBe(b);
    expect(again.uidOf('learner-a')).toBe(a);
    expect(new Set([a, b, again.uidOf('learner-c')]).size).toBe(3);
  });

  it("never hands out a uid of the machine's accounts", () => {
    // nobody (65534) is in every /etc/passwd; start the range right on it.
    expect(uids(dataDir(), 65_534).uidOf('x')).not.toBe(65_534);
  });

  it('refuses a tampered allocation file rather than give a learner a system uid', () => {
    const dir = dataDir();
    fs.mkdirSync(path.join(dir, 'learners'));
    fs.writeFileSync(path.join(dir, 'learners', 'uids.json'), JSON.stringify({ version: 1, uids: { a: 0 } }));
    expect(() => uids(dir)).toThrow(/uid 0 of a is outside/);
  });

  it("never gives a learner a uid another server on this machine gave one of its learners", () => {
    const one = uids(dataDir(), 200_000);
    const two = uids(dataDir(), 200_000);
    const a = one.uidOf('a');
    const b = two.uidOf('b');
    expect(b).not.toBe(a);
    expect(uids(dataDir(), 200_000).uidOf('c')).not.toBeOneOf([a, b]);
  });

  it("takes over the uid of a server whose data dir is gone, and gives up a saved uid another server claimed", () => {
    const goneDir = dataDir();
    const gone = uids(goneDir, 200_000).uidOf('old');
    fs.rmSync(goneDir, { recursive: true, force: true });
    const dir = dataDir();
    const first = uids(dir, 200_000);
    expect(first.uidOf('a')).toBe(gone);
    // Another server's claim on a's uid, as if our claim file had been lost: a moves to a new uid.
    const other = dataDir();
    fs.writeFileSync(path.join(claims, String(gone)), fs.realpathSync(path.join(other)));
    const again = uids(dir, 200_000);
    expect(again.uidOf('a')).not.toBe(gone);
  });
});
