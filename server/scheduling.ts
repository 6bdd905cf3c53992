/**
 * The server relays every learner's keystrokes and output, pushes the instructor's dashboard and
 * runs the checks, using little CPU (3–5% of a core with 200 learners); learners' kubectl runs
 * and their clusters use the rest. Where Linux groups scheduling by session (autogroup), the
 * server's session competed as one of hundreds under load, and an echo waited for the CPU:
 * 200 learners, a kubectl each every 10 s, keystroke echo p99 0.7–1.3 s with the server's group
 * at nice 0, 30 ms at -10 (`npm run bench -- workshop`, 2026-12-06). Learners' shells and
 * clusters run in sessions of their own, so only the server's group is raised; the server is
 * never the one using the CPU, so it cannot starve them.
 */
import fs from 'node:fs';
import type { Logger } from 'pino';

/**
 * Where the kernel does not group by session (autogroup off, or a container's CPU cgroup, where
 * every process of the pod competes on its own nice value) the same order comes from nice values
 * alone, which any process may raise for its children: learners' shells (and all they run) and
 * their clusters start at this nice, the server stays at its own. Measured with autogroup off:
 * echo p99 1.2 s at 200 learners with everything at nice 0.
 */
export const LEARNER_WORK_NICE = 10;

/**
 * Learners' Go tools (kubectl above all: a workshop runs one per learner every few seconds) run
 * with one scheduler thread and a later GC: short CLI runs spend a third of their CPU starting
 * GC cycles on a 4 MB heap and spinning idle threads. `kubectl get pods -A` against an embedded
 * cluster, 30 runs: 66 ms of CPU each by default, 48 ms with these (wall time 10% shorter too,
 * 2026-12-06), which on a shared machine is CPU for everyone else. The soft memory limit keeps
 * the later GC from letting a big listing grow five-fold. A learner may change them in their
 * shell; it only changes what their own commands cost.
 */
export const LEARNER_GO_ENV: Readonly<Record<string, string>> = { GOMAXPROCS: '1', GOGC: '400', GOMEMLIMIT: '256MiB' };

/** The nice value of the server's scheduling group (-20 highest .. 19 lowest). */
export const SERVER_AUTOGROUP_NICE = -10;
const AUTOGROUP = '/proc/self/autogroup';

/** Raises the server's session group when the kernel groups by session and the server may (root, CAP_SYS_NICE). */
export function favourTheServer(logger: Logger): void {
  if (!fs.existsSync(AUTOGROUP)) return; // not Linux, or no autogroup support: nothing to raise
  try {
    fs.writeFileSync(AUTOGROUP, String(SERVER_AUTOGROUP_NICE));
    logger.info({ autogroupNice: SERVER_AUTOGROUP_NICE }, "the server's scheduling group is raised above learners' work");
  } catch (err) {
    logger.info({ err: (err as NodeJS.ErrnoException).code }, "the server's scheduling group could not be raised (needs root or CAP_SYS_NICE): under heavy load, keystroke echo waits behind learners' commands");
  }
}
