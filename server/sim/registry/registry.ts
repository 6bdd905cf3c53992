/**
 * Which resources the cluster serves right now: the kinds written in code (the built-in ones of
 * kinds/, and any an add-on adds with addKind) plus one entry per served version of every
 * established CustomResourceDefinition, kept in step with the CRDs in the store.
 */
import type { KubeObject } from '../types.js';
import { bucketOf, type ObjectStore } from '../storage/store.js';
import { resolveKind, type KindDefinition } from './kind.js';
import { ALL_VERBS, type ResourceDef, type Strategy } from './resource.js';
import { validateObjectMeta } from './strategies/meta.js';

type Obj = Record<string, any>;

export const CRD_BUCKET = bucketOf('apiextensions.k8s.io', 'customresourcedefinitions');

/** The strategy every custom resource gets: metadata rules; schema checks come from field validation. */
function customStrategy(namespaced: boolean, statusSubresource: boolean): Strategy {
  return {
    generation: true,
    validate(obj) {
      return validateObjectMeta(obj, 'subdomain', namespaced);
    },
    prepareForCreate(obj) {
      if (statusSubresource) delete (obj as Obj).status;
    },
  };
}

const gvrKey = (d: { group: string; version: string; resource: string }) => `${d.group}/${d.version}/${d.resource}`;

export class ResourceRegistry {
  /** Resources of kinds written in code, in discovery order. */
  private code: ResourceDef[];
  private custom: ResourceDef[] = [];
  private byGVR = new Map<string, ResourceDef>();
  private readonly unsubscribe: () => void;
  /** Called after the set of served resources changed (discovery caches drop). */
  onChange?: () => void;

  constructor(
    kinds: readonly KindDefinition[],
    private readonly store: ObjectStore,
  ) {
    this.code = kinds.map((k) => resolveKind(k, { store }));
    this.rebuild();
    this.unsubscribe = store.onAnyChange((e) => {
      if (e.bucket === CRD_BUCKET && !this.batching) this.syncCRDs();
    });
  }

  private batching = false;

  /** Runs `fn` (a whole state replaced in one pass) with one CRD sync after it instead of one per CRD change. */
  batch<T>(fn: () => T): T {
    this.batching = true;
    try {
      return fn();
    } finally {
      this.batching = false;
      this.syncCRDs();
    }
  }

  close(): void {
    this.unsubscribe();
  }

  all(): ResourceDef[] {
    return [...this.code, ...this.custom];
  }

  /** The served resources of kinds written in code (not a CRD's): what OpenAPI publishes from models. */
  codeKinds(): readonly ResourceDef[] {
    return this.code;
  }

  /**
   * Serves one more kind written in code (an add-on's), from now on: discovery, OpenAPI, Tables,
   * managed fields and strategic merge follow from its definition. Returns a function that stops
   * serving it (its stored objects stay, as a CRD's do until the CRD is deleted).
   */
  addKind(def: KindDefinition): () => void {
    const served = resolveKind(def, { store: this.store });
    if (this.byGVR.has(gvrKey(served))) throw new Error(`the cluster already serves ${gvrKey(served)}`);
    this.code = [...this.code, served];
    this.rebuild();
    this.onChange?.();
    return () => {
      if (!this.code.includes(served)) return;
      this.code = this.code.filter((d) => d !== served);
      this.rebuild();
      this.onChange?.();
    };
  }

  lookup(group: string, version: string, resource: string): ResourceDef | undefined {
    return this.byGVR.get(`${group}/${version}/${resource}`);
  }

  /** Any served version of a group/resource (for errors and GC, which work by group/kind). */
  byKind(group: string, kind: string): ResourceDef | undefined {
    return this.all().find((d) => d.group === group && d.kind === kind && d.preferred) ?? this.all().find((d) => d.group === group && d.kind === kind);
  }

  byApiVersionKind(apiVersion: string, kind: string): ResourceDef | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    return this.all().find((d) => d.group === group && d.version === version && d.kind === kind) ?? this.byKind(group, kind);
  }

  /** Distinct buckets with their preferred definition. */
  buckets(): ResourceDef[] {
    const seen = new Map<string, ResourceDef>();
    for (const d of this.all()) {
      // A converted view (autoscaling/v1 HPAs, events.k8s.io Events) never stands for its storage.
      const cur = seen.get(d.bucket);
      if (!cur || (!d.convert && (d.preferred || cur.convert))) seen.set(d.bucket, d);
    }
    return [...seen.values()];
  }

  /** The stored CRDs, shared with the store: callers only read them. */
  crds(): KubeObject[] {
    return this.store.list(CRD_BUCKET, undefined, true);
  }

  /** One stored CRD by name, shared with the store (read only). */
  crd(name: string): KubeObject | undefined {
    return this.store.peek(CRD_BUCKET, '', name);
  }

  private rebuild(): void {
    this.byGVR = new Map(this.all().map((d) => [gvrKey(d), d]));
  }

  /** Rebuilds the custom resources from the stored CRDs. */
  syncCRDs(): void {
    const next: ResourceDef[] = [];
    for (const crd of this.store.list(CRD_BUCKET) as Obj[]) {
      if (crd.metadata.deletionTimestamp) continue;
      next.push(...crdResources(crd));
    }
    const before = JSON.stringify(this.custom.map(summary));
    this.custom = next;
    this.rebuild();
    if (JSON.stringify(next.map(summary)) !== before) this.onChange?.();
  }
}

const summary = (d: ResourceDef) => [d.group, d.version, d.resource, d.kind, d.namespaced, d.shortNames, d.categories, d.status, !!d.scale, d.printerColumns];

/** Kube orders versions: GA over beta over alpha, higher numbers first (version.CompareKubeAwareVersionStrings). */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = v.match(/^v(\d+)(?:(alpha|beta)(\d+))?$/);
    if (!m) return [0, 0, 0, v] as const;
    return [1, Number(m[1]), m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, Number(m[3] ?? 0)] as const;
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa[0] !== pb[0]) return pb[0] - pa[0];
  if (pa[0] === 0) return a < b ? -1 : 1;
  if (pa[2] !== pb[2]) return (pb[2] as number) - (pa[2] as number);
  if (pa[1] !== pb[1]) return (pb[1] as number) - (pa[1] as number);
  return (pb[3] as number) - (pa[3] as number);
}

export function crdResources(crd: Obj): ResourceDef[] {
  const s = crd.spec ?? {};
  const names = s.names ?? {};
  const namespaced = s.scope === 'Namespaced';
  const served = (s.versions ?? []).filter((v: Obj) => v?.served);
  const sorted = [...served].sort((a: Obj, b: Obj) => compareKubeVersions(a.name, b.name));
  const preferred = sorted[0]?.name;
  return served.map((v: Obj) => {
    const status = v.subresources?.status !== undefined;
    const sc = v.subresources?.scale;
    return {
      group: s.group,
      version: v.name,
      resource: names.plural,
      kind: names.kind,
      listKind: names.listKind ?? `${names.kind}List`,
      singular: names.singular ?? String(names.kind).toLowerCase(),
      namespaced,
      shortNames: names.shortNames,
      categories: names.categories,
      verbs: ALL_VERBS,
      status,
      scale: sc
        ? { specReplicasPath: jsonPath(sc.specReplicasPath), statusReplicasPath: jsonPath(sc.statusReplicasPath), labelSelectorPath: sc.labelSelectorPath ? jsonPath(sc.labelSelectorPath) : undefined }
        : undefined,
      strategy: customStrategy(namespaced, status),
      bucket: bucketOf(s.group, names.plural),
      crd: crd.metadata.name,
      printerColumns: v.additionalPrinterColumns,
      preferred: v.name === preferred,
    } satisfies ResourceDef;
  });
}

const jsonPath = (p: string | undefined) => (p ?? '').replace(/^\./, '').split('.').filter(Boolean);
