/**
 * ServiceAccount tokens as kube-apiserver issues and checks them (pkg/serviceaccount): JWTs
 * signed with the cluster's key (ES256 here: the serving key, kept across restarts), bound to
 * the ServiceAccount's uid and, for a TokenRequest with a boundObjectRef, to a Pod or Secret
 * that must still exist. A token whose objects are gone, or that expired, authenticates nobody.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { bucketOf, type ObjectStore } from '../../../storage/store.js';
import { serviceAccountGroups, serviceAccountUsername, ALL_AUTHENTICATED, type UserInfo } from './user.js';

type Obj = Record<string, any>;

/** kubeadm's --service-account-issuer and the API audiences it implies. */
export const ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const API_AUDIENCES = [ISSUER];
const LEGACY_ISSUER = 'kubernetes/serviceaccount';
/** token.WarnOnlyBoundTokenExpirationSeconds and ExpirationExtensionSeconds (pkg/serviceaccount). */
const WARN_ONLY_EXPIRATION = 3607;
const EXTENDED_EXPIRATION = 24 * 365 * 60 * 60;

const SERVICE_ACCOUNTS = bucketOf('', 'serviceaccounts');
const PODS = bucketOf('', 'pods');
const SECRETS = bucketOf('', 'secrets');
const NODES = bucketOf('', 'nodes');

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** JSON with keys sorted at every level, as go-jose serialises merged claims. */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Obj)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((v as Obj)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export interface BoundObject {
  kind: 'Pod' | 'Secret';
  name: string;
  uid: string;
}

export class ServiceAccountTokens {
  private readonly key: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly kid: string;

  constructor(
    private readonly store: ObjectStore,
    keyPem: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.key = createPrivateKey(keyPem);
    this.publicKey = createPublicKey(this.key);
    this.kid = b64url(createHash('sha256').update(this.publicKey.export({ type: 'spki', format: 'der' })).digest());
  }

  private signJwt(claims: Obj): string {
    const head = b64url(JSON.stringify({ alg: 'ES256', kid: this.kid }));
    const body = b64url(sortedJson(claims));
    const sig = sign('sha256', Buffer.from(`${head}.${body}`), { key: this.key, dsaEncoding: 'ieee-p1363' });
    return `${head}.${body}.${b64url(sig)}`;
  }

  /** A TokenRequest's token for a ServiceAccount (and the object it is bound to). */
  issue(sa: Obj, opts: { expirationSeconds: number; audiences: string[]; bound?: BoundObject }): { token: string; expirationTimestamp: string } {
    const iat = Math.floor(this.now().getTime() / 1000);
    // kube-apiserver's --service-account-extend-token-expiration (on by default): the kubelet's
    // pod-bound 3607 s token for the API is valid a year, with a warnafter at 3607 s.
    const extended = opts.bound?.kind === 'Pod' && opts.expirationSeconds === WARN_ONLY_EXPIRATION && opts.audiences.every((a) => API_AUDIENCES.includes(a));
    const exp = iat + (extended ? EXTENDED_EXPIRATION : opts.expirationSeconds);
    const ns = sa.metadata.namespace;
    const k8s: Obj = { namespace: ns, serviceaccount: { name: sa.metadata.name, uid: sa.metadata.uid } };
    if (extended) k8s.warnafter = iat + WARN_ONLY_EXPIRATION;
    if (opts.bound?.kind === 'Pod') {
      k8s.pod = { name: opts.bound.name, uid: opts.bound.uid };
      const pod = this.store.peek(PODS, ns, opts.bound.name) as Obj | undefined;
      const nodeName = pod?.spec?.nodeName;
      const node = nodeName ? (this.store.peek(NODES, '', nodeName) as Obj | undefined) : undefined;
      if (node) k8s.node = { name: nodeName, uid: node.metadata.uid };
    } else if (opts.bound?.kind === 'Secret') k8s.secret = { name: opts.bound.name, uid: opts.bound.uid };
    const token = this.signJwt({ aud: opts.audiences, exp, iat, iss: ISSUER, jti: randomUUID(), 'kubernetes.io': k8s, nbf: iat, sub: serviceAccountUsername(ns, sa.metadata.name) });
    return { token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z') };
  }

  /** The token a legacy `kubernetes.io/service-account-token` Secret carries (never expires). */
  legacyToken(sa: Obj, secret: Obj): string {
    const ns = sa.metadata.namespace;
    return this.signJwt({
      iss: LEGACY_ISSUER,
      'kubernetes.io/serviceaccount/namespace': ns,
      'kubernetes.io/serviceaccount/secret.name': secret.metadata.name,
      'kubernetes.io/serviceaccount/service-account.name': sa.metadata.name,
      'kubernetes.io/serviceaccount/service-account.uid': sa.metadata.uid,
      sub: serviceAccountUsername(ns, sa.metadata.name),
    });
  }

  /** Claims of a well-signed JWT from this cluster, or undefined. */
  private verified(token: string): Obj | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    try {
      const head = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      if (head?.alg !== 'ES256') return undefined;
      if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'))) return undefined;
      const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
      return claims && typeof claims === 'object' ? claims : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Who a token is (the TokenReview answer), with the audiences it is good for, or undefined when
   * it is not a valid token of this cluster (bad signature, expired, wrong audience, its
   * ServiceAccount, Pod or Secret gone or recreated).
   */
  authenticate(token: string, audiences: string[] = API_AUDIENCES): { user: UserInfo; audiences: string[] } | undefined {
    const c = this.verified(token);
    if (!c) return undefined;
    if (c.iss === LEGACY_ISSUER) return audiences.some((a) => API_AUDIENCES.includes(a)) ? this.legacy(c, token) : undefined;
    if (c.iss !== ISSUER) return undefined;
    const now = this.now().getTime() / 1000;
    if (typeof c.exp !== 'number' || now > c.exp || (typeof c.nbf === 'number' && now < c.nbf)) return undefined;
    const aud: string[] = Array.isArray(c.aud) ? c.aud : [c.aud];
    const matched = audiences.filter((a) => aud.includes(a));
    if (!matched.length) return undefined;
    const k = c['kubernetes.io'] ?? {};
    const ns = String(k.namespace ?? '');
    const sa = this.store.peek(SERVICE_ACCOUNTS, ns, String(k.serviceaccount?.name ?? '')) as Obj | undefined;
    if (!sa || sa.metadata.uid !== k.serviceaccount?.uid || sa.metadata.deletionTimestamp) return undefined;
    const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${c.jti}`] };
    if (k.pod) {
      const pod = this.store.peek(PODS, ns, String(k.pod.name)) as Obj | undefined;
      if (!pod || pod.metadata.uid !== k.pod.uid || pod.metadata.deletionTimestamp) return undefined;
      extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
    }
    if (k.secret) {
      const secret = this.store.peek(SECRETS, ns, String(k.secret.name)) as Obj | undefined;
      if (!secret || secret.metadata.uid !== k.secret.uid || secret.metadata.deletionTimestamp) return undefined;
    }
    if (k.node) {
      extra['authentication.kubernetes.io/node-name'] = [k.node.name];
      extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
    }
    return {
      user: { username: serviceAccountUsername(ns, sa.metadata.name), uid: sa.metadata.uid, groups: [...serviceAccountGroups(ns), ALL_AUTHENTICATED], extra },
      audiences: matched,
    };
  }

  private legacy(c: Obj, token: string): { user: UserInfo; audiences: string[] } | undefined {
    const ns = String(c['kubernetes.io/serviceaccount/namespace'] ?? '');
    const sa = this.store.peek(SERVICE_ACCOUNTS, ns, String(c['kubernetes.io/serviceaccount/service-account.name'] ?? '')) as Obj | undefined;
    if (!sa || sa.metadata.uid !== c['kubernetes.io/serviceaccount/service-account.uid']) return undefined;
    const secretName = String(c['kubernetes.io/serviceaccount/secret.name'] ?? '');
    const secret = this.store.peek(SECRETS, ns, secretName) as Obj | undefined;
    // A legacy token is only good while its Secret still holds it.
    if (!secret || Buffer.from(String(secret.data?.token ?? ''), 'base64').toString('utf8') !== token) return undefined;
    return {
      user: { username: serviceAccountUsername(ns, sa.metadata.name), uid: sa.metadata.uid, groups: [...serviceAccountGroups(ns), ALL_AUTHENTICATED], },
      audiences: API_AUDIENCES,
    };
  }
}
