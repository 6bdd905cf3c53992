/**
 * The CronJob controller (kube-controller-manager's cronjob_controllerv2): on the cluster's clock,
 * creates a Job named `<cronjob>-<scheduled minutes since the epoch>` at each unmet schedule time
 * (in spec.timeZone), honours suspend, startingDeadlineSeconds and concurrencyPolicy, keeps
 * status.active / lastScheduleTime / lastSuccessfulTime, trims finished Jobs to the history
 * limits, and records the events kube records (SuccessfulCreate, SawCompletedJob, SuccessfulDelete…).
 */
import type { ClusterApi, ClusterEvents } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import { ApiError } from '../errors.js';
import { isTimeZone, parseSchedule, ZERO_TIME, type CronSchedule } from '../time/cron.js';
import { Informer, InformerController, controllerKey, nowISO, nsKey, ownedBy, splitKey, writeStatus, type Obj, type Resources } from './kit.js';

const SOURCE = { component: 'cronjob-controller' };
/** The controller requeues this long after the next schedule time (nextScheduleTimeDuration). */
const NEXT_SCHEDULE_DELTA_MS = 100;
/** More unmet start times than this earns a TooManyMissedTimes warning. */
const MANY_MISSED = 100;

const finishedCondition = (j: Obj): string | undefined =>
  (j.status?.conditions ?? []).find((c: Obj) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type;

/** RFC1123Z as Go formats it: "Mon, 02 Jan 2006 15:04:05 -0700" (UTC here). */
function rfc1123z(d: Date): string {
  const s = d.toUTCString(); // "Sun, 06 Dec 2026 07:40:00 GMT"
  return s.replace(/GMT$/, '+0000');
}

/** RFC3339 of an instant on a time zone's wall clock, with its offset (Go's t.In(loc).Format(time.RFC3339)). */
export function rfc3339In(d: Date, timeZone: string): string {
  if (!timeZone || timeZone === 'UTC') return nowISO(d);
  const parts: Record<string, string> = {};
  const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  for (const p of f.formatToParts(d)) parts[p.type] = p.value;
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const offMin = Math.round((wall - Math.floor(d.getTime() / 1000) * 1000) / 60_000);
  const sign = offMin < 0 ? '-' : '+';
  const abs = Math.abs(offMin);
  const off = offMin === 0 ? 'Z' : `${sign}${String(Math.trunc(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off}`;
}

export class CronJobController extends InformerController {
  protected readonly informer: Informer;
  /** One wake-up per CronJob, on the cluster's clock, at its next schedule time. */
  private readonly wakeups = new Map<string, () => void>();

  constructor(
    private readonly cluster: ClusterApi,
    private readonly res: Resources,
    private readonly events: ClusterEvents,
  ) {
    super();
    this.informer = new Informer(cluster, [res.cronJobs.bucket, res.jobs.bucket], (e) => (e.bucket === res.cronJobs.bucket ? nsKey(e.object) : controllerKey(e.object, 'CronJob')), (key) => this.sync(key));
  }

  override stop(): void {
    for (const cancel of this.wakeups.values()) cancel();
    this.wakeups.clear();
    super.stop();
  }

  private wakeAt(key: string, ms: number | undefined): void {
    this.wakeups.get(key)?.();
    this.wakeups.delete(key);
    if (ms === undefined) return;
    this.wakeups.set(key, this.cluster.clock.after(ms, () => {
      this.wakeups.delete(key);
      this.informer.add(key);
    }));
  }

  private async sync(key: string): Promise<void> {
    const [ns, name] = splitKey(key);
    const stored = this.cluster.store.get(this.res.cronJobs.bucket, ns, name);
    if (!stored) return this.wakeAt(key, undefined);
    const cj = this.cluster.rest.present(this.res.cronJobs, stored) as Obj;
    const jobs = ownedBy(this.cluster, this.res.jobs.bucket, ns, cj.metadata.uid);
    const status: Obj = structuredClone(cj.status ?? {});
    const next = await this.reconcile(cj, status, jobs);
    await this.cleanupFinishedJobs(cj, status, jobs);
    if (!status.active?.length) delete status.active;
    await writeStatus(this.cluster, this.res.cronJobs, cj as KubeObject, status);
    this.wakeAt(key, next);
  }

  /** syncCronJob: returns how long until it should look again (undefined: only on a change). */
  private async reconcile(cj: Obj, status: Obj, jobs: Obj[]): Promise<number | undefined> {
    const now = this.cluster.clock.now();
    let active: Obj[] = status.active ?? [];
    const isActive = (uid: string) => active.some((r) => r.uid === uid);
    const drop = (uid: string) => {
      active = active.filter((r) => r.uid !== uid);
      status.active = active;
    };
    const children = new Set(jobs.map((j) => j.metadata.uid));
    for (const j of jobs) {
      const finished = finishedCondition(j);
      if (!finished && !isActive(j.metadata.uid)) {
        // A Job the controller did not create (kubectl create job --from=cronjob/…) or forgot.
        this.events.warning(cj as KubeObject, 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`, SOURCE);
      } else if (finished) {
        if (isActive(j.metadata.uid)) {
          drop(j.metadata.uid);
          this.events.normal(cj as KubeObject, 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${finished}`, SOURCE);
        }
        const done = j.status?.completionTime;
        if (finished === 'Complete' && done && (!status.lastSuccessfulTime || Date.parse(done) > Date.parse(status.lastSuccessfulTime))) status.lastSuccessfulTime = done;
      }
    }
    for (const ref of [...active]) {
      if (children.has(ref.uid)) continue;
      if (!this.cluster.store.has(this.res.jobs.bucket, ref.namespace ?? cj.metadata.namespace, ref.name)) {
        this.events.normal(cj as KubeObject, 'MissingJob', `Active job went missing: ${ref.name}`, SOURCE);
        drop(ref.uid);
      }
    }
    if (cj.metadata.deletionTimestamp) return undefined;
    const spec = cj.spec ?? {};
    const timeZone: string = spec.timeZone ?? '';
    if (spec.timeZone != null && !isTimeZone(timeZone)) {
      this.events.warning(cj as KubeObject, 'UnknownTimeZone', `invalid timeZone: "${timeZone}": unknown time zone ${timeZone}`, SOURCE);
      return undefined;
    }
    if (spec.suspend) return undefined;
    let sched: CronSchedule;
    try {
      sched = parseSchedule(spec.schedule ?? '', timeZone);
    } catch (e) {
      this.events.warning(cj as KubeObject, 'UnparseableSchedule', `unparseable schedule: "${spec.schedule}" : ${(e as Error).message}`, SOURCE);
      return undefined;
    }
    const untilNext = () => {
      const t = sched.next(now).getTime();
      return t === ZERO_TIME ? undefined : t - now.getTime() + NEXT_SCHEDULE_DELTA_MS;
    };
    const scheduled = this.mostRecentScheduleTime(cj, now, sched);
    if (!scheduled) return untilNext();
    const sds: number | undefined = spec.startingDeadlineSeconds;
    if (sds != null && scheduled.getTime() + sds * 1000 < now.getTime()) {
      this.events.warning(cj as KubeObject, 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`, SOURCE);
      return untilNext();
    }
    const jobName = `${cj.metadata.name}-${Math.floor(scheduled.getTime() / 60_000)}`;
    if (active.some((r) => r.name === jobName) || (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === scheduled.getTime())) return untilNext();
    if (spec.concurrencyPolicy === 'Forbid' && active.length > 0) {
      this.events.normal(cj as KubeObject, 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid', SOURCE);
      return untilNext();
    }
    if (spec.concurrencyPolicy === 'Replace') {
      for (const ref of [...active]) {
        if (await this.deleteJob(cj, ref.namespace ?? cj.metadata.namespace, ref.name)) drop(ref.uid);
      }
    }
    const tpl = spec.jobTemplate ?? {};
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: jobName,
        namespace: cj.metadata.namespace,
        labels: { ...(tpl.metadata?.labels ?? {}) },
        annotations: { ...(tpl.metadata?.annotations ?? {}), 'batch.kubernetes.io/cronjob-scheduled-timestamp': rfc3339In(scheduled, timeZone) },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name, uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: structuredClone(tpl.spec ?? {}),
    };
    if (!Object.keys(job.metadata.labels).length) delete (job.metadata as Obj).labels;
    let created: Obj;
    try {
      created = (await this.cluster.rest.create(this.res.jobs, cj.metadata.namespace, job as KubeObject, { fieldManager: 'kube-controller-manager' })) as Obj;
      this.events.normal(cj as KubeObject, 'SuccessfulCreate', `Created job ${created.metadata.name}`, SOURCE);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.code === 409) {
        // Created before, but the status update was lost: adopt it if it is ours.
        const existing = this.cluster.store.get(this.res.jobs.bucket, cj.metadata.namespace, jobName) as Obj | undefined;
        if (!existing || !existing.metadata.ownerReferences?.some((r: Obj) => r.controller && r.uid === cj.metadata.uid) || isActive(existing.metadata.uid)) return undefined;
        created = existing;
      } else {
        // A terminating namespace refuses every create; anything else is worth telling.
        if (e.code !== 403) this.events.warning(cj as KubeObject, 'FailedCreate', `Error creating job: ${e.message}`, SOURCE);
        return undefined;
      }
    }
    active = [...active, { kind: 'Job', namespace: created.metadata.namespace, name: created.metadata.name, uid: created.metadata.uid, apiVersion: 'batch/v1', resourceVersion: created.metadata.resourceVersion }];
    status.active = active;
    status.lastScheduleTime = nowISO(scheduled);
    return untilNext();
  }

  /** The latest unmet schedule time at or before now (nil when none), warning when too many were missed. */
  private mostRecentScheduleTime(cj: Obj, now: Date, sched: CronSchedule): Date | undefined {
    let earliest = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp);
    const sds = cj.spec?.startingDeadlineSeconds;
    if (sds != null) earliest = Math.max(earliest, now.getTime() - sds * 1000);
    let t = sched.next(new Date(earliest));
    if (t.getTime() === ZERO_TIME || t > now) return undefined;
    let missed = 1;
    // Walk forward; past a few thousand steps, assume a constant interval as kube does.
    for (;;) {
      const n = sched.next(t);
      if (n.getTime() === ZERO_TIME || n > now) break;
      missed++;
      if (missed > 5000) {
        const step = n.getTime() - t.getTime();
        const more = Math.floor((now.getTime() - n.getTime()) / step);
        t = new Date(n.getTime() + more * step);
        missed += more;
        break;
      }
      t = n;
    }
    if (missed > MANY_MISSED) this.events.warning(cj as KubeObject, 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew', SOURCE);
    return t;
  }

  /** Deletes a Job (background propagation) with kube's SuccessfulDelete / FailedDelete events. */
  private async deleteJob(cj: Obj, namespace: string, name: string): Promise<boolean> {
    try {
      await this.cluster.rest.delete(this.res.jobs, namespace, name, { propagationPolicy: 'Background' });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      this.events.warning(cj as KubeObject, 'FailedDelete', `Deleted job: ${e.message}`, SOURCE);
      return false;
    }
    this.events.normal(cj as KubeObject, 'SuccessfulDelete', `Deleted job ${name}`, SOURCE);
    return true;
  }

  /** cleanupFinishedJobs: the oldest finished Jobs (by start time, then name) beyond each history limit go. */
  private async cleanupFinishedJobs(cj: Obj, status: Obj, jobs: Obj[]): Promise<void> {
    const spec = cj.spec ?? {};
    const byStart = (a: Obj, b: Obj) => {
      const sa = a.status?.startTime;
      const sb = b.status?.startTime;
      if (!sb) return sa ? -1 : 0;
      if (!sa) return 1;
      return Date.parse(sa) - Date.parse(sb) || (a.metadata.name < b.metadata.name ? -1 : 1);
    };
    const trim = async (list: Obj[], limit: number | undefined) => {
      if (limit == null) return;
      const victims = [...list].sort(byStart).slice(0, Math.max(0, list.length - limit));
      for (const j of victims) {
        // A failure is an event; the next sync tries again.
        if (await this.deleteJob(cj, j.metadata.namespace, j.metadata.name)) status.active = (status.active ?? []).filter((r: Obj) => r.uid !== j.metadata.uid);
      }
    };
    const live = jobs.filter((j) => !j.metadata.deletionTimestamp);
    await trim(live.filter((j) => finishedCondition(j) === 'Complete'), spec.successfulJobsHistoryLimit);
    await trim(live.filter((j) => finishedCondition(j) === 'Failed'), spec.failedJobsHistoryLimit);
  }
}
