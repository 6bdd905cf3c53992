/**
 * The loaded lesson catalog as the HTTP API presents it: summaries for the track list and
 * fully rendered tracks (rendering is cached by the renderer).
 */
import type { BackendName } from '../cluster/backend.js';
import { loadCatalog, type LessonProblem, type Track } from '../lessons/catalog.js';
import { prerenderTracks, renderHints, renderStep } from '../lessons/render.js';
import type { StepChecks } from '../checks/engine.js';

export interface TrackSummary {
  id: string;
  title: string;
  summary: string;
  backends: string[];
  supported: boolean;
  steps: { id: string; title: string }[];
}

export interface RenderedTrack {
  id: string;
  title: string;
  summary: string;
  steps: { id: string; title: string; html: string; hints: string[]; solution: string[]; checks: { title: string }[] }[];
}

export class LessonLibrary {
  private constructor(
    private readonly tracks: Track[],
    private readonly loadProblems: LessonProblem[],
    private readonly backend: BackendName,
  ) {}

  static async load(dir: string, backend: BackendName): Promise<LessonLibrary> {
    const { tracks, problems } = await loadCatalog(dir);
    return new LessonLibrary(tracks, problems, backend);
  }

  problems(): LessonProblem[] {
    return this.loadProblems;
  }

  trackCount(): number {
    return this.tracks.length;
  }

  summaries(): TrackSummary[] {
    return this.tracks.map((t) => ({
      id: t.id,
      title: t.title,
      summary: t.summary,
      backends: [...t.backends],
      supported: (t.backends as string[]).includes(this.backend),
      steps: t.steps.map((s) => ({ id: s.id, title: s.title })),
    }));
  }

  /** Renders every step ahead of the first visitor (shiki's start-up is the slow part). */
  async prerender(): Promise<number> {
    return prerenderTracks(this.tracks);
  }

  stepChecks(trackId: string, stepId: string): StepChecks | undefined {
    const step = this.tracks.find((t) => t.id === trackId)?.steps.find((s) => s.id === stepId);
    return step ? { checks: step.checks, sticky: step.sticky } : undefined;
  }

  hasTrack(trackId: string): boolean {
    return this.tracks.some((t) => t.id === trackId);
  }

  hasStep(trackId: string, stepId: string): boolean {
    return this.tracks.find((t) => t.id === trackId)?.steps.some((s) => s.id === stepId) ?? false;
  }

  async renderedTrack(trackId: string): Promise<RenderedTrack | undefined> {
    const track = this.tracks.find((t) => t.id === trackId);
    if (!track) return undefined;
    const steps = await Promise.all(
      track.steps.map(async (s) => ({
        id: s.id,
        title: s.title,
        html: await renderStep(track, s),
        hints: await renderHints(track, s),
        solution: s.solution,
        checks: s.checks.map((c) => ({ title: c.title })),
      })),
    );
    return { id: track.id, title: track.title, summary: track.summary, steps };
  }
}
