/**
 * A container's filesystem, as far as the in-container commands need one: the files a real
 * pod has that people look at (/etc/hosts, /etc/resolv.conf written by the kubelet), and
 * whatever commands write (`curl -o`, `>` redirection), kept for the container's life.
 */
import type { ContainerContext } from '../types.js';

export type FsError = 'ENOENT' | 'EISDIR' | 'ENOTDIR' | 'EACCES';

export class FsFailure extends Error {
  constructor(
    readonly code: FsError,
    readonly path: string,
  ) {
    super(`${code}: ${path}`);
  }
}

/** strerror() wording, which both GNU coreutils and busybox print. */
export function fsErrorText(code: FsError): string {
  switch (code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EISDIR':
      return 'Is a directory';
    case 'ENOTDIR':
      return 'Not a directory';
    case 'EACCES':
      return 'Permission denied';
  }
}

export interface FsSeed {
  osRelease?: string;
  /** Extra directories the image has, e.g. /usr/share/nginx/html. */
  directories?: string[];
  workingDir?: string;
  files?: Record<string, string>;
}

const BASE_DIRS = [
  '/', '/bin', '/dev', '/etc', '/home', '/proc', '/root', '/sbin', '/sys', '/tmp', '/usr', '/usr/bin',
  '/usr/local', '/usr/local/bin', '/usr/sbin', '/var', '/var/run', '/run', '/proc/self',
];

export class ContainerFs {
  private files = new Map<string, Buffer | (() => string)>();
  private dirs = new Set<string>(BASE_DIRS);

  constructor(ctx: ContainerContext, seed: FsSeed = {}) {
    const domain = ctx.clusterDomain ?? 'cluster.local';
    const dns = ctx.clusterDNS ?? '10.96.0.10';
    this.setText('/etc/hostname', `${ctx.hostname}\n`);
    this.setText(
      '/etc/hosts',
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
        'fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n' +
        `${ctx.podIP}\t${ctx.hostname}\n`,
    );
    this.setText(
      '/etc/resolv.conf',
      `search ${ctx.namespace}.svc.${domain} svc.${domain} ${domain}\nnameserver ${dns}\noptions ndots:5\n`,
    );
    if (seed.osRelease !== undefined) this.setText('/etc/os-release', seed.osRelease);
    this.files.set('/proc/version', () => 'Linux version 6.8.0-sim (embedded cluster) #1 SMP\n');
    const started = ctx.now().getTime();
    this.files.set('/proc/uptime', () => {
      const up = Math.max(0, (ctx.now().getTime() - started) / 1000).toFixed(2);
      return `${up} ${up}\n`;
    });
    this.files.set('/proc/loadavg', () => '0.08 0.03 0.01 1/123 42\n');
    this.files.set('/proc/self/cgroup', () => '0::/\n');
    this.files.set('/dev/null', () => '');
    for (const d of seed.directories ?? []) this.mkdirs(d);
    if (seed.workingDir) this.mkdirs(seed.workingDir);
    for (const [p, text] of Object.entries(seed.files ?? {})) this.setText(p, text);
  }

  /** An absolute, normalized path. */
  static resolve(cwd: string, path: string): string {
    const abs = path.startsWith('/') ? path : `${cwd.replace(/\/$/, '')}/${path}`;
    const out: string[] = [];
    for (const seg of abs.split('/')) {
      if (!seg || seg === '.') continue;
      if (seg === '..') out.pop();
      else out.push(seg);
    }
    return '/' + out.join('/');
  }

  isDir(path: string): boolean {
    return this.dirs.has(path);
  }

  exists(path: string): boolean {
    return this.dirs.has(path) || this.files.has(path);
  }

  read(path: string): Buffer {
    if (this.dirs.has(path)) throw new FsFailure('EISDIR', path);
    const f = this.files.get(path);
    if (f === undefined) throw new FsFailure('ENOENT', path);
    return typeof f === 'function' ? Buffer.from(f()) : f;
  }

  write(path: string, data: Buffer, append = false): void {
    if (path === '/dev/null') return;
    if (this.dirs.has(path)) throw new FsFailure('EISDIR', path);
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (!this.dirs.has(parent)) throw new FsFailure(this.files.has(parent) ? 'ENOTDIR' : 'ENOENT', path);
    if (path.startsWith('/proc/') || path.startsWith('/sys/')) throw new FsFailure('EACCES', path);
    const old = this.files.get(path);
    const prev = append && old !== undefined ? (typeof old === 'function' ? Buffer.from(old()) : old) : Buffer.alloc(0);
    this.files.set(path, Buffer.concat([prev, data]));
  }

  remove(path: string): void {
    if (this.dirs.has(path)) throw new FsFailure('EISDIR', path);
    if (!this.files.delete(path)) throw new FsFailure('ENOENT', path);
  }

  mkdir(path: string): void {
    if (this.exists(path)) throw new FsFailure('EACCES', path);
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (!this.dirs.has(parent)) throw new FsFailure('ENOENT', path);
    this.dirs.add(path);
  }

  /** Names directly inside a directory, sorted as `ls` sorts them. */
  list(path: string): string[] {
    if (!this.dirs.has(path)) throw new FsFailure(this.files.has(path) ? 'ENOTDIR' : 'ENOENT', path);
    const prefix = path === '/' ? '/' : `${path}/`;
    const names = new Set<string>();
    for (const p of [...this.dirs, ...this.files.keys()]) {
      if (p !== path && p.startsWith(prefix)) {
        const rest = p.slice(prefix.length);
        if (rest && !rest.includes('/')) names.add(rest);
      }
    }
    return [...names].sort();
  }

  size(path: string): number {
    return this.dirs.has(path) ? 4096 : this.read(path).length;
  }

  private setText(path: string, text: string): void {
    this.mkdirs(path.slice(0, path.lastIndexOf('/')) || '/');
    this.files.set(path, Buffer.from(text));
  }

  private mkdirs(dir: string): void {
    let cur = '';
    for (const seg of dir.split('/').filter(Boolean)) {
      cur += `/${seg}`;
      this.dirs.add(cur);
    }
  }
}
