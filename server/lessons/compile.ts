/**
 * Lessons folder → CompiledLessons: the catalog (loading, validation, variables) and the
 * renderer (marked, shiki, sanitize-html) as they are, their output kept as plain data.
 * This is the only module that pulls those libraries in for the server; it runs in a child
 * process (compile-main.ts) or, from source, in-process.
 */
import { loadCatalog } from './catalog.js';
import { COMPILED_FORMAT, type CompiledLessons, type CompiledStep, type CompiledTrack } from './compiled.js';
import { renderHints, renderStep } from './render.js';

/** Throws only when `dir` itself cannot be read; everything wrong inside it is in `problems`. */
export async function compileLessons(dir: string): Promise<CompiledLessons> {
  const { tracks, problems } = await loadCatalog(dir);
  const compiled: CompiledTrack[] = [];
  for (const track of tracks) {
    const steps: CompiledStep[] = [];
    for (const step of track.steps) {
      steps.push({
        id: step.id,
        title: step.title,
        file: step.file,
        html: await renderStep(track, step),
        hints: await renderHints(track, step),
        solution: step.solution,
        checks: step.checks,
        sticky: step.sticky,
        ...(step.alreadyPasses !== undefined ? { alreadyPasses: step.alreadyPasses } : {}),
        ...(step.clusterWide ? { clusterWide: true } : {}),
        ...(step.timeoutSeconds !== undefined ? { timeoutSeconds: step.timeoutSeconds } : {}),
        ...(step.pictures !== undefined ? { pictures: step.pictures } : {}),
        setup: step.setup,
      });
    }
    compiled.push({ id: track.id, title: track.title, summary: track.summary, backends: [...track.backends], file: track.file, steps, cleanup: track.cleanup });
  }
  return { format: COMPILED_FORMAT, tracks: compiled, problems };
}
