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
 * Live (non-zombie) processes of the session led by `sessionId`, the leader included, and
 * their descendants that left the session.
 */
export function sessionMembers(sessionId: number): ProcStat[] {
  if (!HAS_PROC) return isAlive(sessionId) ? [{ pid: sessionId, ppid: 0, state: 'R', pgrp: sessionId, session: sessionId }] : [];
  const all: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid);
    if (stat) all.push(stat);
  }
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

function signalSession(sessionId: number, signal: NodeJS.Signals): number {
  const members = sessionMembers(sessionId);
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

async function waitUntilEmpty(sessionId: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (sessionMembers(sessionId).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
}

/**
 * Hangs up the whole session (SIGHUP, what closing a real terminal sends, so shells save
 * their history), then SIGKILLs whatever is still there after `graceMs`. Resolves once no
 * member is left, or rejects if even SIGKILL did not clear it (e.g. a process in D state).
 */
export async function killSession(sessionId: number, graceMs: number): Promise<void> {
  if (signalSession(sessionId, 'SIGHUP') === 0 && !HAS_PROC) return;
  // A stopped job ignores SIGHUP until continued.
  signalSession(sessionId, 'SIGCONT');
  if (await waitUntilEmpty(sessionId, graceMs)) return;
  signalSession(sessionId, 'SIGKILL');
  if (await waitUntilEmpty(sessionId, 2000)) return;
  const left = sessionMembers(sessionId).map((m) => m.pid);
  throw new Error(`processes of terminal session ${sessionId} survived SIGKILL: ${left.join(', ')}`);
}
