/**
 * Workshop results for the instructor's records: CSV (one row per learner and step) and JUnit
 * XML (a suite per learner, a test case per step, a failure for each step not done) so CI-style
 * tools can show them.
 */
import type { Dashboard } from './dashboard.js';

/** A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR) is quoted as text. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n']/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function resultsCsv(d: Dashboard): string {
  const lines = [['learner', 'track', 'step', 'step title', 'state', 'done'].join(',')];
  for (const learner of d.learners) {
    for (const track of d.tracks) {
      for (const step of track.steps) {
        const state = learner.cells[track.id]?.[step.id] ?? 'todo';
        lines.push([learner.name, track.id, step.id, step.title, state, state === 'done' ? 'yes' : 'no'].map(csvCell).join(','));
      }
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

const xml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    // XML 1.0 cannot carry most control characters at all, escaped or not.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');

export function resultsJunit(d: Dashboard): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const steps = d.tracks.flatMap((t) => t.steps.map((s) => ({ track: t, step: s })));
  const failuresOf = (l: Dashboard['learners'][number]) => steps.filter(({ track, step }) => l.cells[track.id]?.[step.id] !== 'done').length;
  const total = d.learners.reduce((n, l) => n + failuresOf(l), 0);
  out.push(`<testsuites name="${xml(d.workshop.title)}" tests="${steps.length * d.learners.length}" failures="${total}" timestamp="${xml(d.generatedAt)}">`);
  for (const learner of d.learners) {
    out.push(`  <testsuite name="${xml(learner.name)}" tests="${steps.length}" failures="${failuresOf(learner)}" errors="0" skipped="0">`);
    for (const { track, step } of steps) {
      const state = learner.cells[track.id]?.[step.id] ?? 'todo';
      const name = `<testcase classname="${xml(track.id)}" name="${xml(`${step.id}: ${step.title}`)}"`;
      if (state === 'done') out.push(`    ${name}/>`);
      else out.push(`    ${name}><failure type="${state}" message="${xml(`step not done (${state})`)}"/></testcase>`);
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
