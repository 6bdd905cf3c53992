/**
 * What kubeadm leaves in a fresh cluster, read from the YAML under manifests/: cluster/*.yaml
 * (the `kubernetes` Service, CoreDNS, kube-proxy) created in file order, and static-pods/*.yaml
 * (etcd and the control plane), which each control-plane node's kubelet mirrors into the API.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import type { ClusterApi } from '../api.js';
import type { PlacedNode } from '../../nodes/topology.js';
import { KUBE_VERSION } from '../../nodes/topology.js';
import { nowISO, quietly, type Obj } from '../../controllers/kit.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * manifests/ next to this module when run from source; in the server bundle (a chunk under
 * dist/server/) the build copies it to dist/server/sim/addons/core/manifests.
 */
function manifestsDir(): string {
  const candidates = [join(here, 'manifests')];
  for (let dir = here; dirname(dir) !== dir; dir = dirname(dir)) candidates.push(join(dir, 'sim', 'addons', 'core', 'manifests'));
  const found = candidates.find((d) => existsSync(join(d, 'cluster')));
  if (!found) throw new Error(`the embedded cluster's system manifests are missing (looked in ${candidates[0]} and above ${here})`);
  return found;
}

interface Manifests {
  cluster: Obj[];
  staticPods: string[];
}

let cached: Manifests | undefined;

/** Read once per process: the files do not change while the server runs. */
function manifests(): Manifests {
  if (cached) return cached;
  const dir = manifestsDir();
  const yamlFiles = (sub: string) =>
    readdirSync(join(dir, sub))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => readFileSync(join(dir, sub, f), 'utf8'));
  const cluster = yamlFiles('cluster').flatMap((text) =>
    YAML.parseAllDocuments(substitute(text, { KUBE_VERSION }))
      .map((d) => d.toJS() as Obj)
      .filter(Boolean),
  );
  cached = { cluster, staticPods: yamlFiles('static-pods') };
  return cached;
}

/** `${NAME}` → its value; anything else (the kube-proxy command's `$(NODE_NAME)`) is left alone. */
function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Z_]+)\}/g, (m, name: string) => vars[name] ?? m);
}

/** A static pod as the kubelet mirrors it: config annotations and the node as owner. */
function mirrorPod(template: string, node: PlacedNode, nodeUid: string | undefined): Obj {
  const pod = YAML.parse(substitute(template, { NODE_NAME: node.name, NODE_IP: node.ip, KUBE_VERSION })) as Obj;
  const component = pod.metadata.labels.component as string;
  const hash = createHash('md5').update(`${node.name}/${component}`).digest('hex');
  pod.metadata.annotations = {
    ...(pod.metadata.annotations ?? {}),
    'kubernetes.io/config.hash': hash,
    'kubernetes.io/config.mirror': hash,
    'kubernetes.io/config.seen': nowISO(),
    'kubernetes.io/config.source': 'file',
  };
  pod.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: nodeUid, controller: true }];
  return pod;
}

export async function createSystemWorkloads(api: ClusterApi, nodes: PlacedNode[]): Promise<void> {
  const opts = { fieldManager: 'kubeadm' };
  const { cluster, staticPods } = manifests();
  for (const o of cluster) {
    const [group, version] = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/') : ['', String(o.apiVersion)];
    const def = api.kinds.require(group!, version!, `${String(o.kind).toLowerCase()}s`);
    await quietly(() => api.rest.create(def, o.metadata.namespace, structuredClone(o), opts));
  }
  const pods = api.kinds.require('', 'v1', 'pods');
  const nodeDef = api.kinds.require('', 'v1', 'nodes');
  for (const node of nodes.filter((n) => n.role === 'control-plane')) {
    const nodeUid = api.store.get(nodeDef.bucket, '', node.name)?.metadata.uid;
    for (const t of staticPods) await quietly(() => api.rest.create(pods, 'kube-system', mirrorPod(t, node, nodeUid), opts));
  }
}
