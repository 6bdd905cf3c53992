import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProgressStore } from '../../server/progress/store.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-progress-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('progress store', () => {
  it('starts empty for a new learner and track', () => {
    const store = new ProgressStore(tempDir());
    expect(store.get('learner-aaaaaaaaaaaa', 'welcome')).toEqual({ trackId: 'welcome', currentStep: null, done: [] });
    store.close();
  });

  it('survives a restart: current step and done steps are persisted', () => {
    const dir = tempDir();
    const first = new ProgressStore(dir);
    first.setCurrentStep('l1', 'welcome', 'terminal');
    first.setStepDone('l1', 'welcome', 'intro', true);
    first.setStepDone('l1', 'welcome', 'terminal', true);
    first.close();
    const second = new ProgressStore(dir);
    expect(second.get('l1', 'welcome')).toEqual({ trackId: 'welcome', currentStep: 'terminal', done: ['intro', 'terminal'] });
    expect(second.doneCounts('l1')).toEqual({ welcome: 2 });
    second.close();
  });

  it('keeps learners apart and lets a step be un-done', () => {
    const store = new ProgressStore(tempDir());
    store.setStepDone('l1', 'welcome', 'intro', true);
    store.setStepDone('l1', 'welcome', 'intro', true);
    store.setStepDone('l2', 'welcome', 'nodes', true);
    expect(store.get('l1', 'welcome').done).toEqual(['intro']);
    expect(store.get('l2', 'welcome').done).toEqual(['nodes']);
    store.setStepDone('l1', 'welcome', 'intro', false);
    expect(store.get('l1', 'welcome').done).toEqual([]);
    store.close();
  });
});

describe('check results', () => {
  it('persists the latest verdict of each check across a restart', () => {
    const dir = tempDir();
    const first = new ProgressStore(dir);
    expect(first.checkResults('l1', 'warm-up', 'deploy')).toBeUndefined();
    first.saveCheckResults('l1', 'warm-up', 'deploy', [{ title: 'web runs', passed: false, found: 'no Deployment "web"' }]);
    first.saveCheckResults('l1', 'warm-up', 'deploy', [{ title: 'web runs', passed: true, found: 'ready' }]);
    first.close();
    const second = new ProgressStore(dir);
    expect(second.checkResults('l1', 'warm-up', 'deploy')).toEqual([{ title: 'web runs', passed: true, found: 'ready' }]);
    expect(second.isStepDone('l1', 'warm-up', 'deploy')).toBe(false);
    second.setStepDone('l1', 'warm-up', 'deploy', true);
    expect(second.isStepDone('l1', 'warm-up', 'deploy')).toBe(true);
    second.close();
  });
});
