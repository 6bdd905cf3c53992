/**
 * The part of kube-apiserver's ServiceAccount admission plugin that needs the ServiceAccount
 * itself: a pod that does not say whether to mount its token follows its ServiceAccount's
 * `automountServiceAccountToken` (shouldAutomount). The pod strategy has already added the
 * kube-api-access volume, knowing only the pod; a ServiceAccount saying false takes it out again.
 */
import { bucketOf, type ObjectStore } from '../../../storage/store.js';
import type { AdmissionPlugin } from '../../admission.js';

type Obj = Record<string, any>;

const SERVICE_ACCOUNTS = bucketOf('', 'serviceaccounts');
const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function serviceAccountAdmission(store: Pick<ObjectStore, 'peek'>): AdmissionPlugin {
  return {
    name: 'ServiceAccount',
    mutate(req) {
      if (req.operation !== 'CREATE' || req.resource.resource !== 'pods' || req.resource.group !== '' || req.subresource) return;
      const spec = (req.object as Obj | undefined)?.spec;
      if (!spec || typeof spec !== 'object' || spec.automountServiceAccountToken !== undefined) return;
      const sa = store.peek(SERVICE_ACCOUNTS, req.namespace ?? '', String(spec.serviceAccountName ?? 'default')) as Obj | undefined;
      if (sa?.automountServiceAccountToken !== false) return;
      const volumes: Obj[] = Array.isArray(spec.volumes) ? spec.volumes : [];
      const added = volumes.find((v) => typeof v?.name === 'string' && v.name.startsWith('kube-api-access-') && v.projected);
      if (!added) return;
      spec.volumes = volumes.filter((v) => v !== added);
      if (!spec.volumes.length) delete spec.volumes;
      for (const list of ['initContainers', 'containers']) {
        for (const c of (spec[list] ?? []) as Obj[]) {
          if (!Array.isArray(c?.volumeMounts)) continue;
          c.volumeMounts = c.volumeMounts.filter((m: Obj) => !(m?.name === added.name && m.mountPath === TOKEN_DIR));
          if (!c.volumeMounts.length) delete c.volumeMounts;
        }
      }
    },
  };
}
