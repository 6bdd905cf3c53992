/** Strategies for core/v1 kinds other than Pod. */
import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import type { Strategy } from '../resource.js';
import { validateImmutable, validateLabels, validateObjectMeta, type NameRule } from './meta.js';

type Obj = Record<string, any>;

/** Kinds whose only rules are object-metadata ones. */
export function metaOnly(rule: NameRule, namespaced: boolean, extra?: Partial<Strategy>): Strategy {
  return {
    ...extra,
    validate(obj, ctx) {
      return [...validateObjectMeta(obj, rule, namespaced), ...(extra?.validate?.(obj, ctx) ?? [])];
    },
  };
}

export const namespaceStrategy: Strategy = {
  prepareForCreate(obj) {
    (obj as Obj).status = { phase: 'Active' };
  },
  defaults(obj) {
    const o = obj as Obj;
    o.spec ??= {};
    o.spec.finalizers ??= ['kubernetes'];
    o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name };
  },
  validate(obj) {
    return validateObjectMeta(obj, 'label', false);
  },
  fieldLabels(obj) {
    return { 'status.phase': (obj as Obj).status?.phase ?? '' };
  },
};

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

/** Picks free addresses and node ports by looking at the Services already stored. */
export interface ServiceAllocator {
  allocateClusterIP(): string;
  isClusterIPTaken(ip: string): boolean;
  allocateNodePort(): number;
  isNodePortTaken(port: number, exceptService?: string): boolean;
}

export function serviceStrategy(alloc: ServiceAllocator): Strategy {
  return {
    defaults(obj) {
      const s = ((obj as Obj).spec ??= {});
      s.type ??= 'ClusterIP';
      if (s.type !== 'ExternalName') {
        s.sessionAffinity ??= 'None';
        s.internalTrafficPolicy ??= 'Cluster';
        s.ipFamilyPolicy ??= 'SingleStack';
        s.ipFamilies ??= ['IPv4'];
      }
      if (s.type === 'NodePort' || s.type === 'LoadBalancer') {
        s.externalTrafficPolicy ??= 'Cluster';
        if (s.type === 'LoadBalancer') s.allocateLoadBalancerNodePorts ??= true;
      }
      if (Array.isArray(s.ports)) {
        for (const p of s.ports) {
          if (!p || typeof p !== 'object') continue;
          p.protocol ??= 'TCP';
          p.targetPort ??= p.port;
        }
      }
      (obj as Obj).status ??= { loadBalancer: {} };
    },
    prepareForCreate(obj) {
      const o = obj as Obj;
      o.status = { loadBalancer: {} };
      const s = (o.spec ??= {});
      s.type ??= 'ClusterIP';
      if (s.type !== 'ExternalName' && s.clusterIP !== 'None') {
        if (!s.clusterIP) s.clusterIP = alloc.allocateClusterIP();
        s.clusterIPs ??= [s.clusterIP];
      } else if (s.clusterIP === 'None') {
        s.clusterIPs ??= ['None'];
      }
      if ((s.type === 'NodePort' || s.type === 'LoadBalancer') && Array.isArray(s.ports)) {
        for (const p of s.ports) if (p && typeof p === 'object' && !p.nodePort) p.nodePort = alloc.allocateNodePort();
      }
    },
    validate(obj) {
      const o = obj as Obj;
      const s = o.spec ?? {};
      const errs = validateObjectMeta(obj, 'dns1035', true);
      if (!SERVICE_TYPES.includes(s.type)) errs.push({ type: 'FieldValueNotSupported', field: 'spec.type', value: s.type, supported: SERVICE_TYPES });
      if (s.type === 'ExternalName') {
        if (!s.externalName) errs.push({ type: 'FieldValueRequired', field: 'spec.externalName' });
      } else if (!Array.isArray(s.ports) || s.ports.length === 0) {
        if (s.clusterIP !== 'None') errs.push({ type: 'FieldValueRequired', field: 'spec.ports' });
      }
      const names = new Set<string>();
      (s.ports ?? []).forEach((p: Obj, i: number) => {
        const f = `spec.ports[${i}]`;
        if (s.ports.length > 1 && !p?.name) errs.push({ type: 'FieldValueRequired', field: `${f}.name` });
        if (p?.name) {
          if (names.has(p.name)) errs.push({ type: 'FieldValueDuplicate', field: `${f}.name`, value: p.name });
          names.add(p.name);
        }
        if (p?.port === undefined) errs.push({ type: 'FieldValueRequired', field: `${f}.port` });
        else if (typeof p.port === 'number' && (p.port < 1 || p.port > 65535)) {
          errs.push({ type: 'FieldValueInvalid', field: `${f}.port`, value: p.port, detail: 'must be between 1 and 65535, inclusive' });
        }
        if (p?.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) {
          errs.push({ type: 'FieldValueNotSupported', field: `${f}.protocol`, value: p.protocol, supported: ['SCTP', 'TCP', 'UDP'] });
        }
        if (p?.nodePort !== undefined) {
          if (s.type === 'ClusterIP') errs.push({ type: 'FieldValueForbidden', field: `${f}.nodePort`, detail: 'may not be used when `type` is \'ClusterIP\'' });
          else if (p.nodePort < 30000 || p.nodePort > 32767) {
            errs.push({ type: 'FieldValueInvalid', field: `${f}.nodePort`, value: p.nodePort, detail: 'provided port is not in the valid range. The range of valid ports is 30000-32767' });
          } else if (alloc.isNodePortTaken(p.nodePort, `${o.metadata.namespace}/${o.metadata.name}`)) {
            errs.push({ type: 'FieldValueInvalid', field: `${f}.nodePort`, value: p.nodePort, detail: 'provided port is already allocated' });
          }
        }
      });
      errs.push(...validateLabels(s.selector, 'spec.selector'));
      return errs;
    },
    validateUpdate(obj, old) {
      const o = obj as Obj;
      const prev = old as Obj;
      // A Service keeps its address when an update omits it (kubectl replace of a manifest).
      if (o.spec && !o.spec.clusterIP && prev.spec?.clusterIP) {
        o.spec.clusterIP = prev.spec.clusterIP;
        o.spec.clusterIPs = prev.spec.clusterIPs;
      }
      if (o.spec?.type !== 'ClusterIP' && o.spec?.type !== 'ExternalName' && Array.isArray(o.spec?.ports)) {
        for (const p of o.spec.ports) {
          if (p && !p.nodePort) {
            const was = (prev.spec?.ports ?? []).find((q: Obj) => q?.port === p.port && (q?.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
            p.nodePort = was?.nodePort ?? alloc.allocateNodePort();
          }
        }
      }
      if (o.spec?.type === 'ClusterIP' && Array.isArray(o.spec?.ports)) for (const p of o.spec.ports) if (p) delete p.nodePort;
      return prev.spec?.clusterIP && o.spec?.clusterIP !== prev.spec.clusterIP && prev.spec.type !== 'ExternalName'
        ? validateImmutable(obj, old, [{ path: ['spec', 'clusterIP'], field: 'spec.clusterIPs[0]' }])
        : [];
    },
  };
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

function keyErrors(data: unknown, field: string): FieldError[] {
  if (!data || typeof data !== 'object') return [];
  const errs: FieldError[] = [];
  for (const k of Object.keys(data)) if (!CONFIG_KEY.test(k)) errs.push({ type: 'FieldValueInvalid', field, value: k, detail: CONFIG_KEY_MSG });
  return errs;
}

export const configMapStrategy: Strategy = {
  validate(obj) {
    const o = obj as Obj;
    const errs = [...validateObjectMeta(obj, 'subdomain', true), ...keyErrors(o.data, 'data'), ...keyErrors(o.binaryData, 'binaryData')];
    for (const k of Object.keys(o.data ?? {})) if (o.binaryData && k in o.binaryData) errs.push({ type: 'FieldValueInvalid', field: 'data', value: k, detail: 'duplicate of key present in binaryData' });
    return errs;
  },
  validateUpdate(obj, old) {
    return (old as Obj).immutable ? immutableData(obj as Obj, old as Obj) : [];
  },
};

function immutableData(o: Obj, old: Obj): FieldError[] {
  if (JSON.stringify(o.data ?? {}) !== JSON.stringify(old.data ?? {}) || JSON.stringify(o.binaryData ?? {}) !== JSON.stringify(old.binaryData ?? {})) {
    return [{ type: 'FieldValueForbidden', field: 'data', detail: 'field is immutable when `immutable` is set' }];
  }
  return [];
}

export const secretStrategy: Strategy = {
  defaults(obj) {
    const o = obj as Obj;
    o.type ??= 'Opaque';
    // stringData is write-only convenience: it lands in data, base64-encoded, as the real conversion does.
    if (o.stringData && typeof o.stringData === 'object') {
      o.data = { ...(o.data ?? {}) };
      for (const [k, v] of Object.entries(o.stringData)) o.data[k] = Buffer.from(String(v)).toString('base64');
      delete o.stringData;
    }
  },
  validate(obj) {
    const o = obj as Obj;
    const errs = [...validateObjectMeta(obj, 'subdomain', true), ...keyErrors(o.data, 'data')];
    for (const [k, v] of Object.entries(o.data ?? {})) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) {
        errs.push({ type: 'FieldValueInvalid', field: `data[${k}]`, value: v, detail: 'illegal base64 data' });
      }
    }
    if (o.type === 'kubernetes.io/tls') {
      for (const k of ['tls.crt', 'tls.key']) if (!o.data?.[k]) errs.push({ type: 'FieldValueRequired', field: `data[${k}]` });
    }
    return errs;
  },
  validateUpdate(obj, old) {
    const errs = validateImmutable(obj, old, [{ path: ['type'], field: 'type' }]);
    return (old as Obj).immutable ? [...errs, ...immutableData(obj as Obj, old as Obj)] : errs;
  },
  fieldLabels(obj) {
    return { type: (obj as Obj).type ?? '' };
  },
};

export const nodeStrategy: Strategy = {
  prepareForCreate(obj) {
    (obj as Obj).status ??= {};
  },
  validate(obj) {
    return validateObjectMeta(obj, 'subdomain', false);
  },
  fieldLabels(obj) {
    return { 'spec.unschedulable': String((obj as Obj).spec?.unschedulable ?? false) };
  },
};

export const eventStrategy: Strategy = {
  validate(obj) {
    const o = obj as Obj;
    const errs = validateObjectMeta(obj, 'subdomain', true);
    const involved = o.involvedObject ?? o.regarding;
    if (o.apiVersion === 'v1' && involved?.namespace && involved.namespace !== o.metadata.namespace) {
      errs.push({ type: 'FieldValueInvalid', field: 'involvedObject.namespace', value: involved.namespace, detail: 'does not match event.namespace' });
    }
    return errs;
  },
  fieldLabels(obj) {
    const o = obj as Obj;
    const io = o.involvedObject ?? {};
    return {
      'involvedObject.kind': io.kind ?? '',
      'involvedObject.namespace': io.namespace ?? '',
      'involvedObject.name': io.name ?? '',
      'involvedObject.uid': io.uid ?? '',
      'involvedObject.apiVersion': io.apiVersion ?? '',
      'involvedObject.resourceVersion': io.resourceVersion ?? '',
      'involvedObject.fieldPath': io.fieldPath ?? '',
      reason: o.reason ?? '',
      reportingComponent: o.reportingComponent ?? '',
      source: o.source?.component ?? '',
      type: o.type ?? '',
    };
  },
};

export const endpointSliceStrategy: Strategy = {
  generation: true,
  validate(obj) {
    const o = obj as Obj;
    const errs = validateObjectMeta(obj, 'subdomain', true);
    if (!o.addressType) errs.push({ type: 'FieldValueRequired', field: 'addressType' });
    else if (!['IPv4', 'IPv6', 'FQDN'].includes(o.addressType)) errs.push({ type: 'FieldValueNotSupported', field: 'addressType', value: o.addressType, supported: ['FQDN', 'IPv4', 'IPv6'] });
    return errs;
  },
};

/** Kinds with a spec whose generation follows spec changes, otherwise only metadata rules. */
export function specKind(rule: NameRule, namespaced: boolean, extra?: Partial<Strategy>): Strategy {
  return { generation: true, ...metaOnly(rule, namespaced, extra) };
}

export function requireFields(fields: string[][]): (obj: KubeObject) => FieldError[] {
  return (obj) => {
    const errs: FieldError[] = [];
    for (const path of fields) {
      let cur: any = obj;
      for (const p of path) cur = cur?.[p];
      if (cur === undefined || cur === null || cur === '') errs.push({ type: 'FieldValueRequired', field: path.join('.') });
    }
    return errs;
  };
}
