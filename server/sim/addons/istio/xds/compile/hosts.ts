/**
 * Host names as pilot handles them (pkg/config/host): short names resolved against a config's
 * namespace, wildcard matching and subset tests, config visibility by exportTo.
 */

/**
 * ResolveShortnameToFQDN: `reviews` in namespace `default` → `reviews.default.svc.cluster.local`;
 * names with a dot stay as they are (`reviews.default` is NOT expanded, as in Istio); `*` stays.
 */
export function resolveShortname(h: string, namespace: string, suffix = 'cluster.local'): string {
  const name = h.toLowerCase();
  if (name === '*' || name.includes('.')) return name;
  // A short wildcard (`*`) stays; `foo` gets the namespace and the domain.
  return `${name}.${namespace}.svc.${suffix}`;
}

const isWild = (h: string) => h.startsWith('*');

/** host.Name.Matches: either side may be a wildcard (`*.example.com`, `*`). */
export function hostMatches(a: string, b: string): boolean {
  if (a === b) return true;
  const aw = isWild(a);
  const bw = isWild(b);
  if (aw && bw) {
    const as = a.slice(1);
    const bs = b.slice(1);
    return as.length > bs.length ? a.endsWith(bs) : b.endsWith(as);
  }
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return false;
}

/** host.Name.SubsetOf: every name `a` matches, `b` matches too. */
export function hostSubsetOf(a: string, b: string): boolean {
  if (a === b) return true;
  if (isWild(b)) {
    const bs = b.slice(1);
    return isWild(a) ? a.slice(1).endsWith(bs) : a.endsWith(bs);
  }
  return false;
}

/** host.Names.Intersection: for each pair that overlaps, the more specific of the two. */
export function intersectHosts(a: string[], b: string[]): string[] {
  const out: string[] = [];
  for (const x of a)
    for (const y of b) {
      const pick = hostSubsetOf(x, y) ? x : hostSubsetOf(y, x) ? y : undefined;
      if (pick && !out.includes(pick)) out.push(pick);
    }
  return out;
}

/** Whether a config (VirtualService, DestinationRule, Service) exported with `exportTo` is visible from `ns`. */
export function visibleFrom(exportTo: unknown, ownNs: string, ns: string): boolean {
  if (!Array.isArray(exportTo) || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || (e === '.' ? ownNs === ns : e === ns));
}
