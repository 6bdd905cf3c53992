/**
 * The simulated kubelet's pod lifecycle as data, in the spirit of kwok's Stage resources: each
 * stage has a selector over a container's (or pod's) fields, a delay, and what comes next (the
 * container's state, an Event worded as the real kubelet words it). The kubelet (kubelet.ts)
 * owns the effects (sandbox, the container manager, logs, status writes) and asks this table
 * which stage applies, how long it takes and what it reports.
 */
import type { KubeletTimings } from '../controllers/kit.js';

/** Where a container is in its life, as the kubelet tracks it. */
export type ContainerState = 'waiting' | 'pulling' | 'pull-failed' | 'pull-back-off' | 'pulled' | 'created' | 'running' | 'exited' | 'stopping';

/** The fields a stage selects on: the pod, one container of it, and what the kubelet derived from the timings. */
export interface StageView {
  pod: {
    name: string;
    namespace: string;
    uid: string;
    /** `name_namespace(uid)`, as the kubelet names a pod in its messages. */
    id: string;
    deleting: boolean;
    /** metadata.deletionGracePeriodSeconds in ms (30 s when unset). */
    graceMs: number;
  };
  container: {
    name: string;
    image: string;
    state: ContainerState;
    /** imagePullPolicy Always, or IfNotPresent and the node does not have the image yet. */
    needsPull: boolean;
    /** imagePullPolicy Never and the node does not have the image. */
    neverPullMissing?: boolean;
    /** The reference does not parse: distribution/reference's error (InvalidImageName). */
    invalidImage?: string;
    /** The registry refuses the image: containerd's error, as the kubelet prints it (ErrImagePull). */
    pullError?: string;
    /** The reason the container is waiting with right now (ErrImagePull, ImagePullBackOff…). */
    waitingReason?: string;
    /** Image pull back-off before the next attempt (10 s doubling to 5 min, in the cluster's timings). */
    pullBackoffMs: number;
    /** Compressed size for the Pulled event. */
    imageSize: number;
    ready: boolean;
    /** Present when the container has a readinessProbe. */
    readinessProbe?: { initialDelaySeconds: number };
    /** What the readiness probe adds to `ready`: initialDelaySeconds (scaled) and the image's own warm-up. */
    readinessExtraMs: number;
    restartCount: number;
    /** Crash-loop back-off before the next restart (doubles per restart, capped at 30× the first). */
    backoffMs: number;
    /** The same back-off as a real kubelet would show it (10 s → 5 min), for its messages. */
    shownBackoff: string;
  };
}

export interface StageRequirement {
  /** A path into the view, e.g. `.container.state`. */
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: readonly (string | number | boolean)[];
}

export interface StageDelay {
  /** The base delay: one of the cluster's timings. None: at once. */
  timing?: keyof KubeletTimings;
  /** Milliseconds from a view field, added to the base (or the whole delay without one). */
  plusField?: string;
  /** The delay never exceeds this view field (the pod's grace period). */
  capField?: string;
  /** Adds a random share of `timings.jitter` to a non-zero delay (kwok's jitterDurationMilliseconds is an upper bound instead: one number per cluster reads better here). */
  jitter?: boolean;
}

export interface StageEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  /** `{{.path}}` is a view field, `{{delay}}` the stage's delay as Go prints a Duration. */
  message: string;
}

export interface Stage {
  name: string;
  selector: { matchExpressions: readonly StageRequirement[] };
  delay: StageDelay;
  next: {
    /** More Events, recorded after `event` in this order (a failed pull records two). */
    events?: readonly StageEvent[];
    /** The container's state once the stage is done (unchanged when absent). */
    state?: ContainerState;
    ready?: boolean;
    /** The waiting reason and message the status shows meanwhile. */
    waiting?: { reason: string; message?: string };
    event?: StageEvent;
    /** The pod object goes away (its graceful deletion is over). */
    delete?: boolean;
  };
}

const state = (...values: ContainerState[]): StageRequirement => ({ key: '.container.state', operator: 'In', values });

/** What the simulated kubelet does today, in order of precedence. */
export const POD_STAGES: readonly Stage[] = [
  {
    name: 'terminate',
    selector: { matchExpressions: [{ key: '.pod.deleting', operator: 'In', values: [true] }, state('stopping')] },
    delay: { timing: 'terminate', capField: '.pod.graceMs' },
    next: { state: 'exited', delete: true },
  },
  {
    name: 'kill',
    selector: { matchExpressions: [{ key: '.pod.deleting', operator: 'In', values: [true] }, state('running')] },
    delay: {},
    next: { state: 'stopping', ready: false, event: { type: 'Normal', reason: 'Killing', message: 'Stopping container {{.container.name}}' } },
  },
  {
    name: 'invalid-image-name',
    selector: { matchExpressions: [state('waiting'), { key: '.container.invalidImage', operator: 'Exists' }] },
    delay: {},
    next: {
      state: 'pull-failed',
      waiting: { reason: 'InvalidImageName', message: 'Failed to apply default image tag "{{.container.image}}": {{.container.invalidImage}}' },
      event: { type: 'Warning', reason: 'InspectFailed', message: 'Failed to apply default image tag "{{.container.image}}": {{.container.invalidImage}}' },
      events: [{ type: 'Warning', reason: 'Failed', message: 'Error: InvalidImageName' }],
    },
  },
  {
    name: 'never-pull',
    selector: { matchExpressions: [state('waiting'), { key: '.container.neverPullMissing', operator: 'In', values: [true] }] },
    delay: {},
    next: {
      state: 'pull-failed',
      waiting: { reason: 'ErrImageNeverPull', message: 'Container image "{{.container.image}}" is not present with pull policy of Never' },
      event: { type: 'Warning', reason: 'ErrImageNeverPull', message: 'Container image "{{.container.image}}" is not present with pull policy of Never' },
      events: [{ type: 'Warning', reason: 'Failed', message: 'Error: ErrImageNeverPull' }],
    },
  },
  {
    name: 'pull-image',
    selector: { matchExpressions: [state('waiting'), { key: '.container.needsPull', operator: 'In', values: [true] }] },
    delay: {},
    next: { state: 'pulling', event: { type: 'Normal', reason: 'Pulling', message: 'Pulling image "{{.container.image}}"' } },
  },
  {
    name: 'image-pull-failed',
    selector: { matchExpressions: [state('pulling'), { key: '.container.pullError', operator: 'Exists' }] },
    delay: { timing: 'pull', jitter: true },
    next: {
      state: 'pull-failed',
      waiting: { reason: 'ErrImagePull', message: '{{.container.pullError}}' },
      event: { type: 'Warning', reason: 'Failed', message: 'Failed to pull image "{{.container.image}}": {{.container.pullError}}' },
      events: [{ type: 'Warning', reason: 'Failed', message: 'Error: ErrImagePull' }],
    },
  },
  {
    // The next pod sync finds the image in back-off.
    name: 'image-pull-back-off',
    selector: { matchExpressions: [state('pull-failed'), { key: '.container.waitingReason', operator: 'In', values: ['ErrImagePull'] }] },
    delay: { timing: 'pull' },
    next: {
      state: 'pull-back-off',
      waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "{{.container.image}}": ErrImagePull: {{.container.pullError}}' },
      event: { type: 'Normal', reason: 'BackOff', message: 'Back-off pulling image "{{.container.image}}"' },
      events: [{ type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff' }],
    },
  },
  {
    name: 'image-pull-retry',
    selector: { matchExpressions: [state('pull-back-off')] },
    delay: { plusField: '.container.pullBackoffMs' },
    next: { state: 'waiting' },
  },
  {
    // InvalidImageName and ErrImageNeverPull have no image back-off: the pod worker retries the sync, backing off as well.
    name: 'image-retry',
    selector: { matchExpressions: [state('pull-failed'), { key: '.container.waitingReason', operator: 'NotIn', values: ['ErrImagePull'] }] },
    delay: { plusField: '.container.pullBackoffMs' },
    next: { state: 'waiting' },
  },
  {
    name: 'image-pulled',
    selector: { matchExpressions: [state('pulling'), { key: '.container.pullError', operator: 'DoesNotExist' }] },
    delay: { timing: 'pull', jitter: true },
    next: {
      state: 'pulled',
      event: { type: 'Normal', reason: 'Pulled', message: 'Successfully pulled image "{{.container.image}}" in {{delay}} ({{delay}} including waiting). Image size: {{.container.imageSize}} bytes.' },
    },
  },
  {
    name: 'image-present',
    selector: { matchExpressions: [state('waiting'), { key: '.container.needsPull', operator: 'In', values: [false] }] },
    delay: {},
    next: { state: 'pulled', event: { type: 'Normal', reason: 'Pulled', message: 'Container image "{{.container.image}}" already present on machine' } },
  },
  {
    name: 'create',
    selector: { matchExpressions: [state('pulled')] },
    delay: {},
    next: { state: 'created', event: { type: 'Normal', reason: 'Created', message: 'Created container: {{.container.name}}' } },
  },
  {
    name: 'start',
    selector: { matchExpressions: [state('created')] },
    delay: { timing: 'start', jitter: true },
    next: { state: 'running', event: { type: 'Normal', reason: 'Started', message: 'Started container {{.container.name}}' } },
  },
  {
    name: 'ready',
    selector: { matchExpressions: [state('running'), { key: '.container.ready', operator: 'In', values: [false] }, { key: '.container.readinessProbe', operator: 'Exists' }] },
    delay: { timing: 'ready', plusField: '.container.readinessExtraMs', jitter: true },
    next: { ready: true },
  },
  {
    name: 'ready-without-probe',
    selector: { matchExpressions: [state('running'), { key: '.container.ready', operator: 'In', values: [false] }, { key: '.container.readinessProbe', operator: 'DoesNotExist' }] },
    delay: {},
    next: { ready: true },
  },
  {
    name: 'restart',
    selector: { matchExpressions: [state('exited'), { key: '.container.restartCount', operator: 'In', values: [0] }] },
    delay: {},
    next: { state: 'waiting' },
  },
  {
    name: 'back-off',
    selector: { matchExpressions: [state('exited'), { key: '.container.restartCount', operator: 'NotIn', values: [0] }] },
    delay: { plusField: '.container.backoffMs' },
    next: {
      state: 'waiting',
      waiting: { reason: 'CrashLoopBackOff', message: 'back-off {{.container.shownBackoff}} restarting failed container={{.container.name}} pod={{.pod.id}}' },
      event: { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container {{.container.name}} in pod {{.pod.id}}' },
    },
  },
];

function field(view: StageView, key: string): unknown {
  let cur: unknown = view;
  for (const part of key.replace(/^\./, '').split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function matches(view: StageView, r: StageRequirement): boolean {
  const v = field(view, r.key);
  switch (r.operator) {
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
    case 'In':
      return (r.values ?? []).includes(v as string);
    case 'NotIn':
      return !(r.values ?? []).includes(v as string);
  }
}

/** The first stage whose selector matches (kwok applies one stage at a time). */
export function selectStage(view: StageView, stages: readonly Stage[] = POD_STAGES): Stage | undefined {
  return stages.find((s) => s.selector.matchExpressions.every((r) => matches(view, r)));
}

/** The stage's delay in ms for this view and these timings; `random` draws the jitter. */
export function stageDelay(stage: Stage, view: StageView, timings: KubeletTimings, random: () => number = Math.random): number {
  const d = stage.delay;
  let ms = (d.timing ? timings[d.timing] : 0) + (d.plusField ? Number(field(view, d.plusField) ?? 0) : 0);
  if (d.capField) ms = Math.min(ms, Number(field(view, d.capField) ?? ms));
  if (d.jitter && ms > 0 && timings.jitter > 0) ms += Math.floor(random() * timings.jitter);
  return ms;
}

/** Fills `{{.path}}` and `{{delay}}` in a stage's message. */
export function render(template: string, view: StageView, delayMs: number): string {
  return template.replace(/\{\{(\.[a-zA-Z.]+|delay)\}\}/g, (_m, key: string) => (key === 'delay' ? goDuration(delayMs) : String(field(view, key) ?? '')));
}

/** Go's time.Duration String, as the kubelet's Pulled event and back-off messages print it. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${Number(ms.toFixed(6))}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sec = `${Number(s.toFixed(9))}s`;
  if (h) return `${h}h${m}m${sec}`;
  if (m) return `${m}m${sec}`;
  return sec;
}
