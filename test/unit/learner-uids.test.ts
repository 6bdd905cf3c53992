/** Learner uids: one each, stable across restarts, never a uid the machine already uses. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LearnerUids } from '../../server/learners/uids.js';

const dirs: string[] = [];
const dataDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-uids-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('learner uids', () => {
  it('gives each learner a uid of their own and the same one after a restart', () => {
    const dir = dataDir();
    const first = new LearnerUids(dir, 200_000);
    const a = first.uidOf('learner-a');
    const b = first.uidOf('learner-b');
    expect(a).toBeGreaterThanOrEqual(200_000);
    expect(b).not.toBe(a);
    expect(first.uidOf('learner-a')).toBe(a);
    const again = new LearnerUids(dir, 200_000);
    expect(again.uidOf('learner-b')).toBe(b);
    expect(again.uidOf('learner-a')).toBe(a);
    expect(new Set([a, b, again.uidOf('learner-c')]).size).toBe(3);
  });

  it("never hands out a uid of the machine's accounts", () => {
    // nobody (65534) is in every /etc/passwd; start the range right on it.
    expect(new LearnerUids(dataDir(), 65_534).uidOf('x')).not.toBe(65_534);
  });

  it('refuses a tampered allocation file rather than give a learner a system uid', () => {
    const dir = dataDir();
    fs.mkdirSync(path.join(dir, 'learners'));
    fs.writeFileSync(path.join(dir, 'learners', 'uids.json'), JSON.stringify({ version: 1, uids: { a: 0 } }));
    expect(() => new LearnerUids(dir)).toThrow(/uid 0 of a is outside/);
  });
});
