/**
 * The simulated kubelets of every node, driven by the stage table in stages.ts (kwok's idea:
 * which stage applies, how long it takes, what it reports): for each pod bound to
 * one of our nodes it creates the sandbox (pod IP from the node's podCIDR, the node IP for
 * hostNetwork pods), pulls images, runs init containers in order (restartable ones as native
 * sidecars), starts containers, simulates readiness probes, restarts crashed containers with
 * CrashLoopBackOff back-off, stops pods gracefully on deletion, and reports all of it as pod
 * status and Events worded as the real kubelet words them. Container behaviour comes from an
 * injectable ContainerManager; container logs are kept here, per container instance.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ClusterApi, ClusterEvents } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import { WorkQueue } from '../storage/workqueue.js';
import type { NodeLifecycle } from '../nodes/lifecycle.js';
import type { PlacedNode } from '../nodes/topology.js';
import { ContainerLog, ContainerStartError, type ContainerManager, type PodSandbox, type RunningContainer } from './container-manager.js';
import type { PullFailure } from '../images/registry.js';
import { probeKinds, probeSchedule, runProbe, type ProbeKind } from './prober.js';
import { nowISO, nsKey, splitKey, type KubeletTimings, type Obj, type Resources } from '../controllers/kit.js';
import { POD_STAGES, goDuration, render, selectStage, stageDelay, type ContainerState as Step, type Stage, type StageView } from './stages.js';

interface ContainerState {
  spec: Obj;
  name: string;
  init: boolean;
  sidecar: boolean;
  /** Added by `kubectl debug` (pods/ephemeralcontainers): never restarted, never ready, not part of the pod's phase. */
  ephemeral?: boolean;
  phase: 'waiting' | 'running' | 'terminated';
  waiting?: { reason: string; message?: string };
  startedAt?: string;
  terminated?: { exitCode: number; reason: string; message?: string; startedAt?: string; finishedAt: string; containerID?: string };
  last?: Obj;
  ready: boolean;
  started: boolean;
  restartCount: number;
  containerID?: string;
  log: ContainerLog;
  previous?: ContainerLog;
  abort?: AbortController;
  handle?: RunningContainer;
  /** Bumped on every (re)start so late callbacks of an older instance are ignored. */
  generation: number;
  /** Waiting to be (re)started or in the middle of pulling/creating. */
  starting: boolean;
  /** The registry's answer for this attempt's image (undefined: it pulls). */
  pull?: PullFailure;
  /** Failed pulls of `spec.image` in a row: the image back-off doubles with each (keyed by pod and image, as the kubelet's). */
  pullFailures: number;
  /** The instance the prober killed (liveness, startup): its own exit is not reported again. */
  probeKilled?: number;
}

interface PodState {
  key: string;
  uid: string;
  node: PlacedNode;
  sandbox: PodSandbox;
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  startTime: string;
  containers: ContainerState[];
  initDone: boolean;
  stopping: boolean;
  finished: boolean;
  timers: Set<NodeJS.Timeout>;
  conditionTimes: Map<string, { status: string; time: string }>;
}

export interface LogQuery {
  previous?: boolean;
}

const fieldPath = (c: ContainerState) => `spec.${c.ephemeral ? 'ephemeralContainers' : c.init ? 'initContainers' : 'containers'}{${c.name}}`;

/** docker.io/library/nginx:latest from nginx, as containerd reports the image. */
export function normalizeImage(image: string): string {
  let ref = image;
  const first = ref.split('/')[0]!;
  const hasDomain = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasDomain) ref = ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
  const lastSlash = ref.lastIndexOf('/');
  if (!ref.includes('@') && ref.lastIndexOf(':') < lastSlash) ref += ':latest';
  return ref;
}

function imageDigest(image: string): string {
  return createHash('sha256').update(normalizeImage(image)).digest('hex');
}

export function imageID(image: string): string {
  const n = normalizeImage(image);
  const repo = n.includes('@') ? n.split('@')[0]! : n.slice(0, n.lastIndexOf(':'));
  return `${repo}@sha256:${imageDigest(image)}`;
}

/**
 * The statuses of a pod whose every container runs (init containers: ran to completion or, as
 * sidecars, run), keyed `init/<name>` or `app/<name>`; undefined when any is in another state.
 */
function runningStatuses(pod: Obj): Map<string, Obj> | undefined {
  if (pod.status?.phase !== 'Running') return undefined;
  const out = new Map<string, Obj>();
  for (const [kind, specs, statuses] of [
    ['init', pod.spec?.initContainers ?? [], pod.status?.initContainerStatuses ?? []],
    ['app', pod.spec?.containers ?? [], pod.status?.containerStatuses ?? []],
  ] as const) {
    for (const spec of specs as Obj[]) {
      const cs = (statuses as Obj[]).find((x) => x.name === spec.name);
      const sidecar = kind === 'init' && spec.restartPolicy === 'Always';
      const ok = cs && (kind === 'init' && !sidecar ? cs.state?.terminated?.exitCode === 0 : !!cs.state?.running);
      if (!ok) return undefined;
      out.set(`${kind}/${spec.name}`, cs);
    }
  }
  return out;
}

export class Kubelet {
  private readonly pods = new Map<string, PodState>();
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;
  private readonly images = new Map<string, Set<string>>();
  private readonly ipsInUse = new Map<string, Set<string>>();
  private stopped = false;

  constructor(
    private readonly cluster: ClusterApi,
    private readonly res: Resources,
    private readonly events: ClusterEvents,
    private readonly nodes: NodeLifecycle,
    private readonly timings: KubeletTimings,
    private readonly containers: ContainerManager,
    private readonly stages: readonly Stage[] = POD_STAGES,
  ) {
    this.queue = new WorkQueue((key) => (key.startsWith('status|') ? this.writeStatus(key.slice(7)) : this.reconcile(key)));
    this.unsubscribe = cluster.store.onAnyChange((e) => {
      if (e.bucket !== res.pods.bucket) return;
      const p = e.object as Obj;
      if (!p.spec?.nodeName || !nodes.byName(p.spec.nodeName)) return;
      this.queue.add(nsKey(p));
    });
  }

  /** A container's log for `kubectl logs` (the previous instance with `previous`); undefined if none. */
  logs(namespace: string, pod: string, container: string, q: LogQuery = {}) {
    const c = this.pods.get(`${namespace}/${pod}`)?.containers.find((x) => x.name === container);
    if (!c) return undefined;
    return q.previous ? c.previous : c.log;
  }

  /** The sandbox of a running pod (for the network and exec). */
  sandbox(namespace: string, pod: string): PodSandbox | undefined {
    return this.pods.get(`${namespace}/${pod}`)?.sandbox;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Re-reads every pod (after a snapshot restore): forgets pods that are gone, runs new ones. */
  resync(): void {
    for (const key of this.pods.keys()) this.queue.add(key);
    this.cluster.store.scan((bucket, o) => {
      const node = (o as Obj).spec?.nodeName;
      if (bucket === this.res.pods.bucket && node && this.nodes.byName(node)) this.queue.add(nsKey(o));
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    this.queue.stop();
    for (const s of this.pods.values()) this.teardown(s, false);
    this.pods.clear();
  }

  private later(s: PodState, ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      s.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    t.unref?.();
    s.timers.add(t);
  }

  private sync(s: PodState): void {
    this.queue.add(`status|${s.key}`);
  }

  private podObject(key: string): Obj | undefined {
    const [ns, name] = splitKey(key);
    return this.cluster.store.get(this.res.pods.bucket, ns, name) as Obj | undefined;
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  private async reconcile(key: string): Promise<void> {
    const pod = this.podObject(key);
    let s = this.pods.get(key);
    if (s && (!pod || pod.metadata.uid !== s.uid)) {
      this.teardown(s, true);
      this.pods.delete(key);
      s = undefined;
    }
    if (!pod) return;
    const node = this.nodes.byName(pod.spec?.nodeName);
    if (!node) return;
    if (!s) {
      if (pod.metadata.deletionTimestamp) return this.removePod(pod);
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
      const running = runningStatuses(pod);
      s = this.admit(pod, node, running ? pod : undefined);
      this.pods.set(key, s);
      if (running) return this.resume(s, running);
      this.sync(s);
      this.later(s, 0, () => this.runNext(s!));
      return;
    }
    if (pod.metadata.deletionTimestamp && !s.stopping) this.terminate(s, pod);
    else if (!s.stopping && !s.finished) {
      this.imagesChanged(s, pod);
      this.startEphemeral(s, pod);
    }
  }

  /**
   * `kubectl set image` on a pod: a container whose image changed is killed and started again
   * with the new one (its spec hash changed); one stuck pulling starts over without back-off,
   * as the back-off is keyed by the image.
   */
  private imagesChanged(s: PodState, pod: Obj): void {
    const specs = new Map<string, Obj>([...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])].map((x: Obj) => [x.name, x]));
    for (const c of s.containers) {
      const spec = specs.get(c.name);
      if (!spec || spec.image === c.spec.image) continue;
      c.spec = spec;
      c.pullFailures = 0;
      s.sandbox.pod = structuredClone(pod) as KubeObject;
      if (c.generation === 0 || (c.init && !c.sidecar && c.phase === 'terminated')) continue; // not started yet, or done
      if (c.phase === 'running') {
        this.events.normal(this.podObj(s), 'Killing', `Container ${c.name} definition changed, will be restarted`, { component: 'kubelet', host: s.node.name }, fieldPath(c));
        this.kill(c, 0);
      }
      if (c.phase === 'terminated' || !c.log.running()) {
        // An instance ran (now killed, or crashed and waiting out its back-off): the new one is a restart.
        if (c.terminated) c.last = { terminated: c.terminated };
        c.previous?.close();
        c.previous = c.log;
        c.log = new ContainerLog();
        c.restartCount += 1;
        c.terminated = undefined;
        c.phase = 'waiting';
      }
      c.generation++;
      c.starting = false;
      this.startContainer(s, c);
      this.sync(s);
    }
  }

  /** Ephemeral containers added to a running pod start as soon as the kubelet sees them. */
  private startEphemeral(s: PodState, pod: Obj): void {
    for (const spec of (pod.spec.ephemeralContainers ?? []) as Obj[]) {
      if (!spec?.name || s.containers.some((c) => c.name === spec.name)) continue;
      s.sandbox.pod = structuredClone(pod) as KubeObject;
      const c: ContainerState = {
        spec,
        name: spec.name,
        init: false,
        sidecar: false,
        ephemeral: true,
        phase: 'waiting',
        waiting: { reason: 'ContainerCreating' },
        ready: false,
        started: false,
        restartCount: 0,
        pullFailures: 0,
        log: new ContainerLog(),
        generation: 0,
        starting: false,
      };
      s.containers.push(c);
      this.startContainer(s, c);
      this.sync(s);
    }
  }

  private allocateIP(node: PlacedNode, wanted?: string): string {
    const used = this.ipsInUse.get(node.name) ?? new Set<string>();
    this.ipsInUse.set(node.name, used);
    const prefix = node.podCIDR.replace(/\.0\/24$/, '');
    // A resumed pod keeps its address (Endpoints and Istio's config name it) while it is free.
    if (wanted && wanted.startsWith(`${prefix}.`) && !used.has(wanted)) {
      used.add(wanted);
      return wanted;
    }
    for (let i = 2; i < 255; i++) {
      const ip = `${prefix}.${i}`;
      if (!used.has(ip)) {
        used.add(ip);
        return ip;
      }
    }
    throw new Error(`pod CIDR ${node.podCIDR} of ${node.name} is exhausted`);
  }

  /**
   * A pod bound here that this kubelet does not know but whose status says its containers run (a
   * restored cluster state): its containers are found running, as a restarted kubelet finds
   * them, and keep their IP, start times, restart counts and readiness, with no pull or start
   * stages and no new Events.
   */
  private resume(s: PodState, statuses: Map<string, Obj>): void {
    s.initDone = true;
    for (const c of s.containers) {
      const cs = statuses.get(`${c.init ? 'init' : 'app'}/${c.name}`)!;
      this.nodeImages(s.node.name).add(normalizeImage(c.spec.image));
      c.restartCount = cs.restartCount ?? 0;
      if (cs.lastState && Object.keys(cs.lastState).length) c.last = cs.lastState;
      if (cs.state?.terminated) {
        c.phase = 'terminated';
        c.waiting = undefined;
        c.terminated = { ...cs.state.terminated };
        c.containerID = cs.containerID;
        c.ready = !!cs.ready;
        continue;
      }
      c.starting = true;
      void this.launch(s, c, ++c.generation, cs);
    }
    this.sync(s);
  }

  private admit(pod: Obj, node: PlacedNode, resumed?: Obj): PodState {
    const hostNetwork = !!pod.spec.hostNetwork;
    const sandbox: PodSandbox = {
      pod: structuredClone(pod) as KubeObject,
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
      nodeName: node.name,
      hostIP: node.ip,
      podIP: hostNetwork ? node.ip : this.allocateIP(node, resumed?.status?.podIP),
      hostNetwork,
    };
    const mk = (spec: Obj, init: boolean): ContainerState => ({
      spec,
      name: spec.name,
      init,
      sidecar: init && spec.restartPolicy === 'Always',
      phase: 'waiting',
      waiting: { reason: init || (pod.spec.initContainers ?? []).length === 0 ? 'ContainerCreating' : 'PodInitializing' },
      ready: false,
      started: false,
      restartCount: 0,
      log: new ContainerLog(),
      generation: 0,
      starting: false,
      pullFailures: 0,
    });
    const containers = [...(pod.spec.initContainers ?? []).map((c: Obj) => mk(c, true)), ...(pod.spec.containers ?? []).map((c: Obj) => mk(c, false))];
    // Init containers not yet running show PodInitializing except the one being created.
    for (const c of containers) if (c.init) c.waiting = { reason: 'PodInitializing' };
    const s: PodState = {
      key: nsKey(pod),
      uid: pod.metadata.uid,
      node,
      sandbox,
      restartPolicy: pod.spec.restartPolicy ?? 'Always',
      startTime: resumed?.status?.startTime ?? nowISO(),
      containers,
      initDone: !containers.some((c) => c.init),
      stopping: false,
      finished: false,
      timers: new Set(),
      conditionTimes: new Map((resumed?.status?.conditions ?? []).map((c: Obj) => [c.type, { status: c.status, time: c.lastTransitionTime }])),
    };
    try {
      this.containers.sandboxCreated?.(sandbox);
    } catch (e) {
      console.error('sim kubelet: container manager sandboxCreated failed:', (e as Error).message);
    }
    return s;
  }

  /** Starts whatever comes next: the next init container, or (once initialised) every app container. */
  private runNext(s: PodState): void {
    if (s.stopping || s.finished) return;
    for (const c of s.containers) {
      if (!c.init) break;
      if (c.sidecar) {
        if (c.phase === 'waiting' && !c.starting && c.restartCount === 0) return this.startContainer(s, c);
        if (!c.started) return;
        continue;
      }
      if (c.phase === 'terminated' && c.terminated?.exitCode === 0) continue;
      if (c.phase === 'waiting' && !c.starting && c.restartCount === 0) this.startContainer(s, c);
      return;
    }
    if (!s.initDone) {
      s.initDone = true;
      for (const c of s.containers) if (!c.init) c.waiting = { reason: 'ContainerCreating' };
    }
    for (const c of s.containers) if (!c.init && c.phase === 'waiting' && !c.starting && c.restartCount === 0) this.startContainer(s, c);
    this.sync(s);
  }

  private nodeImages(node: string): Set<string> {
    let set = this.images.get(node);
    if (!set) this.images.set(node, (set = new Set()));
    return set;
  }

  private podObj(s: PodState): KubeObject {
    return { ...(s.sandbox.pod as KubeObject), apiVersion: 'v1', kind: 'Pod' };
  }

  // ---- stages --------------------------------------------------------------------------------

  /** What the stage table sees of one container at one step of its life. */
  private view(s: PodState, c: ContainerState, step: Step, pod?: Obj): StageView {
    const image: string = c.spec.image;
    const policy = c.spec.imagePullPolicy ?? 'IfNotPresent';
    const present = this.nodeImages(s.node.name).has(normalizeImage(image));
    const fails = c.pullFailures;
    const probe = c.spec.readinessProbe;
    const restarts = c.restartCount;
    const { name, namespace, uid } = s.sandbox;
    const containers = this.containers;
    return {
      pod: { name, namespace, uid, id: `${name}_${namespace}(${uid})`, deleting: s.stopping, graceMs: (pod?.metadata.deletionGracePeriodSeconds ?? 30) * 1000 },
      container: {
        name: c.name,
        image,
        state: step,
        needsPull: policy === 'Always' || (policy !== 'Never' && !present),
        ...(policy === 'Never' && !present ? { neverPullMissing: true } : {}),
        ...(c.pull?.kind === 'invalid' ? { invalidImage: c.pull.message } : {}),
        ...(c.pull?.kind === 'pull' ? { pullError: c.pull.message } : {}),
        ...(c.waiting ? { waitingReason: c.waiting.reason } : {}),
        pullBackoffMs: fails === 0 ? 0 : Math.min(this.timings.backoff * 2 ** (fails - 1), this.timings.backoff * 30),
        // Read only by the Pulled event: computed then, not for every view.
        get imageSize() {
          return containers.imageSize?.(image) ?? 10_000_000 + (parseInt(imageDigest(image).slice(0, 8), 16) % 190_000_000);
        },
        ready: c.ready,
        ...(probe ? { readinessProbe: { initialDelaySeconds: probe.initialDelaySeconds ?? 0 } } : {}),
        // The first probe runs initialDelaySeconds after the start (at once without it) and passes once the
        // app has warmed up: readiness comes at the later of the two, not their sum; `ready` is the prober's first tick.
        readinessExtraMs: Math.max(0, Math.max((probe?.initialDelaySeconds ?? 0) * 1000 * this.timings.probeDelayScale, c.handle?.readyAfterMs ?? 0) - this.timings.ready),
        restartCount: restarts,
        backoffMs: restarts === 0 ? 0 : Math.min(this.timings.backoff * 2 ** (restarts - 1), this.timings.backoff * 30),
        shownBackoff: goDuration(Math.min(10_000 * 2 ** (restarts - 1), 300_000)),
      },
    };
  }

  /** The stage that applies to this view, and how long it takes. */
  private stage(view: StageView): { stage: Stage; delay: number } {
    const stage = selectStage(view, this.stages);
    if (!stage) throw new Error(`no pod lifecycle stage matches container ${view.container.name} in state ${view.container.state}`);
    return { stage, delay: stageDelay(stage, view, this.timings) };
  }

  /** Records the stage's Event, if it has one, against the pod and container. */
  private report(s: PodState, c: ContainerState, pod: KubeObject, view: StageView, stage: Stage, delay: number): void {
    const src = { component: 'kubelet', host: s.node.name };
    for (const e of [...(stage.next.event ? [stage.next.event] : []), ...(stage.next.events ?? [])]) {
      const message = render(e.message, view, delay);
      if (e.type === 'Warning') this.events.warning(pod, e.reason, message, src, fieldPath(c));
      else this.events.normal(pod, e.reason, message, src, fieldPath(c));
    }
  }

  /** Stages up to the container's start: pull (or find) the image, create the container, start it. */
  private startContainer(s: PodState, c: ContainerState): void {
    c.starting = true;
    if (c.init && !c.sidecar) c.waiting = { reason: 'PodInitializing' };
    const gen = ++c.generation;
    this.imageStep(s, c, gen, 'waiting');
  }

  /**
   * One stage of getting the image: the stage that applies to `state` takes its delay, then
   * records its Events, shows its waiting reason and moves on, until the image is there
   * ('pulled') or the stages loop through ErrImagePull and ImagePullBackOff.
   */
  private imageStep(s: PodState, c: ContainerState, gen: number, state: Step): void {
    if (s.stopping || gen !== c.generation) return;
    if (state === 'pulled') return this.created(s, c, gen);
    // Each attempt asks the registry afresh (the learner may have fixed the image meanwhile).
    if (state === 'waiting') c.pull = this.containers.pull?.(c.spec.image);
    const v = this.view(s, c, state);
    const { stage, delay } = this.stage(v);
    const next = stage.next.state ?? state;
    const apply = () => {
      if (s.stopping || gen !== c.generation) return;
      if (state === 'pulling' && next === 'pulled') {
        this.nodeImages(s.node.name).add(normalizeImage(c.spec.image));
        c.pullFailures = 0;
      }
      // The view at the end of the delay: the failure count the back-off message and delay see.
      if (next === 'pull-failed') c.pullFailures += 1;
      const done = this.view(s, c, state);
      this.report(s, c, this.podObj(s), done, stage, delay);
      const waiting = stage.next.waiting;
      if (waiting) {
        c.waiting = { reason: waiting.reason, ...(waiting.message ? { message: render(waiting.message, done, delay) } : {}) };
        this.sync(s);
      }
      this.imageStep(s, c, gen, next);
    };
    if (delay === 0) apply();
    else this.later(s, delay, apply);
  }

  /** The image is there: create the container, then start it after the start stage's delay. */
  private created(s: PodState, c: ContainerState, gen: number): void {
    const pod = this.podObj(s);
    const v = this.view(s, c, 'pulled');
    const create = this.stage(v);
    this.report(s, c, pod, v, create.stage, create.delay);
    const cv = this.view(s, c, 'created');
    this.later(s, this.stage(cv).delay, () => void this.launch(s, c, gen));
  }

  /** Runs the container; `resumed` (its status in a restored state) keeps its identity and readiness and reports no Started event. */
  private async launch(s: PodState, c: ContainerState, gen: number, resumed?: Obj): Promise<void> {
    if (s.stopping || gen !== c.generation) return;
    const pod = this.podObj(s);
    const src = { component: 'kubelet', host: s.node.name };
    c.abort = new AbortController();
    c.containerID = resumed?.containerID ?? `containerd://${randomBytes(32).toString('hex')}`;
    const log = c.log;
    let handle: RunningContainer;
    try {
      handle = await this.containers.start({
        sandbox: s.sandbox,
        container: c.spec,
        init: c.init,
        sidecar: c.sidecar,
        restartPolicy: c.ephemeral ? 'Never' : s.restartPolicy,
        restartCount: c.restartCount,
        log: (line) => log.write(line),
        signal: c.abort.signal,
      });
    } catch (e) {
      if (s.stopping || gen !== c.generation) return;
      const err = e instanceof ContainerStartError ? e : new ContainerStartError((e as Error).message);
      this.events.warning(pod, 'Failed', `Error: ${err.message}`, src, fieldPath(c));
      c.starting = false;
      this.exited(s, c, gen, err.exitCode, err.reason, err.message);
      return;
    }
    if (s.stopping || gen !== c.generation) {
      c.abort.abort();
      handle.stop?.();
      return;
    }
    c.handle = handle;
    c.starting = false;
    c.phase = 'running';
    c.waiting = undefined;
    c.startedAt = resumed?.state?.running?.startedAt ?? nowISO();
    if (!resumed) {
      const sv = this.view(s, c, 'created');
      const started = this.stage(sv);
      this.report(s, c, pod, sv, started.stage, started.delay);
    }
    const probed = handle.probes && (!c.init || c.sidecar) && !c.ephemeral;
    if (resumed) {
      // A restored running container keeps its readiness; its probes carry on from there.
      c.ready = !!resumed.ready;
      c.started = true;
      if (probed) this.startProbes(s, c, gen, ['readiness', 'liveness']);
    } else {
      // With a startup probe the container is not `started` until it passes (and nothing else probes meanwhile).
      c.started = !(probed && c.spec.startupProbe);
      if (probed) this.startProbes(s, c, gen, c.started ? ['readiness', 'liveness'] : ['startup']);
    }
    if (!probed && (!c.init || c.sidecar) && !c.ready && !c.ephemeral) {
      const rv = this.view(s, c, 'running');
      const ready = this.stage(rv);
      // A stage without a timing (no readiness probe) applies at once, as the kubelet marks such a container ready on start.
      if (!ready.stage.delay.timing && !ready.stage.delay.plusField) c.ready = ready.stage.next.ready ?? c.ready;
      else
        this.later(s, ready.delay, () => {
          if (gen !== c.generation || c.phase !== 'running' || s.stopping) return;
          c.ready = ready.stage.next.ready ?? c.ready;
          this.sync(s);
        });
    }
    handle.exited?.then(
      (code) => c.probeKilled !== gen && this.exited(s, c, gen, code),
      (e) => c.probeKilled !== gen && this.exited(s, c, gen, 128, 'StartError', (e as Error)?.message),
    );
    this.sync(s);
    if (c.init) this.runNext(s);
  }

  // ---- probes --------------------------------------------------------------------------------

  /**
   * One prober worker per probe, as the kubelet runs them: a timer on the container's period,
   * never a loop, stopped by the container's next generation (restart, kill, deletion).
   * Readiness without a probe follows `started`.
   */
  private startProbes(s: PodState, c: ContainerState, gen: number, kinds: ProbeKind[]): void {
    for (const kind of kinds) {
      const spec = c.spec[`${kind}Probe`];
      if (!spec) {
        if (kind === 'readiness') c.ready = true;
        continue;
      }
      const sched = probeSchedule(spec, this.timings, c.handle?.readyAfterMs ?? 0);
      let successes = 0;
      let failures = 0;
      const tick = async () => {
        if (s.stopping || gen !== c.generation || c.phase !== 'running' || !c.handle?.probes) return;
        const result = await runProbe(spec, c.spec, s.sandbox, c.handle.probes);
        if (s.stopping || gen !== c.generation || c.phase !== 'running') return;
        const src = { component: 'kubelet', host: s.node.name };
        const pod = this.podObj(s);
        const label = probeKinds[kind];
        if (result.ok) {
          successes++;
          failures = 0;
        } else {
          failures++;
          successes = 0;
          this.events.warning(pod, 'Unhealthy', `${label} probe ${result.errored ? 'errored' : 'failed'}: ${result.output}`, src, fieldPath(c));
        }
        if (kind === 'readiness') {
          const ready = result.ok ? (successes >= sched.successThreshold ? true : c.ready) : failures >= sched.failureThreshold ? false : c.ready;
          if (ready !== c.ready) {
            c.ready = ready;
            this.sync(s);
          }
        } else if (kind === 'startup' && result.ok) {
          c.started = true;
          this.sync(s);
          this.startProbes(s, c, gen, ['readiness', 'liveness']);
          if (c.init) this.runNext(s);
          return;
        } else if (!result.ok && failures >= sched.failureThreshold) {
          this.events.normal(pod, 'Killing', `Container ${c.name} failed ${kind} probe, will be restarted`, src, fieldPath(c));
          return this.probeKill(s, c, gen);
        }
        this.later(s, sched.periodMs, () => void tick());
      };
      this.later(s, sched.firstMs, () => void tick());
    }
  }

  /** A failed liveness or startup probe: the kubelet kills the container; it restarts as any crashed one does. */
  private probeKill(s: PodState, c: ContainerState, gen: number): void {
    c.probeKilled = gen;
    c.abort?.abort();
    try {
      c.handle?.stop?.();
    } catch (e) {
      console.error('sim kubelet: container manager stop failed:', (e as Error).message);
    }
    this.exited(s, c, gen, 137, 'Error');
  }

  private willRestart(s: PodState, c: ContainerState, code: number): boolean {
    if (c.ephemeral) return false;
    if (c.sidecar) return true;
    if (s.restartPolicy === 'Always') return !c.init || code !== 0;
    if (s.restartPolicy === 'OnFailure') return code !== 0;
    return false;
  }

  private exited(s: PodState, c: ContainerState, gen: number, code: number, reason?: string, message?: string): void {
    if (s.stopping || gen !== c.generation || this.stopped) return;
    c.phase = 'terminated';
    c.ready = false;
    c.started = false;
    c.handle = undefined;
    c.terminated = {
      exitCode: code,
      reason: reason ?? (code === 0 ? 'Completed' : 'Error'),
      ...(message ? { message } : {}),
      ...(c.startedAt ? { startedAt: c.startedAt } : {}),
      finishedAt: nowISO(),
      ...(c.containerID ? { containerID: c.containerID } : {}),
    };
    c.log.close();
    if (c.init && !c.sidecar && code === 0) {
      c.ready = true;
      this.sync(s);
      this.runNext(s);
      return;
    }
    if (this.willRestart(s, c, code)) {
      const v = this.view(s, c, 'exited');
      const { stage, delay } = this.stage(v);
      const waiting = stage.next.waiting;
      if (delay > 0 && waiting) {
        c.waiting = { reason: waiting.reason, ...(waiting.message ? { message: render(waiting.message, v, delay) } : {}) };
        c.last = { terminated: c.terminated };
        c.phase = 'waiting';
        this.report(s, c, this.podObj(s), v, stage, delay);
      }
      this.sync(s);
      this.later(s, delay, () => this.restart(s, c, gen));
      return;
    }
    if (c.init && !c.sidecar) s.finished = true; // a failed init container with restartPolicy Never fails the pod
    if (s.containers.filter((x) => !x.init && !x.ephemeral).every((x) => x.phase === 'terminated' && !this.willRestart(s, x, x.terminated!.exitCode))) {
      s.finished = true;
      // The pod is done: its sidecars are stopped, as the kubelet does once main containers exit.
      for (const x of s.containers) if (x.sidecar && x.phase === 'running') this.kill(x, 0);
    }
    this.sync(s);
  }

  private restart(s: PodState, c: ContainerState, gen: number): void {
    if (s.stopping || gen !== c.generation) return;
    c.last = { terminated: c.terminated };
    c.previous = c.log;
    c.log = new ContainerLog();
    c.restartCount += 1;
    c.phase = 'waiting';
    c.terminated = undefined;
    this.startContainer(s, c);
  }

  private kill(c: ContainerState, exitCode: number): void {
    c.abort?.abort();
    try {
      c.handle?.stop?.();
    } catch (e) {
      console.error('sim kubelet: container manager stop failed:', (e as Error).message);
    }
    c.generation++;
    if (c.phase === 'running') {
      c.terminated = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: c.startedAt, finishedAt: nowISO(), containerID: c.containerID };
      c.phase = 'terminated';
    }
    c.ready = false;
    c.started = false;
    c.handle = undefined;
    c.log.close();
  }

  /** Graceful deletion: Killing events, containers stop, then the pod object goes away. */
  private terminate(s: PodState, pod: Obj): void {
    s.stopping = true;
    for (const t of s.timers) clearTimeout(t);
    s.timers.clear();
    for (const c of s.containers) {
      if (c.phase === 'running') {
        const v = this.view(s, c, 'running', pod);
        const kill = this.stage(v);
        this.report(s, c, pod as KubeObject, v, kill.stage, kill.delay);
      }
      c.ready = false;
    }
    this.sync(s);
    // The pod's graceful shutdown: one stage for the whole pod, seen through its first container.
    const grace = this.stage(this.view(s, s.containers[0]!, 'stopping', pod)).delay;
    const t = setTimeout(() => {
      for (const c of s.containers) this.kill(c, 0);
      void this.removePod(this.podObject(s.key)).catch((e) => console.error('sim kubelet: removing pod failed:', (e as Error).message));
    }, grace);
    t.unref?.();
    s.timers.add(t);
  }

  /** What the kubelet's final delete (grace period 0) does: the object leaves once finalizers allow. */
  private async removePod(pod: Obj | undefined): Promise<void> {
    if (!pod || this.stopped) return;
    if ((pod.metadata.finalizers ?? []).length) {
      // Grace period 0 recorded; the last finalizer's removal then deletes it.
      if (pod.metadata.deletionGracePeriodSeconds) this.cluster.store.update(this.res.pods.bucket, { ...pod, metadata: { ...pod.metadata, deletionGracePeriodSeconds: 0 } } as KubeObject);
      return;
    }
    this.cluster.store.delete(this.res.pods.bucket, pod.metadata.namespace, pod.metadata.name);
  }

  private teardown(s: PodState, notify: boolean): void {
    for (const t of s.timers) clearTimeout(t);
    s.timers.clear();
    for (const c of s.containers) {
      this.kill(c, 0);
      c.previous?.close();
    }
    if (!s.sandbox.hostNetwork) this.ipsInUse.get(s.node.name)?.delete(s.sandbox.podIP);
    if (notify) {
      try {
        this.containers.sandboxRemoved?.(s.sandbox);
      } catch (e) {
        console.error('sim kubelet: container manager sandboxRemoved failed:', (e as Error).message);
      }
    }
  }

  // ---- status --------------------------------------------------------------------------------

  private containerStatus(c: ContainerState): Obj {
    const st: Obj = {};
    if (c.phase === 'running') st.running = { startedAt: c.startedAt };
    else if (c.phase === 'terminated' && c.terminated) st.terminated = { ...c.terminated };
    else st.waiting = { ...(c.waiting ?? { reason: 'ContainerCreating' }) };
    const created = c.containerID !== undefined;
    const out: Obj = {
      ...(created ? { containerID: c.containerID } : {}),
      // Until the runtime has the container, the status shows the image as the spec names it.
      image: created ? normalizeImage(c.spec.image) : c.spec.image,
      imageID: created ? imageID(c.spec.image) : '',
      lastState: c.last ?? {},
      name: c.name,
      ready: c.ready,
      restartCount: c.restartCount,
      started: c.started,
      state: st,
    };
    if ((c.init && !c.sidecar) || c.ephemeral) delete out.started;
    return out;
  }

  private phase(s: PodState): string {
    const app = s.containers.filter((c) => !c.init && !c.ephemeral);
    if (s.finished) {
      const failedInit = s.containers.some((c) => c.init && !c.sidecar && c.phase === 'terminated' && c.terminated!.exitCode !== 0);
      if (failedInit) return 'Failed';
      return app.every((c) => c.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
    }
    if (!s.initDone) return 'Pending';
    if (app.some((c) => c.phase === 'running' || c.restartCount > 0 || c.phase === 'terminated')) return 'Running';
    return 'Pending';
  }

  private condition(s: PodState, type: string, status: boolean, now: string, reason?: string, message?: string): Obj {
    const st = status ? 'True' : 'False';
    const prev = s.conditionTimes.get(type);
    const time = prev && prev.status === st ? prev.time : now;
    s.conditionTimes.set(type, { status: st, time });
    return { type, status: st, lastProbeTime: null, lastTransitionTime: time, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
  }

  private computeStatus(s: PodState, pod: Obj): Obj {
    const now = nowISO();
    const phase = this.phase(s);
    const done = phase === 'Succeeded' || phase === 'Failed';
    const app = s.containers.filter((c) => !c.init && !c.ephemeral);
    const ephemeral = s.containers.filter((c) => c.ephemeral);
    const inits = s.containers.filter((c) => c.init);
    const unready = [...inits.filter((c) => c.sidecar), ...app].filter((c) => !c.ready).map((c) => c.name);
    const incomplete = inits.filter((c) => (c.sidecar ? !c.started && !s.initDone : !(c.phase === 'terminated' && c.terminated?.exitCode === 0))).map((c) => c.name);
    const sandboxReady = !s.stopping && !done;
    const conditions = [
      this.condition(s, 'PodReadyToStartContainers', sandboxReady, now),
      done
        ? this.condition(s, 'Initialized', true, now, 'PodCompleted')
        : this.condition(s, 'Initialized', s.initDone, now, s.initDone ? undefined : 'ContainersNotInitialized', s.initDone ? undefined : `containers with incomplete status: [${incomplete.join(' ')}]`),
      done ? this.condition(s, 'Ready', false, now, 'PodCompleted') : this.condition(s, 'Ready', unready.length === 0, now, unready.length ? 'ContainersNotReady' : undefined, unready.length ? `containers with unready status: [${unready.join(' ')}]` : undefined),
      done ? this.condition(s, 'ContainersReady', false, now, 'PodCompleted') : this.condition(s, 'ContainersReady', unready.length === 0, now, unready.length ? 'ContainersNotReady' : undefined, unready.length ? `containers with unready status: [${unready.join(' ')}]` : undefined),
    ];
    // Conditions others own (PodScheduled, DisruptionTarget, readiness gates) are kept, as the kubelet's status manager does.
    for (const c of pod.status?.conditions ?? []) if (!conditions.some((k) => k.type === c.type)) conditions.push(c);
    const status: Obj = {
      phase,
      conditions,
      hostIP: s.sandbox.hostIP,
      hostIPs: [{ ip: s.sandbox.hostIP }],
      podIP: s.sandbox.podIP,
      podIPs: [{ ip: s.sandbox.podIP }],
      startTime: s.startTime,
      ...(inits.length ? { initContainerStatuses: inits.map((c) => this.containerStatus(c)) } : {}),
      containerStatuses: app.map((c) => this.containerStatus(c)),
      ...(ephemeral.length ? { ephemeralContainerStatuses: ephemeral.map((c) => this.containerStatus(c)) } : {}),
      qosClass: pod.status?.qosClass,
    };
    if (!status.qosClass) delete status.qosClass;
    return status;
  }

  private async writeStatus(key: string): Promise<void> {
    const s = this.pods.get(key);
    if (!s || this.stopped) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      const pod = this.podObject(key);
      if (!pod || pod.metadata.uid !== s.uid) return;
      const status = this.computeStatus(s, pod);
      if (JSON.stringify(status) === JSON.stringify(pod.status)) return;
      const upd = { ...pod, status };
      const stored = this.cluster.store.update(this.res.pods.bucket, upd as unknown as KubeObject, pod.metadata.resourceVersion);
      if (stored === 'missing') return;
      if (stored !== 'conflict') {
        s.sandbox.pod = stored;
        return;
      }
    }
    this.sync(s);
  }
}
