import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ApiError } from '../../server/sim/errors.js';
import { checkFields, validateCustomResource } from '../../server/sim/registry/validation/index.js';
import type { KubeObject } from '../../server/sim/types.js';
import { REFERENCE_DIR } from '../helpers/reference.js';

const REF = REFERENCE_DIR;
const loadYaml = (file: string) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON() as KubeObject).filter(Boolean);
const gvkOf = (o: KubeObject) => {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  return { group: group!, version: version!, kind: o.kind };
};
const bookinfo = loadYaml(join(REF, 'samples/bookinfo.yaml'));
const details = () => structuredClone(bookinfo.find((o) => o.kind === 'Deployment' && o.metadata.name === 'details-v1')!) as any;
const APPS = { group: 'apps', version: 'v1', kind: 'Deployment' };

function badRequest(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

describe('built-in kinds', () => {
  it('accepts every object of the real Bookinfo manifests without a warning', () => {
    expect(bookinfo.length).toBeGreaterThan(10);
    for (const o of bookinfo) expect(checkFields({ gvk: gvkOf(o), object: o, mode: 'Strict', crds: [] })).toEqual({ warnings: [] });
  });

  it('rejects a typo under Strict with kube-apiserver\'s message', () => {
    const d = details();
    d.spec.template.spec.containers[0].imagee = d.spec.template.spec.containers[0].image;
    const e = badRequest(() => checkFields({ gvk: APPS, object: d, mode: 'Strict', crds: [] }));
    expect(e.code).toBe(400);
    expect(e.reason).toBe('BadRequest');
    expect(e.message).toBe('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagee"');
  });

  it('lists several unknown fields in document order (update wording)', () => {
    const d = details();
    d.spec.foo = 1;
    d.metadata.labelz = { a: 'b' };
    d.spec.template.spec.containers[0].ports[0].containerPortt = 9080;
    const e = badRequest(() => checkFields({ gvk: APPS, object: d, mode: 'Strict', crds: [], verb: 'update' }));
    expect(e.message).toBe('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "metadata.labelz", unknown field "spec.template.spec.containers[0].ports[0].containerPortt", unknown field "spec.foo"');
  });

  it('knows only fields a 1.32-era API has: later releases\' fields are unknown, as on a 1.32 server', () => {
    // hostnameOverride (1.34) and per-container restartPolicyRules (1.34) arrived after 1.32.
    const d = details();
    d.spec.template.spec.hostnameOverride = 'web';
    d.spec.template.spec.containers[0].restartPolicyRules = [];
    const e = badRequest(() => checkFields({ gvk: APPS, object: d, mode: 'Strict', crds: [] }));
    expect(e.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].restartPolicyRules", unknown field "spec.template.spec.hostnameOverride"',
    );
    // Container stop signals came with 1.33 (k8s.io/api v0.33.0), which the schema package carries.
    const s = details();
    s.spec.template.spec.containers[0].lifecycle = { stopSignal: 'SIGUSR1' };
    expect(checkFields({ gvk: APPS, object: s, mode: 'Warn', crds: [] })).toEqual({ warnings: ['unknown field "spec.template.spec.containers[0].lifecycle.stopSignal"'] });
  });

  it('returns warnings under Warn and nothing under Ignore', () => {
    const d = details();
    d.spec.replica = 2;
    expect(checkFields({ gvk: APPS, object: d, mode: 'Warn', crds: [] })).toEqual({ warnings: ['unknown field "spec.replica"'] });
    expect(checkFields({ gvk: APPS, object: d, mode: 'Ignore', crds: [] })).toEqual({ warnings: [] });
  });

  it('fails decoding on wrong types whatever the directive, worded as encoding/json does', () => {
    const d = details();
    d.spec.replicas = 'two';
    expect(badRequest(() => checkFields({ gvk: APPS, object: d, mode: 'Ignore', crds: [] })).message)
      .toBe('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
    const big = details();
    big.spec.replicas = 3000000000;
    expect(badRequest(() => checkFields({ gvk: APPS, object: big, mode: 'Strict', crds: [] })).message)
      .toBe('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32');
    const svc = structuredClone(bookinfo.find((o) => o.kind === 'Service')!) as any;
    svc.metadata.labels.version = 1;
    expect(badRequest(() => checkFields({ gvk: { group: '', version: 'v1', kind: 'Service' }, object: svc, mode: 'Strict', crds: [] })).message)
      .toBe('Service in version "v1" cannot be handled as a Service: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string');
    const d2 = details();
    d2.spec.template.spec.containers = { name: 'x' };
    expect(badRequest(() => checkFields({ gvk: APPS, object: d2, mode: 'Strict', crds: [] })).message)
      .toContain('json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container');
  });

  it('accepts int-or-string and quantities as strings or numbers', () => {
    const d = details();
    d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } };
    d.spec.template.spec.containers[0].resources = { limits: { cpu: 1, memory: '128Mi' } };
    expect(checkFields({ gvk: APPS, object: d, mode: 'Strict', crds: [] })).toEqual({ warnings: [] });
  });
});

// A VirtualService CRD shaped like Istio's: spec with known fields, status preserved.
const vsCrd: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'virtualservices.networking.istio.io' },
  spec: {
    group: 'networking.istio.io', scope: 'Namespaced', names: { kind: 'VirtualService', plural: 'virtualservices' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: {
      spec: { type: 'object', required: ['hosts'], properties: {
        hosts: { type: 'array', items: { type: 'string' }, maxItems: 64 },
        gateways: { type: 'array', items: { type: 'string' } },
        http: { type: 'array', items: { type: 'object', properties: {
          name: { type: 'string', pattern: '^[a-z0-9-]*$', maxLength: 20 },
          match: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          route: { type: 'array', items: { type: 'object', properties: {
            destination: { type: 'object', required: ['host'], properties: { host: { type: 'string' }, subset: { type: 'string' }, port: { type: 'object', properties: { number: { type: 'integer', maximum: 4294967295, minimum: 0 } } } } },
            weight: { type: 'integer', format: 'int32' },
          } } },
          timeout: { type: 'string' },
          retries: { 'x-kubernetes-int-or-string': true },
          tag: { type: 'string', enum: ['a', 'b'] },
        } } },
      } },
      status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    } } } }],
  },
};
const VS = { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' };
const samples = readdirSync(join(REF, 'samples')).filter((f) => f.startsWith('virtual-service-')).flatMap((f) => loadYaml(join(REF, 'samples', f)));

describe('custom resources', () => {
  it('accepts the real Bookinfo virtual services', () => {
    expect(samples.length).toBeGreaterThan(5);
    for (const o of samples) {
      const v1 = { ...o, apiVersion: 'networking.istio.io/v1' };
      expect(checkFields({ gvk: VS, object: v1, mode: 'Strict', crds: [vsCrd] })).toEqual({ warnings: [] });
      expect(validateCustomResource({ crd: vsCrd, version: 'v1', object: v1 })).toEqual([]);
    }
  });

  it('reports pruned fields sorted, metadata typos too, and keeps preserve-unknown-fields subtrees', () => {
    const vs = structuredClone(samples[0]!) as any;
    vs.spec.zzz = 1;
    vs.spec.http[0].route[0].destination.subsett = 'v1';
    vs.spec.http[0].match = [{ anything: { goes: true } }];
    vs.metadata.namespac = 'default';
    vs.status = { whatever: 1 };
    const e = badRequest(() => checkFields({ gvk: VS, object: vs, mode: 'Strict', crds: [vsCrd] }));
    expect(e.message).toBe('VirtualService in version "v1" cannot be handled as a VirtualService: strict decoding error: unknown field "metadata.namespac", unknown field "spec.http[0].route[0].destination.subsett", unknown field "spec.zzz"');
    expect(checkFields({ gvk: VS, object: vs, mode: 'Warn', crds: [vsCrd] }).warnings).toHaveLength(3);
  });

  it('enforces exactly-one-of constraints written as oneOf (Istio StringMatch)', () => {
    const stringMatch = {
      type: 'object',
      oneOf: [{ not: { anyOf: [{ required: ['exact'] }, { required: ['prefix'] }, { required: ['regex'] }] } }, { required: ['exact'] }, { required: ['prefix'] }, { required: ['regex'] }],
      properties: { exact: { type: 'string' }, prefix: { type: 'string' }, regex: { type: 'string' } },
    };
    const crd = structuredClone(vsCrd) as any;
    crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.http.items.properties.match.items = { type: 'object', properties: { uri: stringMatch } };
    const vs = (uri: object) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'r' }, spec: { hosts: ['r'], http: [{ match: [{ uri }] }] } });
    expect(validateCustomResource({ crd, version: 'v1', object: vs({ exact: '/productpage' }) })).toEqual([]);
    expect(validateCustomResource({ crd, version: 'v1', object: vs({}) })).toEqual([]);
    expect(validateCustomResource({ crd, version: 'v1', object: vs({ exact: '/a', prefix: '/b' }) })).toEqual([
      { type: 'FieldValueInvalid', field: 'spec.http[0].match[0].uri', value: '', detail: 'spec.http[0].match[0].uri in body must validate one and only one schema (oneOf)' },
    ]);
  });

  it('validates types, required fields, enums, patterns and bounds as field errors', () => {
    const vs = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'r' }, spec: {
      gateways: 'bookinfo-gateway',
      http: [{ name: 'Bad_Name', tag: 'c', retries: true, route: [{ destination: { subset: 'v1', port: { number: -1 } }, weight: 'fifty' }] }],
    } };
    const errors = validateCustomResource({ crd: vsCrd, version: 'v1', object: vs });
    const byField = Object.fromEntries(errors.map((e) => [e.field, e]));
    expect(byField['spec.hosts']).toMatchObject({ type: 'FieldValueRequired' });
    expect(byField['spec.gateways']).toMatchObject({ type: 'FieldValueTypeInvalid', value: 'string', detail: 'spec.gateways in body must be of type array: "string"' });
    expect(byField['spec.http[0].name']).toMatchObject({ type: 'FieldValueInvalid', detail: "spec.http[0].name in body should match '^[a-z0-9-]*$'" });
    expect(byField['spec.http[0].tag']).toMatchObject({ type: 'FieldValueNotSupported', value: 'c', supported: ['a', 'b'] });
    expect(byField['spec.http[0].retries']).toMatchObject({ type: 'FieldValueTypeInvalid' });
    expect(byField['spec.http[0].route[0].destination.host']).toMatchObject({ type: 'FieldValueRequired' });
    expect(byField['spec.http[0].route[0].destination.port.number']).toMatchObject({ detail: 'spec.http[0].route[0].destination.port.number in body should be greater than or equal to 0' });
    expect(byField['spec.http[0].route[0].weight']).toMatchObject({ detail: 'spec.http[0].route[0].weight in body must be of type integer: "string"' });
    const rendered = ApiError.invalid({ group: 'networking.istio.io', kind: 'VirtualService' }, 'r', [byField['spec.gateways']!]).message;
    expect(rendered).toBe('VirtualService.networking.istio.io "r" is invalid: spec.gateways: Invalid value: "string": spec.gateways in body must be of type array: "string"');
  });
});

describe('dropUnknownFields', () => {
  it('removes exactly the unknown fields, as the API server stores a Warn-decoded object', async () => {
    const { dropUnknownFields } = await import('../../server/sim/registry/validation/index.js');
    const d = details();
    d.spec.template.spec.containers[0].imagee = 'x';
    d.spec.foo = 1;
    const pruned = dropUnknownFields({ gvk: APPS, object: d, crds: [] }) as any;
    expect(pruned.spec.foo).toBeUndefined();
    expect(pruned.spec.template.spec.containers[0]).toEqual(details().spec.template.spec.containers[0]);
    expect(d.spec.foo).toBe(1);
    expect(checkFields({ gvk: APPS, object: pruned, mode: 'Strict', crds: [] })).toEqual({ warnings: [] });
  });
});

describe('patches', () => {
  it('reports unknown fields of a strategic merge patch as kube-apiserver does (kubectl: The request is invalid: patch: …)', () => {
    const patch = { spec: { template: { spec: {} } }, volumes: [{ hostPath: { path: '/root/dify/app/api/storage', type: 'DirectoryOrCreate' }, name: 'dify-api-storage' }] };
    const d = details();
    d.spec.volumes = patch.volumes;
    const e = badRequest(() => checkFields({ gvk: APPS, object: d, mode: 'Strict', crds: [], verb: 'patch', patch: { type: 'strategic', body: patch } }));
    expect(e.code).toBe(422);
    expect(e.reason).toBe('Invalid');
    expect(e.details?.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'patch', message: 'Invalid value: "map[spec:map[template:map[spec:map[]]] volumes:[map[hostPath:map[path:/root/dify/app/api/storage type:DirectoryOrCreate] name:dify-api-storage]]]": strict decoding error: unknown field "spec.volumes"' }]);
  });

  it('formats numbers in the quoted patch like Go', async () => {
    const { goFormat } = await import('../../server/sim/registry/validation/index.js');
    expect(goFormat({ b: [9080, 0.5, 1.5e-7, null, true], a: 'x' })).toBe('map[a:x b:[9080 0.5 1.5e-07 <nil> true]]');
  });
});

describe('malformed bodies', () => {
  it('never crashes on a body that is not an object', () => {
    expect(badRequest(() => checkFields({ gvk: APPS, object: [1, 2], mode: 'Strict', crds: [] })).message)
      .toBe('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal array into Go value of type v1.Deployment');
    expect(checkFields({ gvk: { group: 'nope.io', version: 'v1', kind: 'Nope' }, object: { a: 1 }, mode: 'Strict', crds: [] })).toEqual({ warnings: [] });
    expect(validateCustomResource({ crd: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'x' } }, version: 'v1', object: null })).toEqual([]);
  });
});
