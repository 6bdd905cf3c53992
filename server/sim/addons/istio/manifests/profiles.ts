/**
 * Installation profiles and the IstioOperator settings istioctl accepts (`--set`, `-f`), reduced
 * to what the embedded cluster renders. The profile files' text is what the release ships under
 * manifests/profiles/.
 */
import YAML from 'yaml';

export const PROFILE_NAMES = ['ambient', 'default', 'demo', 'empty', 'minimal', 'openshift', 'openshift-ambient', 'preview', 'remote', 'stable'] as const;
/** Profiles whose objects the embedded cluster renders (ambient needs CNI and ztunnel, remote a primary cluster). */
export const SUPPORTED_PROFILES = ['default', 'demo', 'minimal', 'empty'];

export interface GatewaySpec {
  name: string;
  enabled: boolean;
}

export interface IstioOperatorSpec {
  profile: string;
  hub: string;
  tag: string;
  revision: string;
  components: {
    base: { enabled: boolean };
    pilot: { enabled: boolean };
    ingressGateways: GatewaySpec[];
    egressGateways: GatewaySpec[];
  };
  meshConfig: Record<string, unknown>;
  values: Record<string, unknown>;
}

/** The files under manifests/profiles/ (the overlay each profile applies to default.yaml). */
export const PROFILE_FILES: Record<string, string> = {
  'default.yaml': `# The default profile is the base of every other profile.
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  namespace: istio-system
spec:
  hub: docker.io/istio
  tag: 1.30.3

  # You may override parts of meshconfig by uncommenting the following lines.
  meshConfig:
    defaultConfig:
      proxyMetadata: {}
    enablePrometheusMerge: true

  components:
    base:
      enabled: true
    pilot:
      enabled: true
    ingressGateways:
    - name: istio-ingressgateway
      enabled: true
    egressGateways:
    - name: istio-egressgateway
      enabled: false
`,
  'demo.yaml': `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  components:
    egressGateways:
    - name: istio-egressgateway
      enabled: true
  values:
    profile: demo
`,
  'minimal.yaml': `# The minimal profile will install just the core control plane
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  components:
    ingressGateways:
    - name: istio-ingressgateway
      enabled: false
`,
  'empty.yaml': `# The empty profile has everything disabled
# This is useful as a base for custom user configuration
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  components:
    base:
      enabled: false
    pilot:
      enabled: false
    ingressGateways:
    - name: istio-ingressgateway
      enabled: false
`,
  'ambient.yaml': `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  profile: ambient
`,
  'preview.yaml': `# The preview profile contains features that are experimental.
# This is intended to explore new features coming to Istio.
# Stability, security, and performance are not guaranteed - use at your own risk.
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
    defaultConfig:
      proxyMetadata:
        # Enable Istio agent to handle DNS requests for known hosts
        # Unknown hosts will automatically be resolved using upstream dns servers in resolv.conf
        ISTIO_META_DNS_CAPTURE: "true"
  values:
    profile: preview
`,
  'remote.yaml': `# Deprecated. Use the \`default\` profile instead.
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec: {}
`,
  'stable.yaml': `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  values:
    profile: stable
`,
  'openshift.yaml': `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  values:
    global:
      platform: openshift
    profile: openshift
`,
  'openshift-ambient.yaml': `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  profile: ambient
  values:
    global:
      platform: openshift
    profile: ambient
`,
};

export class InstallError extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge for IstioOperator overlays: maps merge, gateway lists merge by name, other values replace. */
function overlay(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    if (isObject(b) && isObject(v)) out[k] = overlay(b, v);
    else if ((k === 'ingressGateways' || k === 'egressGateways') && Array.isArray(b) && Array.isArray(v)) {
      const merged = (b as Record<string, unknown>[]).map((g) => ({ ...g }));
      for (const g of v as Record<string, unknown>[]) {
        const i = merged.findIndex((m) => m.name === g.name);
        if (i >= 0) merged[i] = overlay(merged[i]!, g);
        else merged.push(g);
      }
      out[k] = merged;
    } else out[k] = v;
  }
  return out;
}

function specOf(text: string, file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new InstallError(`could not parse ${file}: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new InstallError(`${file} is not an IstioOperator`);
  if (doc.kind !== undefined && doc.kind !== 'IstioOperator') throw new InstallError(`${file}: expected kind IstioOperator, got ${String(doc.kind)}`);
  return isObject(doc.spec) ? doc.spec : {};
}

/** `a.b[0].c=v` → the nested object; values are YAML scalars as Istio's strvals reads them. */
export function setPath(target: Record<string, unknown>, expr: string): void {
  const eq = expr.indexOf('=');
  if (eq <= 0) throw new InstallError(`--set ${expr}: expected key=value`);
  const key = expr.slice(0, eq);
  const raw = expr.slice(eq + 1);
  let value: unknown = raw;
  if (raw === 'true' || raw === 'false') value = raw === 'true';
  else if (/^-?\d+$/.test(raw) && raw.length < 16) value = Number(raw);
  const parts = key.split('.').flatMap((p) => {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(p);
    if (!m) throw new InstallError(`--set ${expr}: invalid path element ${p}`);
    return [m[1]!, ...[...m[2]!.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]))];
  });
  let cur: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const last = i === parts.length - 1;
    const nextIsIndex = typeof parts[i + 1] === 'number';
    const container = cur as Record<string | number, unknown>;
    if (last) container[p] = value;
    else {
      if (container[p] === undefined || typeof container[p] !== 'object') container[p] = nextIsIndex ? [] : {};
      cur = container[p] as Record<string, unknown>;
    }
  }
}

const TOP_LEVEL = new Set(['profile', 'hub', 'tag', 'revision', 'namespace', 'components', 'meshConfig', 'values', 'installPackagePath']);

/**
 * The effective spec: default.yaml, then the profile's overlay, then files, then --set, as
 * istioctl's operator/pkg/render merges them. Unknown top-level keys are refused as Istio does.
 */
export function resolveSpec(files: { name: string; text: string }[], sets: string[]): IstioOperatorSpec {
  const user: Record<string, unknown>[] = files.map((f) => specOf(f.text, f.name));
  const setSpec: Record<string, unknown> = {};
  for (const s of sets) {
    setPath(setSpec, s.startsWith('spec.') ? s.slice(5) : s);
  }
  user.push(setSpec);
  for (const u of user) {
    for (const k of Object.keys(u)) if (!TOP_LEVEL.has(k)) throw new InstallError(`unknown field "${k}" in IstioOperator spec`);
  }
  const userMerged = user.reduce((acc, u) => overlay(acc, u), {} as Record<string, unknown>);
  const profile = typeof userMerged.profile === 'string' ? userMerged.profile : 'default';
  if (!(PROFILE_NAMES as readonly string[]).includes(profile)) {
    throw new InstallError(`could not read profile "${profile}": profile does not exist`);
  }
  if (!SUPPORTED_PROFILES.includes(profile)) {
    throw new InstallError(`profile "${profile}" is not supported by the embedded cluster (supported: ${SUPPORTED_PROFILES.join(', ')}); use the real istioctl against a real cluster`);
  }
  let merged = specOf(PROFILE_FILES['default.yaml']!, 'default.yaml');
  if (profile !== 'default') merged = overlay(merged, specOf(PROFILE_FILES[`${profile}.yaml`]!, `${profile}.yaml`));
  merged = overlay(merged, userMerged);
  const comps = (merged.components ?? {}) as Record<string, unknown>;
  const enabled = (c: unknown) => isObject(c) && c.enabled !== false && c.enabled !== 'false';
  const gateways = (list: unknown): GatewaySpec[] =>
    (Array.isArray(list) ? list : []).filter(isObject).map((g) => ({ name: String(g.name ?? ''), enabled: g.enabled === true || g.enabled === 'true' }));
  for (const g of [...gateways(comps.ingressGateways), ...gateways(comps.egressGateways)]) {
    if (!g.name) throw new InstallError('gateway name must be set');
  }
  const values = (merged.values ?? {}) as Record<string, unknown>;
  checkValues(values);
  if (profile !== 'default' && values.profile === undefined) values.profile = profile;
  return {
    profile,
    hub: String(merged.hub ?? 'docker.io/istio'),
    tag: String(merged.tag ?? '1.30.3'),
    revision: String(merged.revision ?? ''),
    components: {
      base: { enabled: enabled(comps.base) },
      pilot: { enabled: enabled(comps.pilot) },
      ingressGateways: gateways(comps.ingressGateways),
      egressGateways: gateways(comps.egressGateways),
    },
    meshConfig: (merged.meshConfig ?? {}) as Record<string, unknown>,
    values,
  };
}

/** Top-level `values` fields of Istio 1.30's Values message (operator/pkg/apis/values_types.proto). */
const VALUES_FIELDS = new Set(['cni', 'gateways', 'global', 'pilot', 'ztunnel', 'telemetry', 'sidecarInjectorWebhook', 'istiodRemote', 'revision', 'ownerName', 'meshConfig', 'base', 'istio_cni', 'revisionTags', 'defaultRevision', 'profile', 'compatibilityVersion', 'experimental', 'gatewayClasses', 'platform', 'resourceScope']);

/**
 * istioctl validates `values` against its proto and refuses unknown fields (istio/istio#24522 shows
 * the message). `global.mtls` is the one lessons meet: removed in 1.6 (strict mTLS is a PeerAuthentication).
 */
function checkValues(values: Record<string, unknown>): void {
  for (const k of Object.keys(values)) {
    if (!VALUES_FIELDS.has(k)) throw new InstallError(`validation errors (use --force to override): \nunknown field "${k}" in v1alpha1.Values`);
  }
  const global = values.global;
  if (isObject(global) && global.mtls !== undefined) {
    throw new InstallError('validation errors (use --force to override): \nunknown field "mtls" in v1alpha1.GlobalConfig');
  }
}
