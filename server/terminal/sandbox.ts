/**
 * Learner shells in a sandbox. Learners are untrusted: a shell must not reach another learner's
 * files or cluster credentials, the data dir, the progress DB or the server process, and nothing it
 * starts may outlive its session. The mode is chosen once, at start-up, by trying bubblewrap:
 *
 *  - `bwrap-root` (server runs as root: container, workshop host, CI). bwrap sets up the PID, IPC
 *    and UTS namespaces and the mounts as root, then `setpriv` drops to the learner's own uid/gid
 *    (no capabilities, empty bounding set, no_new_privs) before bash runs. `bwrap --unshare-user
 *    --uid` alone would stay uid 0 outside, which is no drop at all.
 *  - `bwrap-userns` (unprivileged server: a learner's laptop). bwrap in a user namespace; the shell
 *    runs as the server's user, with the same namespaces and mounts.
 *  - `setpriv` (root, but bwrap cannot make namespaces, e.g. a container without CAP_SYS_ADMIN):
 *    the learner's own uid and the limits, no namespaces.
 *  - `none` (unprivileged and no usable bwrap): the limits only; the banner says so.
 *
 * Inside bwrap the learner sees the system read-only (/usr, /etc, the PATH's tool dirs), a fresh
 * /proc of their own PID namespace, a private /tmp, their home (writable) at /home/learner and
 * their kubeconfig (read-only, so the server never reads what a learner wrote) under
 * /run/playground. The network namespace is the host's: the embedded cluster and its NodePorts
 * listen on loopback.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { LearnerUids } from '../learners/uids.js';
import type { PeerGuard } from '../sim/network/peer-uid.js';
import { RC_FILES, interactiveShell } from './rcfiles.js';

export type SandboxMode = 'bwrap-root' | 'bwrap-userns' | 'setpriv' | 'none';

export interface ShellLimits {
  /** RLIMIT_NPROC: processes (threads) of the learner's uid; of their user namespace in bwrap-userns. */
  processes: number;
  /** RLIMIT_AS of each process, bytes. */
  memoryBytes: number;
  /** RLIMIT_FSIZE: the largest file a shell can write, bytes. */
  fileBytes: number;
  /** RLIMIT_NOFILE. */
  openFiles: number;
  /** Size of the sandbox's private /tmp (a tmpfs, so memory), bytes. */
  tmpBytes: number;
}

export const DEFAULT_LIMITS: ShellLimits = {
  processes: 256,
  memoryBytes: 1024 ** 3,
  fileBytes: 256 * 1024 ** 2,
  openFiles: 1024,
  tmpBytes: 64 * 1024 ** 2,
};

export interface SandboxOptions {
  dataDir: string;
  logger: Logger;
  /** bubblewrap to use; default the first of /usr/bin/bwrap, /usr/local/bin/bwrap, /bin/bwrap. */
  bwrap?: string;
  limits?: Partial<ShellLimits>;
  /** First uid handed to learners when running as root. */
  uidBase?: number;
  /**
   * Tests only: behave as a server running as this unprivileged user. Everything is launched
   * through `setpriv` to that user first, as if the server itself ran as it.
   */
  asUser?: { uid: number; gid: number };
}

/** One learner's shell, in server-side paths. */
export interface LearnerShell {
  learnerId: string;
  /** Server-private directory of the learner (their rcfiles are written here). */
  root: string;
  /** The learner's home, server-side. */
  home: string;
  /** The learner's kubeconfig, server-side. */
  kubeconfig?: string;
  /**
   * Shared read-only folders under the data dir that learners use (the real Istio release
   * scripts/fetch-istio.sh keeps there): mounted read-only at their own paths, so the PATH and
   * links in the home that name them work the same inside the sandbox and for the server's checks.
   */
  tools?: string[];
}

export interface Launch {
  file: string;
  args: string[];
  env: Record<string, string>;
  /** Server-side working directory for the spawn itself. */
  cwd: string;
  /** Said in the banner when the shell is not (fully) sandboxed. */
  notice?: string;
}

/** Where things are inside the bwrap sandbox. */
export const SANDBOX_HOME = '/home/learner';
export const SANDBOX_RUN = '/run/playground';
export const SANDBOX_KUBECONFIG = `${SANDBOX_RUN}/kubeconfig`;

const BWRAP_CANDIDATES = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'];
const SYSTEM_DIRS = ['/usr', '/etc', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
const NAMESPACES = ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--hostname', 'playground', '--die-with-parent'];
/** What setpriv needs to drop to the learner's uid; setpriv itself then drops these too. */
const DROP_CAPS = ['--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP'];

export class ShellSandbox {
  readonly mode: SandboxMode;
  readonly limits: ShellLimits;
  private readonly bwrap: string | undefined;
  private readonly userns: string[];
  private readonly uids: LearnerUids | undefined;
  private readonly dataDir: string;
  private readonly logger: Logger;
  private readonly asUser: { uid: number; gid: number } | undefined;
  private readonly reason: string | undefined;

  constructor(options: SandboxOptions) {
    this.dataDir = path.resolve(options.dataDir);
    this.logger = options.logger;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.asUser = options.asUser;
    const root = process.getuid?.() === 0 && !this.asUser;
    this.bwrap = options.bwrap ?? BWRAP_CANDIDATES.find((p) => fs.existsSync(p));
    let userns: string[] = [];
    let failure: string | undefined;
    if (!this.bwrap || !fs.existsSync(this.bwrap)) failure = `bubblewrap (bwrap) is not installed${options.bwrap ? ` at ${options.bwrap}` : ''}`;
    else if (root) failure = this.probe([...NAMESPACES, ...DROP_CAPS]);
    else {
      // --disable-userns (bwrap ≥ 0.8) keeps the kernel's user-namespace code out of the learner's reach.
      userns = ['--unshare-user', '--disable-userns'];
      failure = this.probe([...userns, ...NAMESPACES]);
      if (failure) {
        userns = ['--unshare-user'];
        failure = this.probe([...userns, ...NAMESPACES]);
      }
    }
    this.userns = userns;
    this.mode = failure ? (root ? 'setpriv' : 'none') : root ? 'bwrap-root' : 'bwrap-userns';
    this.uids = root ? new LearnerUids(this.dataDir, options.uidBase) : undefined;
    this.reason = failure;
    if (failure) {
      this.logger.warn(
        { mode: this.mode, reason: failure },
        root
          ? 'learner shells are not sandboxed: each runs as a uid of its own with limits, but without namespaces (install bubblewrap and allow it to create namespaces)'
          : 'learner shells are not sandboxed: they run as the server user with limits only (install bubblewrap and allow unprivileged user namespaces)',
      );
    } else {
      this.logger.info({ mode: this.mode }, 'learner shells run in a bubblewrap sandbox');
    }
  }

  /** A line for logs and the banner. */
  describe(): string {
    switch (this.mode) {
      case 'bwrap-root':
      case 'bwrap-userns':
        return 'sandboxed';
      case 'setpriv':
        return `not sandboxed (own user and limits only: ${this.reason})`;
      case 'none':
        return `not sandboxed (${this.reason})`;
    }
  }

  /** The uid the learner's shell runs as. */
  uidOf(learnerId: string): number {
    if (this.uids) return this.uids.uidOf(learnerId);
    return this.asUser?.uid ?? process.getuid?.() ?? 0;
  }

  /**
   * Who may connect to the learner's cluster's NodePorts: when learners have uids of their own, the
   * learner and no other learner. Unprivileged, every learner is the same user: nothing to tell apart.
   */
  peerGuard(learnerId: string): PeerGuard | undefined {
    if (!this.uids) return undefined;
    return { ownerUid: this.uids.uidOf(learnerId), learnerUids: this.uids.range };
  }

  /**
   * How to spawn `shell` for the learner, given the environment it would have unsandboxed
   * (server-side paths): the command line, and that environment with the paths it sees.
   */
  launch(learner: LearnerShell, shell: string, env: Record<string, string>, cwd = learner.home): Launch {
    const rcDir = path.join(learner.root, 'shell');
    fs.mkdirSync(rcDir, { recursive: true, mode: 0o755 });
    for (const [name, text] of Object.entries(RC_FILES)) fs.writeFileSync(path.join(rcDir, name), text, { mode: 0o644 });
    const uid = this.uidOf(learner.learnerId);
    const gid = this.uids ? uid : (this.asUser?.gid ?? process.getgid?.() ?? 0);
    if (process.getuid?.() === 0) this.giveOwnership(learner, uid, gid);

    const limits = this.prlimitArgs();
    const dropPrefix = this.asUser ? this.setprivArgs(this.asUser.uid, this.asUser.gid) : [];
    if (this.mode === 'none' || this.mode === 'setpriv') {
      const { args, env: shellEnv } = interactiveShell(shell, rcDir);
      const drop = this.mode === 'setpriv' ? this.setprivArgs(uid, gid) : [];
      if (this.mode === 'setpriv') this.lockDataDir(learner);
      // Without a user namespace a process limit would count every process of the user.
      const own = this.mode === 'none' ? limits.filter((a) => !a.startsWith('--nproc')) : limits;
      const prlimit = which('prlimit');
      const argv = [...dropPrefix, ...(fs.existsSync(prlimit) ? [prlimit, ...own, '--'] : []), ...drop, shell, ...args];
      return { file: which(argv[0]!), args: argv.slice(1), env: { ...env, ...shellEnv }, cwd, notice: `This shell is ${this.describe()}.` };
    }

    const binds: string[] = [];
    const visible: string[] = [];
    for (const dir of SYSTEM_DIRS) {
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(dir);
      } catch {
        continue;
      }
      if (stat.isSymbolicLink()) binds.push('--symlink', fs.readlinkSync(dir), dir);
      else if (stat.isDirectory()) {
        binds.push('--ro-bind', dir, dir);
        visible.push(dir);
      }
    }
    // resolv.conf often points into /run (systemd-resolved), which is a tmpfs here.
    const resolv = realpathOrNull('/etc/resolv.conf');
    if (resolv && !isUnder(resolv, visible)) binds.push('--ro-bind', resolv, resolv);
    // Tool dirs on the PATH (the project's .tools/bin, ~/.local/bin, …), never the data dir's.
    for (const dir of (env.PATH ?? '').split(':')) {
      if (!path.isAbsolute(dir) || !isDirectory(dir)) continue;
      const real = realpathOrNull(dir) ?? dir;
      if (isUnder(real, visible) || isUnder(dir, visible)) continue;
      // (A real unprivileged server reaches its own PATH; one played by a test may not.)
      if (this.asUser && !traversableBy(real, this.asUser.uid, this.asUser.gid)) continue;
      if (isUnder(dir, [this.dataDir]) || isUnder(this.dataDir, [dir])) continue;
      binds.push('--ro-bind', dir, dir);
      visible.push(dir);
    }
    // Should the data dir sit under a bound dir, hide it all the same.
    if (isUnder(this.dataDir, visible)) binds.push('--tmpfs', this.dataDir);

    const inside: Record<string, string> = {
      ...env,
      ...interactiveShell(shell, SANDBOX_RUN).env,
      HOME: SANDBOX_HOME,
      USER: 'learner',
      LOGNAME: 'learner',
    };
    for (const [key, value] of Object.entries(inside)) {
      if (value === learner.home || value.startsWith(`${learner.home}/`)) inside[key] = SANDBOX_HOME + value.slice(learner.home.length);
    }
    // bwrap makes missing parents 0700 (root's when privileged): made explicitly, they are traversable.
    const run = ['--perms', '0755', '--dir', SANDBOX_RUN, '--ro-bind', path.join(rcDir, 'bashrc'), `${SANDBOX_RUN}/bashrc`, '--ro-bind', path.join(rcDir, 'shrc'), `${SANDBOX_RUN}/shrc`];
    for (const dir of learner.tools ?? []) {
      if (!path.isAbsolute(dir) || !isUnder(dir, [this.dataDir]) || !isDirectory(dir)) continue;
      // Parents bwrap would make 0700 (root's) are made traversable; they hold nothing else here.
      const parents: string[] = [];
      for (let p = path.dirname(dir); p !== '/'; p = path.dirname(p)) parents.unshift(p);
      for (const p of parents) if (!isUnder(p, visible)) run.push('--perms', '0755', '--dir', p);
      run.push('--ro-bind', dir, dir);
    }
    if (learner.kubeconfig && fs.existsSync(learner.kubeconfig)) {
      run.push('--ro-bind', learner.kubeconfig, SANDBOX_KUBECONFIG);
      if (env.KUBECONFIG === learner.kubeconfig) inside.KUBECONFIG = SANDBOX_KUBECONFIG;
    } else {
      delete inside.KUBECONFIG;
    }
    if (this.mode === 'bwrap-root') {
      // The learner's uid gets a name (whoami, the prompt of tools that ask).
      for (const [file, line] of [
        ['passwd', `learner:x:${uid}:${gid}:istio-playground learner:${SANDBOX_HOME}:/bin/bash`],
        ['group', `learner:x:${gid}:`],
      ] as const) {
        const text = readOr(`/etc/${file}`, '');
        fs.writeFileSync(path.join(rcDir, file), `${text}${text.endsWith('\n') || !text ? '' : '\n'}${line}\n`, { mode: 0o644 });
        run.push('--ro-bind', path.join(rcDir, file), `/etc/${file}`);
      }
    }
    const { args: shellArgs } = interactiveShell(shell, SANDBOX_RUN);
    const argv = [
      ...dropPrefix,
      this.bwrap!,
      ...this.userns,
      ...NAMESPACES,
      ...binds,
      '--proc', '/proc',
      '--dev', '/dev',
      '--perms', '1777', '--size', String(this.limits.tmpBytes), '--tmpfs', '/tmp',
      '--dir', '/var',
      '--symlink', '/tmp', '/var/tmp',
      '--tmpfs', '/run',
      ...run,
      '--perms', '0755', '--dir', path.posix.dirname(SANDBOX_HOME),
      '--bind', learner.home, SANDBOX_HOME,
      '--chdir', isUnder(cwd, [learner.home]) ? SANDBOX_HOME + cwd.slice(learner.home.length) : SANDBOX_HOME,
      ...(this.mode === 'bwrap-root' ? DROP_CAPS : []),
      '--',
      which('prlimit'), ...limits, '--',
      ...(this.mode === 'bwrap-root' ? this.setprivArgs(uid, gid) : []),
      shell, ...shellArgs,
    ];
    return { file: which(argv[0]!), args: argv.slice(1), env: inside, cwd: learner.home };
  }

  private prlimitArgs(): string[] {
    const l = this.limits;
    return [`--nproc=${l.processes}`, `--as=${l.memoryBytes}`, `--fsize=${l.fileBytes}`, `--nofile=${l.openFiles}`, '--core=0'];
  }

  private setprivArgs(uid: number, gid: number): string[] {
    return [
      which('setpriv'),
      `--reuid=${uid}`,
      `--regid=${gid}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--ambient-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
      '--',
    ];
  }

  /** Root only: the home is the learner's, the kubeconfig readable by them and by no other learner. */
  private giveOwnership(learner: LearnerShell, uid: number, gid: number): void {
    if (this.asUser) {
      // As if the server were this user: what it made for the learner is that user's.
      for (let dir = learner.root; isUnder(dir, [this.dataDir]); dir = path.dirname(dir)) {
        fs.lchownSync(dir, uid, gid);
        if (dir === this.dataDir) break;
      }
      chownTree(path.join(learner.root, 'shell'), uid, gid);
    }
    const home = fs.lstatSync(learner.home);
    // A home from before uids (or from another mode) is handed over whole, once.
    if (home.uid !== uid || home.gid !== gid) chownTree(learner.home, uid, gid);
    fs.chmodSync(learner.home, 0o700);
    if (learner.kubeconfig && fs.existsSync(learner.kubeconfig)) {
      // Kept the server's (the learner cannot chmod or rewrite it); readable through the group.
      const owner = this.asUser ? uid : 0;
      fs.chownSync(learner.kubeconfig, owner, gid);
      fs.chmodSync(learner.kubeconfig, this.asUser ? 0o600 : 0o640);
    }
  }

  /**
   * setpriv mode shares the filesystem: the learner's uid must be able to reach their home, and
   * nothing more. Directories on the way are traversable but not listable, the data dir's own
   * files (the progress DB) are the server's only.
   */
  private lockDataDir(learner: LearnerShell): void {
    for (let dir = path.dirname(learner.home); isUnder(dir, [this.dataDir]); dir = path.dirname(dir)) {
      fs.chmodSync(dir, 0o711);
      if (dir === this.dataDir) break;
    }
    for (const entry of fs.readdirSync(this.dataDir, { withFileTypes: true })) {
      if (entry.isFile()) fs.chmodSync(path.join(this.dataDir, entry.name), 0o600);
    }
  }

  /** Tries bwrap with these flags; the reason it failed, or undefined. */
  private probe(flags: string[]): string | undefined {
    const prefix = this.asUser ? this.setprivArgs(this.asUser.uid, this.asUser.gid) : [];
    const argv = [...prefix, this.bwrap!, ...flags, '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', 'true'];
    const result = spawnSync(which(argv[0]!), argv.slice(1), { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] });
    if (result.error) return `${this.bwrap} cannot run: ${result.error.message}`;
    if (result.status === 0) return undefined;
    return `${this.bwrap} cannot create the sandbox: ${result.stderr.trim() || `exit ${result.status ?? result.signal}`}`;
  }
}

function which(command: string): string {
  if (path.isAbsolute(command)) return command;
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin']) {
    const candidate = path.join(dir, command);
    if (fs.existsSync(candidate)) return candidate;
  }
  return command;
}

/** lchown of a tree, never following a symlink the learner may have planted. */
function chownTree(dir: string, uid: number, gid: number): void {
  fs.lchownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, uid, gid);
    else fs.lchownSync(p, uid, gid);
  }
}

/** Whether every directory down to `dir` lets uid/gid (no supplementary groups) through. */
function traversableBy(dir: string, uid: number, gid: number): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    const st = fs.statSync(d);
    const bit = st.uid === uid ? 0o100 : st.gid === gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return false;
    if (d === path.dirname(d)) return true;
  }
}

function isUnder(p: string, roots: string[]): boolean {
  return roots.some((r) => p === r || p.startsWith(r.endsWith('/') ? r : `${r}/`));
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function realpathOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
