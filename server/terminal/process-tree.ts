/**
 * Finding and killing everything a terminal's shell started.
 *
 * node-pty makes the shell a session leader (setsid), so its session id is its pid. An
 * interactive bash puts every job in its own process group, so killing the shell's group
 * alone would leave `sleep 1000 &` running; the session id is what all of them share (and
 * keep after the shell dies). On Linux we enumerate the session through /proc, plus the
 * descendants of its members (`setsid cmd &` leaves the session but not the family);
 * elsewhere we fall back to the shell's process group. A daemon that double-forks away
 * from both is out of reach without cgroups — or a PID namespace: a learner's shell runs in
 * bubblewrap's (sandbox.ts), whose init is in the session, and when it dies the kernel kills
 * every process of the namespace, daemons included.
 */
import { readdirSync, readFileSync } from 'node:fs';

const HAS_PROC = process.platform === 'linux';

interface ProcStat {
  pid: number;
  ppid: number;
  state: string;
  pgrp: number;
  session: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself contain spaces or parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: fields[0] ?? '?', ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]) };
}

/**
 * A scan reads every process's stat (~1,000 processes with 200 learners: milliseconds). The
 * server stopping with 200 open terminals had each session poll a scan of its own every 25 ms,
 * which held the event loop for tens of seconds, past main.ts's forced exit. So a scan is shared
 * by every question that a scan begun after some moment answers truly: "is this session empty
 * since I signalled it?" is answered by any scan begun after the signal (a scan begun earlier
 * could predate a child the session forked since).
 */
let lastScan: { startedAt: number; all: ProcStat[] } | null = null;

function processTable(notBefore: number): ProcStat[] {
  if (lastScan && lastScan.startedAt >= notBefore) return lastScan.all;
  const startedAt = performance.now();
  const all: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid);
    if (stat) all.push(stat);
  }
  lastScan = { startedAt, all };
  return all;
}

/**
 * Live (non-zombie) processes of the session led by `sessionId`, the leader included, and
 * their descendants that left the session, as a scan of /proc begun at `notBefore` or later
 * saw them (by default a scan begun now).
 */
export function sessionMembers(sessionId: number, notBefore = performance.now()): ProcStat[] {
  if (!HAS_PROC) return isAlive(sessionId) ? [{ pid: sessionId, ppid: 0, state: 'R', pgrp: sessionId, session: sessionId }] : [];
  const all = processTable(notBefore);
  const family = new Set(all.filter((p) => p.session === sessionId).map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (!family.has(p.pid) && family.has(p.ppid)) {
        family.add(p.pid);
        grew = true;
      }
    }
  }
  return all.filter((p) => family.has(p.pid) && p.state !== 'Z' && p.state !== 'X');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalSession(sessionId: number, signal: NodeJS.Signals, notBefore = performance.now()): number {
  const members = sessionMembers(sessionId, notBefore);
  const groups = new Set<number>([sessionId, ...members.map((m) => m.pgrp)]);
  for (const group of groups) {
    try {
      process.kill(-group, signal);
    } catch {
      /* the group is already gone */
    }
  }
  for (const member of members) {
    try {
      process.kill(member.pid, signal);
    } catch {
      /* already gone */
    }
  }
  return members.length;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Signals asked for in one turn of the event loop, sent together from one scan begun after all
 * were asked: the server stopping ends every terminal at once, and a scan each cost seconds.
 */
let batch: Array<{ sessionId: number; signals: NodeJS.Signals[]; done: (r: { count: number; at: number }) => void }> | null = null;

function signalSoon(sessionId: number, signals: NodeJS.Signals[]): Promise<{ count: number; at: number }> {
  return new Promise((done) => {
    if (!batch) {
      batch = [];
      setImmediate(() => {
        const jobs = batch!;
        batch = null;
        const at = performance.now();
        for (const job of jobs) {
          let count = 0;
          for (const signal of job.signals) count = signalSession(job.sessionId, signal, at);
          job.done({ count, at });
        }
      });
    }
    batch.push({ sessionId, signals, done });
  });
}

/**
 * Polls until the session is empty (each answer from a scan begun after the last signal, shared
 * with other sessions' polls); with `resend`, signals what is left again (late forks included).
 */
async function waitUntilEmpty(sessionId: number, ms: number, signalledAt: number, resend?: NodeJS.Signals): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (sessionMembers(sessionId, signalledAt).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(25);
    if (resend) ({ at: signalledAt } = await signalSoon(sessionId, [resend]));
  }
}

/**
 * Hangs up the whole session (SIGHUP, what closing a real terminal sends, so shells save
 * their history), then SIGKILLs whatever is still there after `graceMs`. Resolves once no
 * member is left, or rejects if even SIGKILL did not clear it (e.g. a process in D state).
 */
export async function killSession(sessionId: number, graceMs: number): Promise<void> {
  // A stopped job ignores SIGHUP until continued (the same scan names it).
  const hangup = await signalSoon(sessionId, ['SIGHUP', 'SIGCONT']);
  if (hangup.count === 0 && !HAS_PROC) return;
  if (await waitUntilEmpty(sessionId, graceMs, hangup.at)) return;
  const kill = await signalSoon(sessionId, ['SIGKILL']);
  if (await waitUntilEmpty(sessionId, 2000, kill.at, 'SIGKILL')) return;
  const left = sessionMembers(sessionId).map((m) => m.pid);
  throw new Error(`processes of terminal session ${sessionId} survived SIGKILL: ${left.join(', ')}`);
}
