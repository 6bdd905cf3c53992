/** A pod spec's defaults and validation, shared by Pods and every kind with a pod template. */
import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { nameProblems, validateObjectMeta } from './meta.js';

type Obj = Record<string, any>;

function defaultContainer(c: Obj): void {
  if (!c || typeof c !== 'object') return;
  if (c.imagePullPolicy === undefined && typeof c.image === 'string') {
    const ref = c.image.split('@')[0];
    const lastSlash = ref.lastIndexOf('/');
    const colon = ref.lastIndexOf(':');
    const tag = colon > lastSlash ? ref.slice(colon + 1) : '';
    c.imagePullPolicy = !c.image.includes('@') && (tag === '' || tag === 'latest') ? 'Always' : 'IfNotPresent';
  }
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  if (Array.isArray(c.ports)) for (const p of c.ports) if (p && typeof p === 'object') p.protocol ??= 'TCP';
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const pr = c[probe];
    if (!pr || typeof pr !== 'object') continue;
    pr.timeoutSeconds ??= 1;
    pr.periodSeconds ??= 10;
    pr.successThreshold ??= 1;
    pr.failureThreshold ??= 3;
    if (pr.httpGet && typeof pr.httpGet === 'object') {
      pr.httpGet.path ??= '/';
      pr.httpGet.scheme ??= 'HTTP';
    }
  }
  if (Array.isArray(c.env)) {
    for (const e of c.env) {
      const f = e?.valueFrom?.fieldRef;
      if (f && typeof f === 'object') f.apiVersion ??= 'v1';
    }
  }
}

/** Defaults a PodSpec (also inside workload templates). */
export function defaultPodSpec(spec: Obj | undefined): void {
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    if (Array.isArray(spec[list])) for (const c of spec[list]) defaultContainer(c);
  }
  if (Array.isArray(spec.volumes)) {
    for (const v of spec.volumes) {
      if (v?.configMap && typeof v.configMap === 'object') v.configMap.defaultMode ??= 420;
      if (v?.secret && typeof v.secret === 'object') v.secret.defaultMode ??= 420;
      if (v?.projected && typeof v.projected === 'object') v.projected.defaultMode ??= 420;
    }
  }
}

/** The PodTemplateSpec defaults workloads get. */
export function defaultPodTemplate(tpl: Obj | undefined): void {
  if (!tpl || typeof tpl !== 'object') return;
  tpl.metadata ??= {};
  if (tpl.metadata.creationTimestamp === undefined) tpl.metadata.creationTimestamp = null;
  tpl.spec ??= {};
  defaultPodSpec(tpl.spec);
}

const CONTAINER_NAME_RULE = 'label' as const;

export function validatePodSpec(spec: Obj | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec || typeof spec !== 'object') return [{ type: 'FieldValueRequired', field: `${field}.containers` }];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    errs.push({ type: 'FieldValueRequired', field: `${field}.containers` });
  }
  const seen = new Set<string>();
  for (const list of ['initContainers', 'containers']) {
    if (!Array.isArray(spec[list])) continue;
    spec[list].forEach((c: Obj, i: number) => {
      const f = `${field}.${list}[${i}]`;
      if (!c || typeof c !== 'object') return;
      if (!c.name) errs.push({ type: 'FieldValueRequired', field: `${f}.name` });
      else {
        for (const p of nameProblems(c.name, CONTAINER_NAME_RULE)) errs.push({ type: 'FieldValueInvalid', field: `${f}.name`, value: c.name, detail: p });
        if (seen.has(c.name)) errs.push({ type: 'FieldValueDuplicate', field: `${f}.name`, value: c.name });
        seen.add(c.name);
      }
      if (!c.image || (typeof c.image === 'string' && c.image.trim() === '')) errs.push({ type: 'FieldValueRequired', field: `${f}.image` });
      if (c.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy)) {
        errs.push({ type: 'FieldValueNotSupported', field: `${f}.imagePullPolicy`, value: c.imagePullPolicy, supported: ['Always', 'IfNotPresent', 'Never'] });
      }
      if (Array.isArray(c.ports)) {
        c.ports.forEach((p: Obj, j: number) => {
          const port = p?.containerPort;
          if (port === undefined) errs.push({ type: 'FieldValueRequired', field: `${f}.ports[${j}].containerPort` });
          else if (typeof port === 'number' && (port < 1 || port > 65535)) {
            errs.push({ type: 'FieldValueInvalid', field: `${f}.ports[${j}].containerPort`, value: port, detail: 'must be between 1 and 65535, inclusive' });
          }
          if (p?.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) {
            errs.push({ type: 'FieldValueNotSupported', field: `${f}.ports[${j}].protocol`, value: p.protocol, supported: ['SCTP', 'TCP', 'UDP'] });
          }
        });
      }
    });
  }
  if (spec.restartPolicy !== undefined && !['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy)) {
    errs.push({ type: 'FieldValueNotSupported', field: `${field}.restartPolicy`, value: spec.restartPolicy, supported: ['Always', 'OnFailure', 'Never'] });
  }
  if (spec.dnsPolicy !== undefined && !['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(spec.dnsPolicy)) {
    errs.push({ type: 'FieldValueNotSupported', field: `${field}.dnsPolicy`, value: spec.dnsPolicy, supported: ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'] });
  }
  return errs;
}

/** Fields an ephemeral container may not set (validation.go validateEphemeralContainers). */
const EPHEMERAL_FORBIDDEN = ['lifecycle', 'livenessProbe', 'ports', 'readinessProbe', 'resizePolicy', 'resources', 'restartPolicy', 'startupProbe'];

/**
 * pods/ephemeralcontainers: new ephemeral containers are validated, existing ones may not be
 * removed or changed (ValidatePodEphemeralContainersUpdate).
 */
export function validateEphemeralContainersUpdate(spec: Obj | undefined, oldSpec: Obj | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const list: Obj[] = Array.isArray(spec?.ephemeralContainers) ? spec!.ephemeralContainers : [];
  const oldList: Obj[] = Array.isArray(oldSpec?.ephemeralContainers) ? oldSpec!.ephemeralContainers : [];
  const others = new Set([...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c: Obj) => c?.name));
  const targets = new Set((spec?.containers ?? []).map((c: Obj) => c?.name));
  const seen = new Set<string>();
  list.forEach((c, i) => {
    const f = `spec.ephemeralContainers[${i}]`;
    if (!c || typeof c !== 'object') return;
    if (!c.name) errs.push({ type: 'FieldValueRequired', field: `${f}.name` });
    else {
      for (const p of nameProblems(c.name, CONTAINER_NAME_RULE)) errs.push({ type: 'FieldValueInvalid', field: `${f}.name`, value: c.name, detail: p });
      if (seen.has(c.name) || others.has(c.name)) errs.push({ type: 'FieldValueDuplicate', field: `${f}.name`, value: c.name });
      seen.add(c.name);
    }
    if (!c.image || (typeof c.image === 'string' && c.image.trim() === '')) errs.push({ type: 'FieldValueRequired', field: `${f}.image` });
    for (const k of EPHEMERAL_FORBIDDEN) {
      const v = c[k];
      const empty = v === undefined || v === null || (k === 'resources' && typeof v === 'object' && Object.values(v).every((x) => x === undefined || (typeof x === 'object' && x !== null && Object.keys(x).length === 0)));
      if (!empty) errs.push({ type: 'FieldValueForbidden', field: `${f}.${k}`, detail: 'cannot be set for an Ephemeral Container' });
    }
    if (c.targetContainerName && !targets.has(c.targetContainerName)) errs.push({ type: 'FieldValueNotFound', field: `${f}.targetContainerName`, value: c.targetContainerName });
  });
  const byName = new Map(list.map((c) => [c?.name, c]));
  oldList.forEach((old, i) => {
    const now = byName.get(old?.name);
    if (!now) errs.push({ type: 'FieldValueForbidden', field: 'spec.ephemeralContainers', detail: `existing ephemeral containers "${old?.name}" may not be removed` });
    else if (JSON.stringify(now) !== JSON.stringify(old)) errs.push({ type: 'FieldValueForbidden', field: `spec.ephemeralContainers[${i}]`, detail: `existing ephemeral containers "${old?.name}" may not be changed` });
  });
  return errs;
}
