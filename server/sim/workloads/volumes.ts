/**
 * What a container's volume mounts put in its filesystem: a hostPath of the node's root (what
 * `kubectl debug node/NAME` mounts at /host: a small node filesystem with the node's hostname
 * and OS), and projected volumes as the kubelet writes them at start (ServiceAccount token,
 * ConfigMap items, the downward API's metadata fields), e.g. the kube-api-access volume.
 * Other volumes mount nothing yet.
 */
// The nodes run Debian 12 (their osImage).
import { DEBIAN_OS_RELEASE as NODE_OS_RELEASE } from '../images/behaviours/os.js';
import { bucketOf } from '../storage/store.js';
import type { ClusterStore } from '../addons/api.js';
import type { ServiceAccountTokens } from '../registry/kinds/authentication/tokens.js';
import { API_AUDIENCES } from '../registry/kinds/authentication/tokens.js';

type Obj = Record<string, any>;

/** Where the kubelet reads what projected volumes hold. */
export interface VolumeSources {
  store: Pick<ClusterStore, 'peek'>;
  tokens?: Pick<ServiceAccountTokens, 'issue'>;
}

const SERVICE_ACCOUNTS = bucketOf('', 'serviceaccounts');
const CONFIGMAPS = bucketOf('', 'configmaps');

const NODE_DIRS = ['bin', 'etc', 'etc/kubernetes', 'etc/kubernetes/manifests', 'home', 'opt', 'proc', 'root', 'run', 'sys', 'tmp', 'usr', 'usr/bin', 'var', 'var/lib', 'var/lib/kubelet', 'var/log', 'var/log/containers', 'var/log/pods'];

export function mountedContent(pod: Obj, container: Obj, nodeName: string, sources?: VolumeSources): { files: Record<string, string>; directories: string[] } | undefined {
  const volumes = new Map<string, Obj>(((pod.spec?.volumes ?? []) as Obj[]).filter((v) => v?.name).map((v) => [v.name, v]));
  const files: Record<string, string> = {};
  const directories: string[] = [];
  for (const m of (container.volumeMounts ?? []) as Obj[]) {
    const v = volumes.get(m?.name);
    if (typeof m?.mountPath !== 'string' || !m.mountPath.startsWith('/')) continue;
    const root = m.mountPath.replace(/\/+$/, '');
    if (v?.projected && sources) {
      const projected = projectedFiles(pod, v.projected, sources);
      if (!projected) continue;
      directories.push(root);
      for (const [path, text] of Object.entries(projected)) files[`${root}/${path}`] = text;
      continue;
    }
    if (v?.hostPath?.path !== '/') continue;
    directories.push(root, ...NODE_DIRS.map((d) => `${root}/${d}`));
    files[`${root}/etc/hostname`] = `${nodeName}\n`;
    files[`${root}/etc/os-release`] = NODE_OS_RELEASE;
  }
  return directories.length ? { files, directories } : undefined;
}

/**
 * A projected volume's files, or undefined when the kubelet could not set it up (a missing
 * ServiceAccount or ConfigMap that is not optional: the real container would not start either).
 */
function projectedFiles(pod: Obj, projected: Obj, { store, tokens }: VolumeSources): Record<string, string> | undefined {
  const ns = String(pod.metadata?.namespace ?? '');
  const files: Record<string, string> = {};
  for (const src of (projected.sources ?? []) as Obj[]) {
    if (src?.serviceAccountToken) {
      const sa = store.peek(SERVICE_ACCOUNTS, ns, String(pod.spec?.serviceAccountName ?? 'default')) as Obj | undefined;
      if (!sa || !tokens) return undefined;
      const t = src.serviceAccountToken;
      const audiences = typeof t.audience === 'string' && t.audience ? [t.audience] : API_AUDIENCES;
      // The kubelet's TokenRequest, bound to this pod: deleting the pod revokes the token.
      const issued = tokens.issue(sa, { expirationSeconds: Number(t.expirationSeconds ?? 3600), audiences, bound: { kind: 'Pod', name: String(pod.metadata?.name ?? ''), uid: String(pod.metadata?.uid ?? '') } });
      files[String(t.path ?? 'token')] = issued.token;
    } else if (src?.configMap) {
      const cm = store.peek(CONFIGMAPS, ns, String(src.configMap.name ?? '')) as Obj | undefined;
      if (!cm) {
        if (src.configMap.optional === true) continue;
        return undefined;
      }
      const data = (cm.data ?? {}) as Record<string, string>;
      const items = (src.configMap.items as Obj[] | undefined) ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const it of items) if (typeof data[it.key] === 'string') files[String(it.path)] = data[it.key];
    } else if (src?.downwardAPI) {
      for (const it of (src.downwardAPI.items ?? []) as Obj[]) {
        const field = it?.fieldRef?.fieldPath;
        const value = field === 'metadata.namespace' ? ns : field === 'metadata.name' ? pod.metadata?.name : field === 'metadata.uid' ? pod.metadata?.uid : undefined;
        if (typeof value === 'string') files[String(it.path)] = value;
      }
    }
  }
  return files;
}
