/** `#/`: the tracks, with each one's progress, and what the server knows about the cluster. */
import { type Progress, type ServerInfo, type TrackList, type TrackSummary, api } from '../api.js';
import { h, icon } from '../dom.js';
import { trackHref } from '../router.js';
import { kubectlCallout } from './common.js';

export async function renderTrackList(info: ServerInfo): Promise<HTMLElement> {
  const list = await api.tracks();
  const progress = await loadProgress(list);
  const heading = h('h1', { tabindex: -1, class: 'hero-title' }, 'Learn Istio by running it');

  return h(
    'div',
    { class: 'home', 'data-testid': 'track-list' },
    h(
      'section',
      { class: 'hero' },
      h('p', { class: 'eyebrow' }, 'Hands-on lab'),
      heading,
      h(
        'p',
        { class: 'hero-lead' },
        'Each track pairs a short lesson with a real shell. Run the commands, see the mesh react, and check your work as you go.',
      ),
      h(
        'p',
        { class: 'cluster-line' },
        h('span', { class: 'badge badge-accent' }, info.backend.name),
        h('span', {}, info.backend.description),
        info.kubectl.found && info.kubectl.version ? h('span', { class: 'muted' }, `kubectl ${info.kubectl.version}`) : null,
      ),
      info.kubectl.found ? null : kubectlCallout(info),
    ),
    h(
      'ol',
      { class: 'how-it-works', 'aria-label': 'How it works' },
      howItWorks('book', 'Read a short step', 'One idea at a time, with the commands that show it.'),
      howItWorks('play', 'Run it for real', 'Click Run or type it yourself: a real shell and a real kubectl.'),
      howItWorks('check', 'See it work', 'Check your work against the cluster, then move on.'),
    ),
    h(
      'section',
      { class: 'tracks', 'aria-labelledby': 'tracks-heading' },
      h('h2', { id: 'tracks-heading', class: 'section-title' }, 'Tracks'),
      list.tracks.length === 0
        ? h('p', { class: 'empty' }, 'No lesson tracks were found in the lessons folder.')
        : h(
            'ul',
            { class: 'track-grid', role: 'list' },
            ...list.tracks.map((track, index) => trackCard(track, progress.get(track.id), index + 1, info)),
          ),
    ),
    list.problems.length ? problemsPanel(list) : null,
  );
}

function howItWorks(name: 'book' | 'play' | 'check', title: string, text: string): HTMLElement {
  return h(
    'li',
    { class: 'how-item' },
    h('span', { class: 'how-icon', 'aria-hidden': 'true' }, icon(name, name === 'play' ? 'icon icon-filled' : 'icon')),
    h('div', {}, h('strong', {}, title), h('p', {}, text)),
  );
}

async function loadProgress(list: TrackList): Promise<Map<string, Progress>> {
  if (list.tracks.every((track) => typeof track.doneCount === 'number')) return new Map();
  const entries = await Promise.all(
    list.tracks.map(async (track) => {
      try {
        return [track.id, await api.progress(track.id)] as const;
      } catch (error) {
        if ((error as Error).name === 'UnauthorizedError') throw error;
        return null;
      }
    }),
  );
  return new Map(entries.filter((entry): entry is readonly [string, Progress] => entry !== null));
}

function trackCard(track: TrackSummary, progress: Progress | undefined, number: number, info: ServerInfo): HTMLElement {
  const total = track.steps.length;
  const stepIds = new Set(track.steps.map((step) => step.id));
  const done = track.doneCount ?? (progress?.done ?? []).filter((id) => stepIds.has(id)).length;
  const state = done === 0 ? (progress?.currentStep ? 'started' : 'new') : done >= total ? 'complete' : 'started';
  const action = state === 'new' ? 'Start' : state === 'complete' ? 'Review' : 'Continue';
  const percent = total ? Math.round((done / total) * 100) : 0;

  return h(
    'li',
    { class: `track-card${track.supported ? '' : ' is-unsupported'}`, 'data-track': track.id, 'data-testid': 'track-card' },
    h('div', { class: 'track-card-top' }, h('span', { class: 'track-number', 'aria-hidden': 'true' }, String(number).padStart(2, '0')),
      track.supported
        ? state === 'complete'
          ? h('span', { class: 'badge badge-success' }, icon('check', 'icon icon-sm'), 'Completed')
          : null
        : h(
            'span',
            { class: 'badge badge-warning', title: `This track needs: ${track.backends.join(', ')}` },
            icon('warning', 'icon icon-sm'),
            `Needs ${track.backends.join(' or ')}`,
          ),
    ),
    h('h3', { class: 'track-title' }, h('a', { href: trackHref(track.id), class: 'track-link' }, track.title)),
    h('p', { class: 'track-summary' }, track.summary),
    track.supported
      ? null
      : h('p', { class: 'track-warning' }, `Not supported on the ${info.backend.name} cluster: some commands will fail.`),
    h(
      'div',
      { class: 'track-meta' },
      h('span', { 'data-testid': 'step-count' }, `${total} ${total === 1 ? 'step' : 'steps'}`),
      h('span', { 'data-testid': 'done-count' }, `${done} of ${total} done`),
    ),
    h(
      'div',
      {
        class: 'progress-bar',
        role: 'progressbar',
        'aria-label': `${track.title} progress`,
        'aria-valuemin': 0,
        'aria-valuemax': total,
        'aria-valuenow': done,
      },
      h('span', { class: 'progress-fill', style: `width: ${percent}%` }),
    ),
    h('span', { class: 'track-action', 'aria-hidden': 'true' }, action, icon('chevronRight', 'icon icon-sm')),
  );
}

function problemsPanel(list: TrackList): HTMLElement {
  const count = list.problems.length;
  return h(
    'details',
    { class: 'problems', 'data-testid': 'lesson-problems' },
    h(
      'summary',
      {},
      icon('warning', 'icon icon-sm'),
      `${count} lesson ${count === 1 ? 'problem' : 'problems'}: some lessons were not loaded`,
    ),
    h(
      'ul',
      {},
      ...list.problems.map((problem) =>
        h('li', {}, h('code', {}, `${problem.file}:${problem.line}`), h('span', {}, problem.message)),
      ),
    ),
  );
}
