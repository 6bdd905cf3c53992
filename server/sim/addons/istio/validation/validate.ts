/**
 * Istio's config validation (pkg/config/validation) for the checks the lessons meet, worded as
 * istiod words them; the webhook prefixes `configuration is invalid: `. Schema errors (unknown
 * fields, enums, required host) never get here: the CRDs' structural schemas refuse them first.
 */
type Obj = Record<string, any>;

/** Go regexp's parse error for a pattern RE2 refuses, approximated from the common mistakes. */
export function re2Error(re: string): string | undefined {
  try {
    new RegExp(re, 'u');
  } catch {
    const open = re.lastIndexOf('[');
    if (open >= 0 && !re.slice(open).includes(']')) return `error parsing regexp: missing closing ]: \`${re.slice(open)}\``;
    let depth = 0;
    for (const ch of re.replace(/\\./g, '')) {
      if (ch === '(') depth++;
      else if (ch === ')' && --depth < 0) return `error parsing regexp: unexpected ): \`${re}\``;
    }
    if (depth > 0) return `error parsing regexp: missing closing ): \`${re}\``;
    const rep = /(^|[(|])([*+?])/.exec(re);
    if (rep) return `error parsing regexp: missing argument to repetition operator: \`${rep[2]}\``;
    return `error parsing regexp: invalid or unsupported Perl syntax: \`${re.slice(0, 2)}\``;
  }
  if (/\(\?[=!<]/.test(re)) return `error parsing regexp: invalid or unsupported Perl syntax: \`${/\(\?[=!<]/.exec(re)![0]}\``;
  if (/\\[1-9]/.test(re)) return `error parsing regexp: invalid escape sequence: \`${/\\[1-9]/.exec(re)![0]}\``;
  return undefined;
}

function validateStringMatch(name: string, m: Obj | undefined): string[] {
  if (!m || typeof m !== 'object' || m.regex === undefined) return [];
  const re = String(m.regex);
  if (re === '') return [`"${name}": regex string match should not be empty`];
  if (re.length > 1024) return [`"${name}": regex is too large, max length allowed is 1024`];
  const err = re2Error(re);
  return err ? [`"${name}": ${err}; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)`] : [];
}

function validateWeights(routes: Obj[] | undefined): string[] {
  if (!Array.isArray(routes)) return [];
  const errs: string[] = [];
  let total = 0;
  for (const r of routes) {
    if (!r?.destination) errs.push('destination is required');
    const w = Number(r?.weight ?? 0);
    if (w < 0) errs.push(`weight ${w} < 0`);
    total += w;
  }
  if (routes.length > 1 && total === 0) errs.push('total destination weight = 0');
  return errs;
}

function validateVirtualService(spec: Obj): string[] {
  const errs: string[] = [];
  const hosts: string[] = spec.hosts ?? [];
  const gateways: string[] = spec.gateways ?? [];
  if (!hosts.length && gateways.length) errs.push('delegate virtual service must have no gateways specified');
  const boundToMesh = !gateways.length || gateways.includes('mesh');
  if (hosts.length && boundToMesh && hosts.includes('*')) errs.push('wildcard host * is not allowed for virtual services bound to the mesh gateway');
  if (!spec.http?.length && !spec.tcp?.length && !spec.tls?.length) errs.push('http, tcp or tls must be provided in virtual service');
  for (const http of spec.http ?? []) {
    if (!http || typeof http !== 'object') continue;
    for (const m of http.match ?? []) {
      if (!m) continue;
      for (const f of ['uri', 'scheme', 'method', 'authority'] as const) errs.push(...validateStringMatch(f, m[f]));
      for (const [h, v] of Object.entries((m.headers ?? {}) as Obj)) errs.push(...validateStringMatch(h, v as Obj));
      for (const [q, v] of Object.entries((m.queryParams ?? {}) as Obj)) errs.push(...validateStringMatch(q, v as Obj));
    }
    if (!http.route?.length && !http.redirect && !http.directResponse && !http.delegate) errs.push('HTTP route or redirect is required');
    errs.push(...validateWeights(http.route));
  }
  for (const t of [...(spec.tcp ?? []), ...(spec.tls ?? [])]) errs.push(...validateWeights(t?.route));
  return errs;
}

function validateDestinationRule(spec: Obj): string[] {
  const errs: string[] = [];
  const check = (tp: Obj | undefined) => {
    for (const d of tp?.loadBalancer?.localityLbSetting?.distribute ?? []) {
      const total = Object.values((d?.to ?? {}) as Record<string, number>).reduce((a, b) => a + Number(b), 0);
      if (total !== 100) errs.push(`total locality weight ${total} != 100`);
    }
  };
  check(spec.trafficPolicy);
  for (const s of spec.subsets ?? []) {
    if (!s?.name) errs.push('name is required');
    check(s?.trafficPolicy);
  }
  return errs;
}

function validateGateway(spec: Obj): string[] {
  if (!spec.servers?.length) return ['gateway must have at least one server'];
  const errs: string[] = [];
  for (const s of spec.servers) if (!s?.hosts?.length) errs.push('server config must contain at least one host');
  return errs;
}

const VALIDATORS: Record<string, (spec: Obj) => string[]> = {
  VirtualService: validateVirtualService,
  DestinationRule: validateDestinationRule,
  Gateway: validateGateway,
};

/** The error istiod returns for an object (hashicorp multierror when several), or undefined when valid. */
export function validateIstioConfig(obj: Obj): string | undefined {
  const v = VALIDATORS[obj?.kind];
  if (!v) return undefined;
  const errs = v(obj.spec ?? {});
  if (!errs.length) return undefined;
  if (errs.length === 1) return errs[0];
  return `${errs.length} errors occurred:\n${errs.map((e) => `\t* ${e}`).join('\n')}\n\n`;
}
