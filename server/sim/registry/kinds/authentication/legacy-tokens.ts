/**
 * kube-controller-manager's tokens controller for legacy ServiceAccount token Secrets: a Secret
 * of type `kubernetes.io/service-account-token` naming a ServiceAccount in its
 * `kubernetes.io/service-account.name` annotation gets `token`, `ca.crt` and `namespace` (and
 * the ServiceAccount's uid annotation); it is deleted when its ServiceAccount is missing or gone.
 */
import { bucketOf, type ObjectStore } from '../../../storage/store.js';
import type { ResourceRegistry } from '../../registry.js';
import type { RestStorage } from '../../rest.js';
import type { KubeObject } from '../../../types.js';
import { StoreReconciler } from '../../../controllers/store-reconciler.js';
import type { ServiceAccountTokens } from './tokens.js';

type Obj = Record<string, any>;

const SECRETS = bucketOf('', 'secrets');
const SERVICE_ACCOUNTS = bucketOf('', 'serviceaccounts');
const CONFIGMAPS = bucketOf('', 'configmaps');
const TYPE = 'kubernetes.io/service-account-token';
const NAME = 'kubernetes.io/service-account.name';
const UID = 'kubernetes.io/service-account.uid';

export class LegacyTokenController extends StoreReconciler {
  constructor(
    store: ObjectStore,
    registry: ResourceRegistry,
    rest: RestStorage,
    private readonly tokens: ServiceAccountTokens,
  ) {
    super(store, registry, rest, (e, enqueue) => {
      if (e.bucket === SECRETS && e.type !== 'DELETED' && (e.object as Obj).type === TYPE) enqueue(`${e.namespace}/${e.object.metadata.name}`);
      if (e.bucket === SERVICE_ACCOUNTS && e.type === 'DELETED') {
        for (const s of store.list(SECRETS, e.namespace, true) as Obj[]) if (s.type === TYPE && s.metadata.annotations?.[NAME] === e.object.metadata.name) enqueue(`${e.namespace}/${s.metadata.name}`);
      }
    });
  }

  protected async reconcile(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const secret = this.store.get(SECRETS, ns, name) as Obj | undefined;
    if (!secret || secret.type !== TYPE || secret.metadata.deletionTimestamp) return;
    const saName = secret.metadata.annotations?.[NAME];
    const sa = saName ? (this.store.peek(SERVICE_ACCOUNTS, ns, saName) as Obj | undefined) : undefined;
    const secretsDef = this.registry.lookup('', 'v1', 'secrets')!;
    const wantUid = secret.metadata.annotations?.[UID];
    if (!sa || (wantUid && wantUid !== sa.metadata.uid)) {
      try {
        await this.rest.delete(secretsDef, ns, name, {}, {});
      } catch {
        /* already gone */
      }
      return;
    }
    const data: Record<string, string> = { ...(secret.data ?? {}) };
    if (data.token && wantUid) return;
    const ca = (this.store.peek(CONFIGMAPS, ns, 'kube-root-ca.crt') as Obj | undefined)?.data?.['ca.crt'] ?? '';
    data['ca.crt'] = Buffer.from(ca).toString('base64');
    data.namespace = Buffer.from(ns).toString('base64');
    data.token = Buffer.from(this.tokens.legacyToken(sa, secret)).toString('base64');
    secret.data = data;
    secret.metadata.annotations = { ...secret.metadata.annotations, [UID]: sa.metadata.uid };
    try {
      await this.rest.update(secretsDef, ns, name, secret as KubeObject, { fieldManager: 'kube-controller-manager' });
    } catch {
      this.enqueue(key); // changed in between: look again
    }
  }
}
