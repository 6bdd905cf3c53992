/**
 * istiod's validation webhook controller: the validating webhooks are created with
 * `failurePolicy: Ignore` and istiod patches them to `Fail` once it serves (as the chart's
 * comments describe), so invalid config is refused even while istiod restarts.
 */
import type { ClusterApi } from '../api.js';

type Obj = Record<string, any>;

const BUCKET_GROUP = 'admissionregistration.k8s.io';

export function webhookController(api: ClusterApi, serving: () => boolean): { istiodReady(): Promise<void>; stop(): void } {
  const def = () => api.kinds.lookup(BUCKET_GROUP, 'v1', 'validatingwebhookconfigurations');
  const fix = async (cfg: Obj) => {
    const d = def();
    if (!d || cfg.metadata?.labels?.app !== 'istiod') return;
    const ops = (cfg.webhooks ?? []).flatMap((w: Obj, i: number) => (w.failurePolicy === 'Fail' ? [] : [{ op: 'replace', path: `/webhooks/${i}/failurePolicy`, value: 'Fail' }]));
    if (!ops.length) return;
    try {
      await api.rest.patch(d, '', cfg.metadata.name, 'json', ops, { fieldManager: 'pilot-discovery', user: 'system:serviceaccount:istio-system:istiod' });
    } catch (e) {
      api.log.warn(`istiod: patching ${cfg.metadata.name} failed: ${(e as Error).message}`);
    }
  };
  const all = () => {
    const d = def();
    return d ? (api.store.list(d.bucket) as Obj[]) : [];
  };
  const unwatch = api.store.onAnyChange((e) => {
    if (serving() && e.type !== 'DELETED' && e.bucket === def()?.bucket) void fix(e.object as Obj);
  });
  return {
    async istiodReady() {
      for (const cfg of all()) await fix(cfg);
    },
    stop: () => void unwatch(),
  };
}
