/**
 * What a container's volume mounts put in its filesystem. Only a hostPath of the node's root is
 * simulated (what `kubectl debug node/NAME` mounts at /host): a small node filesystem with the
 * node's hostname and OS. Other volumes mount nothing yet.
 */
// The nodes run Debian 12 (their osImage).
import { DEBIAN_OS_RELEASE as NODE_OS_RELEASE } from '../images/behaviours/os.js';

type Obj = Record<string, any>;

const NODE_DIRS = ['bin', 'etc', 'etc/kubernetes', 'etc/kubernetes/manifests', 'home', 'opt', 'proc', 'root', 'run', 'sys', 'tmp', 'usr', 'usr/bin', 'var', 'var/lib', 'var/lib/kubelet', 'var/log', 'var/log/containers', 'var/log/pods'];

export function mountedContent(pod: Obj, container: Obj, nodeName: string): { files: Record<string, string>; directories: string[] } | undefined {
  const volumes = new Map<string, Obj>(((pod.spec?.volumes ?? []) as Obj[]).filter((v) => v?.name).map((v) => [v.name, v]));
  const files: Record<string, string> = {};
  const directories: string[] = [];
  for (const m of (container.volumeMounts ?? []) as Obj[]) {
    const v = volumes.get(m?.name);
    if (typeof m?.mountPath !== 'string' || !m.mountPath.startsWith('/') || v?.hostPath?.path !== '/') continue;
    const root = m.mountPath.replace(/\/+$/, '');
    directories.push(root, ...NODE_DIRS.map((d) => `${root}/${d}`));
    files[`${root}/etc/hostname`] = `${nodeName}\n`;
    files[`${root}/etc/os-release`] = NODE_OS_RELEASE;
  }
  return directories.length ? { files, directories } : undefined;
}
