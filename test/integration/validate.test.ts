import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { validateLessons } from '../../server/validate/index.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const fixtures = path.join(root, 'test/fixtures/lessons/validate');

const validate = (track: string) => validateLessons({ lessonsDir: fixtures, tracks: [track], backend: 'sim', leakTimeoutSeconds: 3, stepTimeoutSeconds: 10 });

describe('lesson validation', () => {
  it('passes a track whose solution satisfies its checks and whose cleanup removes what it made', async () => {
    const report = await validate('good');
    expect(report.cases.map((c) => [c.name, c.status, c.message])).toEqual([
      ['create', 'passed', undefined],
      ['cleanup leaves nothing behind', 'passed', undefined],
    ]);
  });

  it('fails a step whose solution does not satisfy its checks, saying what was found', async () => {
    const report = await validate('wrong-solution');
    const step = report.cases.find((c) => c.name === 'create')!;
    expect(step.status).toBe('failed');
    expect(step.message).toContain('after the solution, within 3 s: ✗ ConfigMap greeting says hello: ConfigMap "greeting": data.message is "hi", expected "hello"');
  });

  it('fails a step whose checks already pass before its solution, unless it declares why', async () => {
    const report = await validate('already-passes');
    expect(report.cases.find((c) => c.name === 'look')).toMatchObject({ status: 'failed', message: expect.stringContaining('the checks already pass before the solution ran') });
    expect(report.cases.find((c) => c.name === 'declared')).toMatchObject({ status: 'passed' });
  });

  it('fails a step whose solution command exits non-zero, with kubectl\'s error', async () => {
    const report = await validate('failing-command');
    const step = report.cases.find((c) => c.name === 'bad')!;
    expect(step.status).toBe('failed');
    expect(step.message).toMatch(/^solution\[0\] `kubectl create configmap Bad_Name` exited with status 1:/);
    expect(step.message).toContain('Bad_Name');
  });

  it('proves a step that declares its setup from that setup alone, and fails one whose setup is not enough', async () => {
    const report = await validate('setup');
    expect(report.cases.map((c) => [c.name, c.status])).toEqual([
      ['first', 'passed'],
      ['second', 'passed'],
      ['needs-first', 'passed'],
      ['claims-fresh', 'passed'],
      ['needs-first from its setup alone', 'passed'],
      ['claims-fresh from its setup alone', 'failed'],
      ['cleanup leaves nothing behind', 'passed'],
    ]);
    expect(report.cases.find((c) => c.name === 'claims-fresh from its setup alone')!.message).toMatch(/^solution\[0\] `kubectl get configmap second` exited with status 1:[\s\S]*configmaps "second" not found/);
  });

  it('fails a track that leaves objects behind', async () => {
    const report = await validate('leaky');
    expect(report.cases.find((c) => c.name === 'cleanup leaves nothing behind')).toMatchObject({
      status: 'failed',
      message: 'the track leaves behind what it created: configmaps default/leftover (it declares no cleanup in track.yaml)',
    });
  });

  it('reports lint errors with file and line', async () => {
    const report = await validate('lint-errors');
    const lint = report.cases.filter((c) => c.suite === 'lint').map((c) => c.message);
    expect(lint).toEqual(
      expect.arrayContaining([
        'lint-errors/01-bad.md:1: the step has checks but no solution, so validation cannot prove it can be done',
        expect.stringMatching(/^lint-errors\/01-bad\.md:14: runnable block does not parse: /),
        'lint-errors/01-bad.md:8: dead link ./missing.md: lint-errors/missing.md does not exist',
        'lint-errors/01-bad.md:8: dead link #nowhere: no heading with that anchor in this step',
      ]),
    );
    expect(lint).toHaveLength(4);
  });

  it('as a command: prints a line per step, writes JUnit XML, ends with "N passed, N failed" and fails the run', async () => {
    const junit = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pg-junit-')), 'report.xml');
    const result = await run('npx', ['tsx', 'scripts/validate.ts', '--lessons-dir', fixtures, '--track', 'good', '--track', 'wrong-solution', '--junit', junit], { cwd: root }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ {2}PASS good\/create \(\d+\.\d s\)$/m);
    expect(result.stdout).toMatch(/^ {2}FAIL wrong-solution\/create \(\d+\.\d s\): after the solution/m);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('3 passed, 1 failed');
    const xml = fs.readFileSync(junit, 'utf8');
    expect(xml).toContain('<testsuite name="wrong-solution" tests="2" failures="1"');
    expect(xml).toContain('<failure message="after the solution');
  }, 180_000);

  it('validates against any cluster named by a kubeconfig and context (as before a workshop)', async () => {
    const cluster = await EmbeddedCluster.start({ workloads: true });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-validate-kc-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    await cluster.writeKubeconfig(kubeconfig);
    try {
      const report = await validateLessons({ lessonsDir: fixtures, tracks: ['good'], backend: 'kubeconfig', kubeconfig, context: 'playground', leakTimeoutSeconds: 5 });
      expect(report.cases.map((c) => [c.name, c.status])).toEqual([
        ['create', 'passed'],
        ['cleanup leaves nothing behind', 'passed'],
      ]);
      // The learner-like shell worked on that cluster, and the cleanup really ran there.
      expect(cluster.store.has('/configmaps', 'default', 'greeting')).toBe(false);
      const wrong = await validateLessons({ lessonsDir: fixtures, tracks: ['good'], backend: 'kubeconfig', kubeconfig, context: 'nope' });
      expect(wrong.cases).toEqual([
        expect.objectContaining({ name: 'setup', status: 'failed', message: `the track could not be validated: context "nope" is not in ${kubeconfig} (contexts: playground)` }),
      ]);
    } finally {
      await cluster.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses bad arguments with a clear message', async () => {
    const bad = await run('npx', ['tsx', 'scripts/validate.ts', '--backend', 'kubeconfig'], { cwd: root }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('--kubeconfig FILE is required with --backend kubeconfig') });
  }, 60_000);
});
