/**
 * Every shell script of the project passes shellcheck (Debian's package; .ci/run installs it):
 * scripts/*.sh, .ci/run, and the test stand-ins written in bash.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

function shellScripts(): string[] {
  const inDir = (dir: string) =>
    fs
      .readdirSync(path.join(root, dir))
      .map((f) => path.join(dir, f))
      .filter((f) => fs.statSync(path.join(root, f)).isFile() && /^#!.*\b(ba)?sh\b/.test(fs.readFileSync(path.join(root, f), 'utf8').split('\n')[0]!));
  return [...inDir('scripts'), '.ci/run', ...inDir('test/fixtures/stand-ins')];
}

describe('shell scripts', () => {
  const scripts = shellScripts();

  it('finds the scripts it lints', () => {
    expect(scripts).toEqual(expect.arrayContaining(['scripts/fetch-istio.sh', 'scripts/install-tools.sh', '.ci/run', 'test/fixtures/stand-ins/kind']));
  });

  it.each(scripts)('%s passes shellcheck', async (script) => {
    const shellcheck = ['/usr/bin/shellcheck', '/usr/local/bin/shellcheck'].find((p) => fs.existsSync(p));
    if (!shellcheck) throw new Error('shellcheck is not installed: apt-get install -y shellcheck (.ci/run does)');
    const result = await run(shellcheck, ['--format=gcc', script], { cwd: root }).then(
      () => '',
      (e: { stdout: string }) => e.stdout,
    );
    expect(result).toBe('');
  });
});
