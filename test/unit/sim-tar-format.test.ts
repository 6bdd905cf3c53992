/**
 * The in-container tar's archive format against the host's GNU tar: what the simulation writes,
 * real tar reads (long names included); what real tar writes in each format, the simulation reads.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTar, writeTar } from '../../server/sim/images/shell/tar-format.js';

const dir = mkdtempSync(join(tmpdir(), 'sim-tar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const longName = `deep/${'d'.repeat(60)}/${'f'.repeat(70)}.txt`;

describe('tar format', () => {
  it('writes archives GNU tar lists and extracts byte for byte, long names included', () => {
    const blob = Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 37) % 256));
    const archive = writeTar([
      { name: 'deep', type: 'dir', mode: 0o755, mtime: 1_700_000_000, data: Buffer.alloc(0) },
      { name: longName, type: 'file', mode: 0o644, mtime: 1_700_000_000, data: blob },
    ]);
    expect(archive.length % 10240).toBe(0);
    writeFileSync(join(dir, 'ours.tar'), archive);
    expect(execFileSync('tar', ['tf', join(dir, 'ours.tar')], { encoding: 'utf8' })).toBe(`deep/\n${longName}\n`);
    mkdirSync(join(dir, 'out'));
    execFileSync('tar', ['xf', join(dir, 'ours.tar'), '-C', join(dir, 'out')]);
    expect(readFileSync(join(dir, 'out', longName)).equals(blob)).toBe(true);
  });

  it.each(['gnu', 'ustar', 'pax'])('reads what GNU tar writes in %s format', (format) => {
    const src = join(dir, `src-${format}`);
    const name = format === 'ustar' ? 'short.txt' : longName;
    mkdirSync(join(src, name, '..'), { recursive: true });
    writeFileSync(join(src, name), 'payload\n');
    const archive = execFileSync('tar', ['cf', '-', `--format=${format}`, '-C', src, name]);
    const entries = readTar(archive);
    expect(entries.map((e) => [e.name, e.type, e.data.toString()])).toEqual([[name, 'file', 'payload\n']]);
  });

  it('refuses data that is not an archive', () => {
    expect(() => readTar(Buffer.alloc(1024, 'x'))).toThrow('This does not look like a tar archive');
  });
});
