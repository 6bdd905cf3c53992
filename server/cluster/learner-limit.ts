/**
 * How many learners' embedded clusters one playground runs at once, derived from its memory.
 * Each learner with a running cluster holds a cluster process, a shell and its sandbox: 73.7 MiB
 * each at 200 learners (`npm run bench -- workshop`, 2026-12-06), 70.4 MiB with Bookinfo
 * (`npm run bench -- learners`). The limit keeps the machine (or the pod's cgroup) from swapping
 * or being OOM-killed, which would end every learner's session at once instead of one refusal.
 */
import os from 'node:os';

const MIB = 1024 * 1024;
/** Memory counted per learner: the measured ~74 MiB rounded up for growth (a learner's objects, logs). */
export const MIB_PER_LEARNER = 80;
/** Left for the server itself (~70 MiB), the operating system and the page cache. */
export const RESERVED_MIB = 1024;

/** The memory this process may use: the container's cgroup limit where there is one, else the machine's. */
export function availableMemoryBytes(): number {
  const total = os.totalmem();
  // 0 or 2^64-1 (as Node 20 reports "unlimited") when no cgroup limit applies.
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  return constrained && constrained > 0 && constrained < total ? constrained : total;
}

/** The learner limit for `bytes` of memory (at least one learner). */
export function learnerLimitFor(bytes: number): number {
  return Math.max(1, Math.floor((bytes / MIB - RESERVED_MIB) / MIB_PER_LEARNER));
}

/** Why a learner's cluster was not started, in words for the learner's terminal and page. */
export function limitReachedMessage(limit: number, derived: boolean): string {
  const running = limit === 1 ? "1 learner's cluster" : `${limit} learners' clusters`;
  const why = derived ? `as many as this machine's memory allows (about ${MIB_PER_LEARNER} MiB each)` : 'the most it is set to (--max-learners)';
  return `the playground is full: it runs ${running}, ${why}. Yours starts as soon as a seat frees (an idle learner's cluster is released after a while): try again in a few minutes by typing exit for a new terminal, or ask your instructor.`;
}
