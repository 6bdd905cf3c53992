/**
 * The kubelet's stage table against golden cases (kwok's testdata idea): one file per stage under
 * test/fixtures/kubelet-stages/, the view in, the stage, delay, next state and Event out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { POD_STAGES, render, selectStage, stageDelay, type StageView } from '../../server/sim/kubelet/stages.js';
import type { KubeletTimings } from '../../server/sim/controllers/kit.js';

const DIR = join(import.meta.dirname, '../fixtures/kubelet-stages');

interface Golden {
  input: { timings: KubeletTimings; view: StageView };
  output: { stage: string; delayMs: number; next: Record<string, unknown>; event?: { type: string; reason: string; message: string }; events?: { type: string; reason: string; message: string }[] };
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => [f.replace(/\.yaml$/, ''), YAML.parse(readFileSync(join(DIR, f), 'utf8')) as Golden] as const);

describe('pod lifecycle stages', () => {
  it('every stage has a golden case', () => {
    expect(cases.map(([name]) => name).sort()).toEqual(POD_STAGES.map((s) => s.name).sort());
  });

  for (const [name, golden] of cases) {
    it(`${name}: selects, delays and reports as the golden case says`, () => {
      const { view, timings } = golden.input;
      const stage = selectStage(view);
      expect(stage?.name).toBe(golden.output.stage);
      const delay = stageDelay(stage!, view, timings);
      expect(delay).toBe(golden.output.delayMs);
      const { event, events, waiting, ...next } = stage!.next;
      const rendered = {
        ...next,
        ...(waiting ? { waiting: { reason: waiting.reason, message: render(waiting.message ?? '', view, delay) } } : {}),
      };
      expect(rendered).toEqual(golden.output.next);
      expect(event ? { ...event, message: render(event.message, view, delay) } : undefined).toEqual(golden.output.event);
      expect(events?.map((e) => ({ ...e, message: render(e.message, view, delay) }))).toEqual(golden.output.events);
    });
  }

  it('jitter adds a random share of timings.jitter to timed stages only', () => {
    const [, pulled] = cases.find(([n]) => n === 'image-pulled')!;
    const [, created] = cases.find(([n]) => n === 'create')!;
    const timings = { ...pulled.input.timings, jitter: 400 };
    const stage = selectStage(pulled.input.view)!;
    expect(stageDelay(stage, pulled.input.view, timings, () => 0.5)).toBe(1700);
    expect(stageDelay(stage, pulled.input.view, timings, () => 0)).toBe(1500);
    expect(stageDelay(selectStage(created.input.view)!, created.input.view, timings, () => 0.99)).toBe(0);
  });
});
