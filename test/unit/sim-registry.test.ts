import { describe, expect, it } from 'vitest';
import { parseFieldSelector, parseLabelSelector } from '../../server/sim/registry/selectors.js';
import { compareKubeVersions, crdResources } from '../../server/sim/registry/registry.js';
import { ApiError } from '../../server/sim/errors.js';
import { podStrategy } from '../../server/sim/registry/kinds/core/pod.js';
import { deploymentStrategy } from '../../server/sim/registry/kinds/apps/deployment.js';
import { jobStrategy } from '../../server/sim/registry/kinds/batch/job.js';
import { serviceStrategy } from '../../server/sim/registry/kinds/core/service.js';
import { validateObjectMeta } from '../../server/sim/registry/strategies/meta.js';

const now = new Date('2025-01-01T00:00:00Z');

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', n: '5' };
  const m = (s: string) => parseLabelSelector(s)!(labels);
  it('supports every operator kubectl sends', () => {
    expect(m('app=web')).toBe(true);
    expect(m('app==web,tier=front')).toBe(true);
    expect(m('app!=web')).toBe(false);
    expect(m('missing!=x')).toBe(true);
    expect(m('tier in (back, front)')).toBe(true);
    expect(m('tier notin (front)')).toBe(false);
    expect(m('app')).toBe(true);
    expect(m('!app')).toBe(false);
    expect(m('!missing')).toBe(true);
    expect(m('n>3,n<6')).toBe(true);
  });
  it('rejects garbage with a 400', () => {
    expect(() => parseLabelSelector('a in (b')).toThrow(ApiError);
  });
});

describe('field selectors', () => {
  const fields = (o: any) => ({ 'metadata.name': o.metadata.name, 'status.phase': o.status.phase });
  const supported = new Set(['metadata.name', 'status.phase']);
  it('matches = and != and refuses unknown fields as kube words it', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Running' } };
    expect(parseFieldSelector('status.phase=Running', fields, supported, false)!(pod)).toBe(true);
    expect(parseFieldSelector('status.phase!=Running', fields, supported, false)!(pod)).toBe(false);
    expect(() => parseFieldSelector('spec.x=1', fields, supported, false)).toThrow('field label not supported: spec.x');
    expect(() => parseFieldSelector('spec.x=1', fields, supported, true)).toThrow('"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"');
  });
});

describe('kind strategies', () => {
  it('defaults a pod as kube does', () => {
    const pod: any = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd' }, spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } };
    podStrategy.prepareForCreate!(pod, { now });
    podStrategy.defaults!(pod, { now });
    expect(pod.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30, schedulerName: 'default-scheduler', serviceAccountName: 'default' });
    expect(pod.spec.containers[0].imagePullPolicy).toBe('Always');
    expect(pod.spec.containers[1].imagePullPolicy).toBe('IfNotPresent');
    expect(pod.spec.containers[1].ports[0].protocol).toBe('TCP');
    expect(pod.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
    expect(pod.spec.volumes[0].name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
  });

  it('requires a selector on a Deployment, with both of kube\'s causes', () => {
    const d: any = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'd' }, spec: { template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } };
    deploymentStrategy.defaults!(d, { now });
    const errs = deploymentStrategy.validate!(d, { now });
    const e = ApiError.invalid({ group: 'apps', kind: 'Deployment' }, 'x', errs);
    expect(e.message).toBe('Deployment.apps "x" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`]');
    expect(d.spec).toMatchObject({ replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } });
  });

  it('refuses restartPolicy Always in a Job template', () => {
    const j: any = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'd', uid: 'u' }, spec: { template: { spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'i' }] } } } };
    const errs = jobStrategy.validate!(j, { now });
    expect(errs.map((e) => e.field)).toContain('spec.template.spec.restartPolicy');
  });

  it('defaults Service ports and allocates a cluster IP', () => {
    const svc: any = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'd' }, spec: { ports: [{ port: 80 }] } };
    const strat = serviceStrategy({ allocateClusterIP: () => '10.96.0.42', isClusterIPTaken: () => false, allocateNodePort: () => 30001, isNodePortTaken: () => false });
    strat.prepareForCreate!(svc, { now });
    strat.defaults!(svc, { now });
    expect(svc.spec).toMatchObject({ type: 'ClusterIP', clusterIP: '10.96.0.42', sessionAffinity: 'None', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] });
    expect(strat.validate!(svc, { now })).toEqual([]);
  });

  it('words bad names as kube does', () => {
    const errs = validateObjectMeta({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name', namespace: 'd' } }, 'subdomain', true);
    expect(errs[0].field).toBe('metadata.name');
    expect(errs[0].detail).toMatch(/^a lowercase RFC 1123 subdomain must consist of/);
  });
});

describe('CRD versions', () => {
  it('orders versions as kube-aware version comparison does and prefers the highest served', () => {
    expect(['v1alpha1', 'v1beta1', 'v1', 'v2beta1', 'v1alpha3'].sort(compareKubeVersions)).toEqual(['v1', 'v2beta1', 'v1beta1', 'v1alpha3', 'v1alpha1']);
    const defs = crdResources({
      metadata: { name: 'gateways.networking.istio.io' },
      spec: { group: 'networking.istio.io', scope: 'Namespaced', names: { plural: 'gateways', kind: 'Gateway', shortNames: ['gw'] }, versions: [{ name: 'v1alpha3', served: true }, { name: 'v1', served: true, storage: true }, { name: 'v1beta1', served: false }] },
    });
    expect(defs.map((d) => [d.version, d.preferred])).toEqual([['v1alpha3', false], ['v1', true]]);
    expect(defs[0].bucket).toBe(defs[1].bucket);
  });
});
