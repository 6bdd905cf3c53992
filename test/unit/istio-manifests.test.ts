/**
 * The objects `istioctl install --set profile=demo` renders, compared with Istio 1.30.3's own
 * (the reference's istio_demo_install_1.30.json, from Istio's manifest-generate golden file and
 * crd-all.gen.yaml): names, labels, ports, images, service accounts, CRD versions and columns.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { REFERENCE_DIR } from '../helpers/reference.js';
import { resolveSpec } from '../../server/sim/addons/istio/manifests/profiles.js';
import { renderInstall } from '../../server/sim/addons/istio/manifests/render.js';
import type { KubeObject } from '../../server/sim/addons/istio/manifests/objects.js';

interface Ref {
  deployments: { name: string; podLabels: Record<string, string>; container: string; image: string; containerPorts: number[]; replicas: number; serviceAccount?: string }[];
  services: { name: string; type: string; ports: { name: string; port: number; targetPort?: number }[]; selector: Record<string, string> }[];
  serviceAccounts: string[];
  configMaps: string[];
  clusterScoped: Record<string, string[]>;
  namespacedRBAC: Record<string, string[]>;
  crds: { name: string; group: string; kind: string; plural: string; shortNames: string[]; categories: string[]; scope: string; versions: { name: string; served: boolean; storage: boolean; printerColumns: string[] }[] }[];
}

const ref = JSON.parse(fs.readFileSync(path.join(REFERENCE_DIR, 'istio_demo_install_1.30.json'), 'utf8')) as Ref;
const objects = renderInstall(resolveSpec([], ['profile=demo'])).flatMap((c) => c.objects);
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const names = (kind: string) => ofKind(kind).map((o) => o.metadata.name).sort();
type Any = Record<string, any>;

describe('demo profile objects', () => {
  it('has the Deployments of a real demo install', () => {
    expect(names('Deployment')).toEqual(ref.deployments.map((d) => d.name).sort());
    for (const r of ref.deployments) {
      const d = ofKind('Deployment').find((o) => o.metadata.name === r.name) as Any;
      const pod = d.spec.template;
      expect(pod.metadata.labels, r.name).toMatchObject(r.podLabels);
      expect(d.spec.replicas).toBe(r.replicas);
      const c = pod.spec.containers[0];
      expect(pod.spec.containers).toHaveLength(1);
      expect(c.name).toBe(r.container);
      expect(c.image).toBe(r.image.replace('<hub>', 'docker.io/istio').replace('<version>', '1.30.3'));
      expect(c.ports.map((p: Any) => p.containerPort)).toEqual(r.containerPorts);
      expect(pod.spec.serviceAccountName).toBe(r.serviceAccount ?? 'istiod');
    }
  });

  it('has the Services, ServiceAccounts and ConfigMaps', () => {
    expect(names('Service')).toEqual(ref.services.map((s) => s.name).sort());
    for (const r of ref.services) {
      const s = ofKind('Service').find((o) => o.metadata.name === r.name) as Any;
      expect(s.spec.type ?? 'ClusterIP').toBe(r.type);
      expect(s.spec.selector).toEqual(r.selector);
      expect(s.spec.ports.map((p: Any) => ({ name: p.name, port: p.port, ...(p.targetPort !== undefined && (r.ports.find((x) => x.name === p.name)?.targetPort !== undefined) ? { targetPort: p.targetPort } : {}) }))).toEqual(r.ports);
    }
    expect(names('ServiceAccount')).toEqual([...ref.serviceAccounts].sort());
    expect(names('ConfigMap')).toEqual([...ref.configMaps].sort());
    expect(ofKind('HorizontalPodAutoscaler')).toEqual([]);
  });

  it('has the RBAC and webhook configurations', () => {
    expect(names('ClusterRole')).toEqual(ref.clusterScoped.ClusterRole);
    expect(names('ClusterRoleBinding')).toEqual(ref.clusterScoped.ClusterRoleBinding);
    expect(names('Role')).toEqual(ref.namespacedRBAC.Role);
    expect(names('RoleBinding')).toEqual(ref.namespacedRBAC.RoleBinding);
    const webhookNames = (o: KubeObject) => `${o.metadata.name} (webhook${(o.webhooks as Any[]).length > 1 ? 's' : ''} ${(o.webhooks as Any[]).map((w) => w.name).join(', ')})`;
    expect(ofKind('MutatingWebhookConfiguration').map(webhookNames)).toEqual(ref.clusterScoped.MutatingWebhookConfiguration);
    // istioctl also makes the default revision the validator of objects without a revision label.
    expect(ofKind('ValidatingWebhookConfiguration').map(webhookNames).filter((n) => !n.startsWith('istiod-default-validator'))).toEqual(ref.clusterScoped.ValidatingWebhookConfiguration);
  });

  it('has every CRD with its versions, names and printer columns', () => {
    const crds = ofKind('CustomResourceDefinition') as Any[];
    expect(crds.map((c) => c.metadata.name).sort()).toEqual(ref.crds.map((c) => c.name).sort());
    for (const r of ref.crds) {
      const c = crds.find((x) => x.metadata.name === r.name)!;
      expect(c.spec.group).toBe(r.group);
      expect(c.spec.scope).toBe(r.scope);
      expect(c.spec.names.kind).toBe(r.kind);
      expect(c.spec.names.plural).toBe(r.plural);
      expect(c.spec.names.shortNames ?? []).toEqual(r.shortNames);
      expect(c.spec.names.categories).toEqual(r.categories);
      expect(c.spec.versions.map((v: Any) => ({ name: v.name, served: v.served, storage: v.storage, printerColumns: (v.additionalPrinterColumns ?? []).map((p: Any) => `${p.name}=${p.jsonPath}`) }))).toEqual(r.versions);
      const spec = c.spec.versions[0].schema.openAPIV3Schema.properties.spec;
      expect(spec.type, r.name).toBe('object');
    }
    const vs = crds.find((c) => c.metadata.name === 'virtualservices.networking.istio.io')!;
    expect(Object.keys(vs.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties)).toEqual(['exportTo', 'gateways', 'hosts', 'http', 'tcp', 'tls']);
  });
});

describe('profiles and settings', () => {
  it('default has the ingress gateway only, with HPAs; minimal has istiod only; empty nothing', () => {
    const comps = (sets: string[]) => renderInstall(resolveSpec([], sets)).map((c) => c.name);
    expect(comps([])).toEqual(['Base', 'Pilot', 'IngressGateways']);
    expect(comps(['profile=minimal'])).toEqual(['Base', 'Pilot']);
    expect(comps(['profile=empty'])).toEqual([]);
    const hpas = renderInstall(resolveSpec([], [])).flatMap((c) => c.objects).filter((o) => o.kind === 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.metadata.name)).toEqual(['istiod', 'istio-ingressgateway']);
  });

  it('meshConfig settings reach the istio ConfigMap; the demo profile logs access to stdout', () => {
    const mesh = (sets: string[]) => (renderInstall(resolveSpec([], sets)).flatMap((c) => c.objects).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'istio') as Any).data.mesh as string;
    expect(mesh(['profile=demo'])).toContain('accessLogFile: /dev/stdout');
    expect(mesh([])).not.toContain('accessLogFile');
    expect(mesh(['meshConfig.accessLogFile=/dev/stdout', 'meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY'])).toMatch(/accessLogFile: \/dev\/stdout[\s\S]*outboundTrafficPolicy:\n {2}mode: REGISTRY_ONLY/);
  });

  it('refuses unknown profiles and fields as istioctl does', () => {
    expect(() => resolveSpec([], ['profile=nope'])).toThrow('could not read profile "nope": profile does not exist');
    expect(() => resolveSpec([], ['profile=ambient'])).toThrow('not supported by the embedded cluster');
    expect(() => resolveSpec([], ['bogus=1'])).toThrow('unknown field "bogus"');
    // Strict mTLS is a PeerAuthentication since 1.6; the old install value is refused.
    expect(() => resolveSpec([], ['values.global.mtls.enabled=true'])).toThrow('unknown field "mtls" in v1alpha1.GlobalConfig');
    expect(() => resolveSpec([], ['values.pilot.traceSampling=100', 'values.global.proxy.privileged=true'])).not.toThrow();
    expect(() => resolveSpec([{ name: 'x.yaml', text: 'kind: IstioOperator\nspec:\n  profile: demo\n  components:\n    ingressGateways:\n    - name: istio-ingressgateway\n      enabled: false\n' }], [])).not.toThrow();
  });
});
