/**
 * `istioctl kube-inject -f FILE`: the injection template applied to the pod templates of the
 * file's workloads, with the injector's values read from the cluster's `istio-sidecar-injector`
 * and `istio` ConfigMaps as the real command does by default. Other objects pass through as written.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { CommandIO } from './io.js';
import { CommandError } from './io.js';
import { connect } from './cluster.js';
import { resourceOf, type ClientOptions } from './kube.js';
import { injectPod } from '../inject/template.js';
import { currentInjectorValues } from '../inject/webhook.js';

type Obj = Record<string, any>;

/** Where each kind keeps its pod template (kube-inject's IntoObject). */
function templateOf(o: Obj): Obj | undefined {
  switch (o.kind) {
    case 'Pod':
      return o;
    case 'Deployment':
    case 'DaemonSet':
    case 'StatefulSet':
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'Job':
    case 'DeploymentConfig':
      return o.spec?.template;
    case 'CronJob':
      return o.spec?.jobTemplate?.spec?.template;
    default:
      return undefined;
  }
}

async function readInput(file: string, io: CommandIO): Promise<string> {
  if (file === '-') {
    const lines: string[] = [];
    for (let l = await io.readLine(); l !== null; l = await io.readLine()) lines.push(l);
    return lines.join('\n');
  }
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new CommandError(`open ${file}: no such file or directory`);
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Obj)[k])]));
  return v;
}

export async function kubeInject(io: CommandIO, opts: ClientOptions & { filename: string; istioNamespace: string; output?: string }): Promise<number> {
  const text = await readInput(opts.filename, io);
  const c = await connect(opts);
  let values;
  try {
    const cm = await c.get(resourceOf('v1', 'ConfigMap'), 'istio-sidecar-injector', opts.istioNamespace);
    if (!cm) throw new CommandError(`failed to get injection config: configmaps "istio-sidecar-injector" not found`);
    const mesh = await c.get(resourceOf('v1', 'ConfigMap'), 'istio', opts.istioNamespace);
    const nodes = await c.list(resourceOf('v1', 'Node'));
    values = currentInjectorValues({
      configMap: (_ns, name) => (name === 'istio-sidecar-injector' ? (cm as Obj) : (mesh as Obj | undefined)),
      kubeletVersions: () => nodes.map((n) => String((n as Obj).status?.nodeInfo?.kubeletVersion ?? '')),
    }, opts.istioNamespace);
  } finally {
    c.close();
  }
  const docs = YAML.parseAllDocuments(text);
  const out: string[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new CommandError(`error converting YAML to JSON: ${doc.errors[0]!.message}`);
    const o = doc.toJS() as Obj | null;
    if (!o || typeof o !== 'object') continue;
    const template = templateOf(o);
    if (!template) {
      out.push(String(doc.toString()).replace(/^---\n/, '').trimEnd() + '\n');
      continue;
    }
    const namespace = o.metadata?.namespace ?? 'default';
    const owner = o.kind === 'Pod' ? undefined : { kind: o.kind, name: o.metadata?.name ?? '', apiVersion: o.apiVersion ?? '' };
    const injected = injectPod(template, { namespace, values, owner });
    if (injected) {
      if (o.kind === 'Pod') Object.assign(o, injected);
      else {
        template.metadata = injected.metadata;
        template.spec = injected.spec;
      }
    }
    // Go's encoder writes the zero values a round trip through the typed object gives.
    o.metadata = { creationTimestamp: null, ...(o.metadata ?? {}) };
    if (template !== o) template.metadata = { creationTimestamp: null, ...(template.metadata ?? {}) };
    for (const c of [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])]) if (c && typeof c === 'object') c.resources ??= {};
    if (o.kind === 'Deployment' && o.spec) o.spec.strategy ??= {};
    o.status ??= {};
    // sigs.k8s.io/yaml: keys sorted, sequences not indented.
    out.push(YAML.stringify(sortKeys(o), { lineWidth: 0, indentSeq: false, aliasDuplicateObjects: false }));
  }
  io.out(out.join('---\n'));
  return 0;
}
