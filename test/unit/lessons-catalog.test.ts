import fs from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatProblem, loadCatalog } from '../../server/lessons/catalog.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '../fixtures/lessons');
const realLessons = path.join(here, '../../lessons');

describe('loadCatalog on well-formed lessons', () => {
  it('loads tracks in their declared order with every field resolved', async () => {
    const { tracks, problems } = await loadCatalog(path.join(fixtures, 'good'));
    expect(problems).toEqual([]);
    // beta has order 1, alpha order 2; the "_assets" folder is not a track.
    expect(tracks.map((track) => track.id)).toEqual(['beta', 'alpha']);

    const alpha = tracks[1]!;
    expect(alpha.title).toBe('Alpha with Istio 1.30.3');
    expect(alpha.backends).toEqual(['sim', 'kubeconfig']);
    expect(alpha.variables).toEqual({ ISTIO_VERSION: '1.30.3', REPLICAS: '3' });
    expect(alpha.dir).toBe(path.join(fixtures, 'good/alpha'));
    expect(alpha.file).toBe('alpha/track.yaml');
    expect(alpha.cleanup).toEqual(['kubectl delete namespace alpha-1.30.3']);
    // Listed once by file name and once by step id; README.md is not a step.
    expect(alpha.steps.map((step) => step.id)).toEqual(['first', 'second']);
  });

  it('gives each step its body, body line, hints, solution, checks and timeout', async () => {
    const { tracks } = await loadCatalog(path.join(fixtures, 'good'));
    const [first, second] = tracks.find((track) => track.id === 'alpha')!.steps;

    expect(first!.file).toBe('alpha/01-first.md');
    expect(first!.bodyLine).toBe(17);
    expect(first!.markdown).toContain('# Download Istio 1.30.3');
    expect(first!.markdown).toContain('with 3 replicas');
    // The escaped placeholder is written literally, without its backslash.
    expect(first!.markdown).toContain('write {{ISTIO_VERSION}} literally');
    expect(first!.hints).toEqual(['Try `istioctl version` for 1.30.3.', 'Second hint.']);
    expect(first!.solution).toEqual([
      'curl -L https://istio.io/downloadIstio | ISTIO_VERSION=1.30.3 sh -',
      'cd istio-1.30.3',
    ]);
    expect(first!.checks).toEqual([
      { title: 'Istio 1.30.3 namespace exists', resource: { apiVersion: 'v1', kind: 'Namespace', name: 'istio-system' } },
      { title: 'istioctl 1.30.3 runs', command: { run: 'true', timeoutSeconds: 20 } },
    ]);
    expect(first!.checkLines).toEqual([5, 7]);
    expect(first!.timeoutSeconds).toBe(120);
    expect(first!.codeBlocks).toEqual([
      { lang: 'bash', runnable: true, code: 'curl -L https://istio.io/downloadIstio | ISTIO_VERSION=1.30.3 sh -', line: 22 },
      { lang: 'yaml', runnable: false, code: 'replicas: 3', line: 26 },
    ]);

    // A block solution stays one unit; Go templates are not variables.
    expect(second!.solution).toEqual(['for i in 1 2; do\n  echo "$i"\ndone']);
    expect(second!.markdown).toContain("go-template='{{range .items}}{{.metadata.name}}{{end}}'");
    expect(second!.timeoutSeconds).toBe(45);
  });

  it('lets configured values override declared variables, and only those', async () => {
    const { tracks, problems } = await loadCatalog(path.join(fixtures, 'good'), {
      variables: { ISTIO_VERSION: '1.27.1', UNDECLARED: 'x' },
    });
    expect(problems).toEqual([]);
    const alpha = tracks.find((track) => track.id === 'alpha')!;
    expect(alpha.variables).toEqual({ ISTIO_VERSION: '1.27.1', REPLICAS: '3' });
    expect(alpha.steps[0]!.solution[1]).toBe('cd istio-1.27.1');
  });

  it('refuses a missing lessons folder with a clear error', async () => {
    await expect(loadCatalog(path.join(fixtures, 'does-not-exist'))).rejects.toThrow(/cannot read the lessons folder .*does-not-exist/);
  });
});

describe('loadCatalog on malformed lessons', () => {
  it('refuses each broken track with file, line and reason, and still loads the rest', async () => {
    const { tracks, problems } = await loadCatalog(path.join(fixtures, 'broken'));
    expect(tracks.map((track) => track.id)).toEqual(['fine']);
    expect(tracks[0]!.dir).toBe(path.join(fixtures, 'broken/fine'));

    expect(problems.map(formatProblem).sort()).toEqual([
      'bad-backend/track.yaml:6: backends[1]: must be one of sim, kind, kubeconfig',
      'bad-code/a.md:11: code block opened here is never closed',
      'bad-code/a.md:7: only shell blocks can be runnable (bash, sh, shell), not "yaml"',
      'bad-values/a.md:5: checks[0]: unknown check kind; a check has exactly one of: resource, workload, http, output, command',
      'bad-values/a.md:6: timeout: must be a number of seconds or a duration such as "90s" or "2m"',
      'bad-values/track.yaml:6: variables.ISTIO_VERSION: must be a string; quote version numbers (YAML reads 1.30 as the number 1.3)',
      'bad-yaml/a.md:3: invalid YAML: Nested mappings are not allowed in compact mappings (a value that contains ": " must be quoted, e.g. title: "Kubectl: the basics")',
      'duplicate-step-id/b.md:2: duplicate step id "same" in this track (already used by duplicate-step-id/a.md:2)',
      'missing-title/a.md:2: title: is required',
      'no-front-matter/a.md:1: a step file must start with front-matter: a "---" line, YAML (id, title, …), then "---"',
      'no-track-yaml/track.yaml:1: missing: every track folder needs a track.yaml (id, title, summary, steps, backends)',
      'unknown-field/a.md:3: tilte: unknown field (known fields: id, title, checks, hints, solution, timeout, sticky, alreadyPasses, clusterWide, setup, variables, picture)',
      'unknown-step/track.yaml:7: steps[1]: no step "missing.md" in unknown-step/ (step files: a.md)',
      'unknown-variable/a.md:4: unknown variable {{ISTIO_VERSON}} (declared: ISTIO_VERSION; declare it under variables: in track.yaml, or write \\{{ISTIO_VERSON}} for the literal text)',
      'unknown-variable/a.md:9: unknown variable {{REVISION}} (declared: ISTIO_VERSION; declare it under variables: in track.yaml, or write \\{{REVISION}} for the literal text)',
      'unlisted-file/draft.md:1: not listed in unlisted-file/track.yaml steps (add "draft.md" there, or move the file out of the track)',
      'zz-duplicate-track/track.yaml:1: duplicate track id "fine" (already used by fine/track.yaml:1)',
    ]);
  });

  it('reports problems as plain data: relative file, 1-based line, message', async () => {
    const { problems } = await loadCatalog(path.join(fixtures, 'broken'));
    expect(problems).toContainEqual({ file: 'missing-title/a.md', line: 2, message: 'title: is required' });
    for (const problem of problems) {
      expect(path.isAbsolute(problem.file)).toBe(false);
      expect(problem.line).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('files saved by other editors', () => {
  it('keeps line numbers right for CRLF line endings and a byte-order mark', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'lessons-crlf-'));
    try {
      await mkdir(path.join(root, 'win'));
      await writeFile(path.join(root, 'win/track.yaml'), 'id: win\r\ntitle: Windows\r\nsummary: CRLF.\r\nbackends: [sim]\r\nsteps: [a.md]\r\n');
      await writeFile(path.join(root, 'win/a.md'), '\uFEFF---\r\nid: a\r\ntitle: A\r\n---\r\nLine five {{NOPE}}\r\n');
      const { problems } = await loadCatalog(root);
      expect(problems.map(formatProblem)).toEqual([
        'win/a.md:5: unknown variable {{NOPE}} (the track declares no variables; declare it under variables: in track.yaml, or write \\{{NOPE}} for the literal text)',
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('the real lessons folder', () => {
  it('loads with zero problems, Welcome first with its four steps', async () => {
    const { tracks, problems } = await loadCatalog(realLessons);
    expect(problems.map(formatProblem)).toEqual([]);
    const welcome = tracks[0]!;
    expect(welcome.id).toBe('welcome');
    expect(welcome.backends).toEqual(['sim', 'kind', 'kubeconfig']);
    expect(welcome.steps.map((step) => step.id)).toEqual([
      'the-playground',
      'terminal-and-run-buttons',
      'kubectl-version',
      'kubectl-get-nodes',
    ]);
    const commands = welcome.steps.flatMap((step) => step.codeBlocks.filter((block) => block.runnable).map((block) => block.code));
    expect(commands).toContain('kubectl version');
    expect(commands).toContain('kubectl get nodes');
  });

  it('gives every step with runnable commands a solution', async () => {
    const { tracks } = await loadCatalog(realLessons);
    for (const track of tracks) {
      for (const step of track.steps) {
        if (step.codeBlocks.some((block) => block.runnable)) expect(step.solution, `${step.file} has no solution`).not.toEqual([]);
      }
    }
  });
});

describe('check declarations in lessons', () => {
  it('refuses a step whose check is malformed, at the check field\'s line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-lesson-checks-'));
    fs.mkdirSync(path.join(dir, 't'));
    fs.writeFileSync(path.join(dir, 't/track.yaml'), 'id: t\ntitle: T\nsummary: S\nsteps: [a.md]\nbackends: [sim]\n');
    fs.writeFileSync(
      path.join(dir, 't/a.md'),
      '---\nid: a\ntitle: A\nchecks:\n  - title: sidecars\n    workload:\n      pods: app=web\n      ready: two\n---\nBody.\n',
    );
    const { tracks, problems } = await loadCatalog(dir);
    expect(tracks).toEqual([]);
    expect(problems.map(formatProblem)).toEqual(['t/a.md:8: checks[0].workload.ready: must look like READY in kubectl get pods, e.g. "2/2"']);
  });
});
