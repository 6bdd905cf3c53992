/** `istioctl install` and `istioctl uninstall` (operator/cmd/mesh/install.go, uninstall.go, operator/pkg/uninstall/prune.go). */
import { readFileSync } from 'node:fs';
import type { CommandIO } from './io.js';
import { CommandError, EXIT } from './io.js';
import { connect } from './cluster.js';
import type { KubeClient } from './kube.js';
import { resourceOf } from './kube.js';
import { InstallError, resolveSpec, type IstioOperatorSpec } from '../manifests/profiles.js';
import { namespaceObject, renderInstall } from '../manifests/render.js';
import { waitForResources } from './wait.js';
import { ISTIO_VERSION } from '../version.js';
import { CRD_DEFS } from '../manifests/crds.js';
import type { ClientOptions } from './kube.js';
import YAML from 'yaml';
import type { KubeObject } from '../manifests/objects.js';

const ART = `        |\\
        | \\
        |  \\
        |   \\
      /||    \\
     / ||     \\
    /  ||      \\
   /   ||       \\
  /    ||        \\
 /     ||         \\
/______||__________\\
____________________
  \\__       _____/
     \\_____/
`;

export function readSpecFiles(files: string[], io: { stdin?: string }): { name: string; text: string }[] {
  return files.map((f) => {
    if (f === '-') return { name: 'stdin', text: io.stdin ?? '' };
    try {
      return { name: f, text: readFileSync(f, 'utf8') };
    } catch (e) {
      throw new CommandError(`open ${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
  });
}

export function resolve(files: string[], sets: string[]): IstioOperatorSpec {
  try {
    return resolveSpec(readSpecFiles(files, {}), sets);
  } catch (e) {
    if (e instanceof InstallError) throw new CommandError(e.message);
    throw e;
  }
}

async function confirm(io: CommandIO, prompt: string): Promise<boolean> {
  io.out(`${prompt} `);
  // Like fmt.Scanln: the newline on screen is the terminal's echo of the answer, none is printed.
  const answer = (await io.readLine()) ?? '';
  return ['y', 'yes'].includes(answer.trim().toLowerCase());
}

export interface InstallOptions extends ClientOptions {
  files: string[];
  sets: string[];
  skipConfirmation: boolean;
  readinessTimeoutMs: number;
  dryRun: boolean;
}

export async function install(io: CommandIO, o: InstallOptions): Promise<number> {
  const spec = resolve(o.files, o.sets);
  const client = await connect(o);
  try {
    if (!o.skipConfirmation && !o.dryRun) {
      io.out(io.tty ? `\x1b[1;94m${ART}\x1b[0m\n` : `${ART}\n`);
      if (!(await confirm(io, `This will install the Istio ${ISTIO_VERSION} profile "${spec.profile}" into the cluster. Proceed? (y/N)`))) {
        io.out('Cancelled.\n');
        return EXIT.unknown;
      }
    }
    const components = renderInstall(spec);
    if (o.dryRun) {
      for (const c of components) io.out(`✔ ${c.title}\n`);
      io.out('✔ Installation complete\n');
      return EXIT.ok;
    }
    if (!(await client.get(resourceOf('v1', 'Namespace'), 'istio-system'))) await client.apply(namespaceObject());
    const failed: string[] = [];
    const progress = new Progress(io);
    // Base first (the CRDs and webhooks everything else needs), then the rest side by side, as istioctl does.
    /** Applies a component and waits for it; resolves to its result line, printed by the caller. */
    const runComponent = async (c: (typeof components)[number]): Promise<string> => {
      try {
        progress.begin(c.title);
        for (const obj of c.objects) await client.apply(obj);
        await waitForResources(client, c.objects, o.readinessTimeoutMs, (names) => progress.waiting(c.title, names));
        return `✔ ${c.title}`;
      } catch (e) {
        const label = c.title.replace(/ installed.*$/, '');
        failed.push(label);
        return `✘ ${label} encountered an error: ${(e as Error).message}`;
      }
    };
    const report = async (c: (typeof components)[number], line: Promise<string>) => progress.done(c.title, await line);
    const [first, ...rest] = components;
    if (first?.name === 'Base') await report(first, runComponent(first));
    else if (first) rest.unshift(first);
    if (!failed.length) {
      const pilot = rest.find((c) => c.name === 'Pilot');
      if (pilot) await report(pilot, runComponent(pilot));
      // The gateways install side by side; their lines come in Istio's docs' order (egress, then ingress), whichever is Ready first.
      const gateways = rest.filter((c) => c !== pilot);
      const lines = gateways.map((c) => runComponent(c));
      for (let i = 0; i < gateways.length; i++) await report(gateways[i]!, lines[i]!);
    }
    if (failed.length) {
      io.out(`- Pruning removed resources\n`);
      io.err(`Error: failed to install manifests: errors occurred during operation\n`);
      return EXIT.unknown;
    }
    await pruneRemoved(client, components.flatMap((c) => c.objects));
    io.out('✔ Installation complete\n');
    return EXIT.ok;
  } finally {
    client.close();
  }
}

/**
 * Objects an earlier install made that this one no longer renders (a gateway now disabled, the
 * HPAs of another profile) are removed, as istioctl's prune step does. CRDs are kept.
 */
async function pruneRemoved(client: KubeClient, rendered: KubeObject[]): Promise<void> {
  const keep = new Set(rendered.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`));
  for (const [apiVersion, kind] of PRUNE_KINDS) {
    const ref = resourceOf(apiVersion, kind);
    for (const obj of await client.list(ref, undefined, 'operator.istio.io/component')) {
      if (!keep.has(`${kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`)) await client.delete(ref, obj.metadata.name, obj.metadata.namespace);
    }
  }
}

/**
 * operator/pkg/util/progress: on a terminal, one yellow line rewritten in place says what is
 * being processed and waited for; finished components print their ✔ line above it.
 */
class Progress {
  private readonly active = new Map<string, string[]>();
  /** The line on screen now, if any: redrawn only when it changes. */
  private shown = '';

  constructor(private readonly io: CommandIO) {}

  begin(title: string): void {
    this.active.set(title, []);
    this.draw();
  }

  waiting(title: string, names: string[]): void {
    this.active.set(title, names);
    this.draw();
  }

  done(title: string, line: string): void {
    this.active.delete(title);
    this.clear();
    this.io.out(`${line}\n`);
    this.draw();
  }

  private clear(): void {
    if (this.shown) this.io.out('\r\x1b[2K');
    this.shown = '';
  }

  private draw(): void {
    if (!this.io.tty) return;
    const labels = [...this.active.keys()].map((t) => t.replace(/ installed.*$/, ''));
    const waiting = [...this.active.values()].flat();
    const line = labels.length ? `\x1b[33m-\x1b[0m Processing resources for ${labels.join(', ')}.${waiting.length ? ` Waiting for ${waiting.join(', ')}` : ''}` : '';
    if (line === this.shown) return;
    this.clear();
    if (line) this.io.out(line);
    this.shown = line;
  }
}

export function manifestGenerate(io: CommandIO, o: { files: string[]; sets: string[] }): number {
  const spec = resolve(o.files, o.sets);
  const docs = renderInstall(spec).flatMap((c) => c.objects);
  io.out(docs.map((d) => YAML.stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'));
  return EXIT.ok;
}

/** Kinds the purge looks through, in prune.go's order (namespaced, then cluster-scoped, then CRDs). */
const PRUNE_KINDS: [string, string][] = [
  ['apps/v1', 'Deployment'],
  ['v1', 'Service'],
  ['v1', 'ConfigMap'],
  ['v1', 'ServiceAccount'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
  ['rbac.authorization.k8s.io/v1', 'Role'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
  ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration'],
  ['admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
];

/** Go's GroupVersionKind String(): "apps/v1, Kind=Deployment", "/v1, Kind=Service". */
function gvkString(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return `${group}/${version}, Kind=${kind}`;
}

export interface UninstallOptions extends ClientOptions {
  purge: boolean;
  revision?: string;
  files: string[];
  skipConfirmation: boolean;
}

export async function uninstall(io: CommandIO, o: UninstallOptions): Promise<number> {
  if (!o.purge && !o.revision && !o.files.length) {
    throw new CommandError('at least one of the --revision (or --set revision=<revision>), --filename or --purge flags must be set');
  }
  const client = await connect(o);
  try {
    if (!o.skipConfirmation) {
      io.out('All Istio resources will be pruned from the cluster\n');
      if (!(await confirm(io, 'Proceed? (y/N)'))) {
        io.out('Cancelled.\n');
        return EXIT.unknown;
      }
    }
    // Without --purge only one revision's control plane goes (the default one unless named).
    const selector = o.purge ? 'operator.istio.io/component' : `istio.io/rev=${o.revision ?? 'default'}`;
    await removeAll(client, io, selector, o.purge);
    io.out('✔ Uninstall complete\n');
    return EXIT.ok;
  } finally {
    client.close();
  }
}

async function removeAll(client: KubeClient, io: CommandIO, selector: string, purge: boolean): Promise<void> {
  for (const [apiVersion, kind] of PRUNE_KINDS) {
    const ref = resourceOf(apiVersion, kind);
    const found = await client.list(ref, undefined, selector);
    for (const obj of found) {
      const gone = !(await client.delete(ref, obj.metadata.name, obj.metadata.namespace));
      io.out(gone ? `object: ${obj.metadata.name} is not being deleted because it no longer exists\n` : `  Removed ${gvkString(apiVersion, kind)}/${obj.metadata.name}.${obj.metadata.namespace ?? ''}.\n`);
    }
  }
  if (!purge) return;
  const crdRef = resourceOf('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
  // Purge removes every Istio CRD, also ones another tool created (it matches by group).
  const crds = (await client.list(crdRef)).filter((c) => /\.istio\.io$/.test(c.metadata.name));
  const known = new Set(CRD_DEFS.map((d) => `${d.plural}.${d.group}`));
  crds.sort((a, b) => Number(known.has(b.metadata.name)) - Number(known.has(a.metadata.name)) || a.metadata.name.localeCompare(b.metadata.name));
  for (const crd of crds) {
    if (await client.delete(crdRef, crd.metadata.name)) io.out(`  Removed ${gvkString('apiextensions.k8s.io/v1', 'CustomResourceDefinition')}/${crd.metadata.name}..\n`);
  }
}
