/**
 * The Job controller, for the common cases (NonIndexed): runs up to `parallelism` pods until
 * `completions` have succeeded, replaces failed pods until `backoffLimit` is exceeded, and reports
 * the conditions kubectl shows (SuccessCriteriaMet + Complete, or FailureTarget + Failed).
 */
import type { ClusterApi, ClusterEvents } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import { isPodReady, nowISO, splitKey, writeStatus, type Obj, type Resources } from './kit.js';
import { WorkloadController } from './workload.js';
import { podFromTemplate } from './replicaset.js';

const SOURCE = { component: 'job-controller' };

export class JobController extends WorkloadController {
  /** Finished pods already counted, so deleting them later does not lower the counts (job tracking). */
  private readonly counted = new Map<string, { succeeded: Set<string>; failed: Set<string> }>();

  constructor(cluster: ClusterApi, res: Resources, events: ClusterEvents) {
    super(cluster, res, events, res.jobs, 'Job');
  }

  protected async sync(key: string): Promise<void> {
    const [ns, name] = splitKey(key);
    const job = this.current(key);
    if (!job) {
      if (!this.cluster.store.has(this.res.jobs.bucket, ns, name)) this.counted.delete(key);
      return;
    }
    const conditions: Obj[] = job.status?.conditions ?? [];
    const finished = conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    const pods = this.ownedPods(job);
    let counts = this.counted.get(key);
    if (!counts || (job.status?.succeeded ?? 0) + (job.status?.failed ?? 0) === 0) {
      counts = counts ?? { succeeded: new Set(), failed: new Set() };
      this.counted.set(key, counts);
    }
    for (const p of pods) {
      if (p.status?.phase === 'Succeeded') counts.succeeded.add(p.metadata.uid);
      if (p.status?.phase === 'Failed') counts.failed.add(p.metadata.uid);
    }
    const succeeded = Math.max(counts.succeeded.size, job.status?.succeeded ?? 0);
    const failed = Math.max(counts.failed.size, job.status?.failed ?? 0);
    const active = pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const completions = job.spec.completions ?? 1;
    const parallelism = job.spec.suspend ? 0 : (job.spec.parallelism ?? 1);
    // On the cluster's clock, as the CronJob controller that orders jobs by these times is.
    const now = nowISO(this.cluster.clock.now());
    const status: Obj = { ...(job.status ?? {}) };
    status.startTime ??= job.spec.suspend ? undefined : now;
    if (!status.startTime) delete status.startTime;
    let conds = [...conditions];
    if (!finished) {
      const cond = (type: string, reason: string, message: string) => ({ type, status: 'True', lastProbeTime: now, lastTransitionTime: now, reason, message });
      if (failed > (job.spec.backoffLimit ?? 6)) {
        for (const p of active) await this.removePod(p);
        conds = [...conds, cond('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'), cond('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')];
        this.events.warning(job as KubeObject, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', SOURCE);
      } else if (succeeded >= completions) {
        conds = [...conds, cond('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'), cond('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods')];
        status.completionTime = now;
        this.events.normal(job as KubeObject, 'Completed', 'Job completed', SOURCE);
      } else {
        const want = Math.min(parallelism, completions - succeeded) - active.length;
        for (let i = 0; i < want; i++) {
          const pod = podFromTemplate(job as KubeObject, job.spec.template);
          const created = await this.submitPod(pod);
          if (created) {
            active.push(created as Obj);
            this.events.normal(job as KubeObject, 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, SOURCE);
          }
        }
      }
    }
    const stillActive = active.filter((p) => !p.metadata.deletionTimestamp).length;
    Object.assign(status, { succeeded, failed, ready: active.filter(isPodReady).length, terminating: pods.filter((p) => p.metadata.deletionTimestamp).length, uncountedTerminatedPods: {} });
    if (stillActive && !conds.some((c) => c.type === 'Failed')) status.active = stillActive;
    else delete status.active;
    if (!status.succeeded) delete status.succeeded;
    if (!status.failed) delete status.failed;
    if (conds.length) status.conditions = conds;
    await writeStatus(this.cluster, this.res.jobs, job as KubeObject, status);
  }
}
