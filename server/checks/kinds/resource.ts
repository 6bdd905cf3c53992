import type { KubernetesObject } from '@kubernetes/client-node';
import type { z } from 'zod';
import type { fieldCondition, resourceCheck } from '../schema.js';
import { UnknownKindError } from '../kube-objects.js';
import { resolvePath } from '../path.js';
import { apiMessage, classify } from './errors.js';
import { checkNamespace, type CheckContext, type CheckOutcome } from './types.js';

type ResourceCheck = z.infer<typeof resourceCheck>;
type FieldCondition = z.infer<typeof fieldCondition>;

export interface Selection {
  objects: KubernetesObject[];
  /** How the selection reads in a message: `Service "web" in namespace "default"`. */
  describe: string;
}

/** Finds the objects a check is about: one by name, or those matching a selector. */
export async function select(
  ctx: CheckContext,
  target: { apiVersion: string; kind: string; name?: string; namespace?: string; selector?: string },
): Promise<Selection | { missingKind: string }> {
  const missingKind = { missingKind: `the cluster has no ${target.kind} resource in ${target.apiVersion} (is its CustomResourceDefinition installed?)` };
  let namespaced: boolean;
  try {
    namespaced = await ctx.objects.isNamespaced(target.apiVersion, target.kind);
  } catch (err) {
    const status = classify(err);
    if (status === 404) return missingKind;
    throw err;
  }
  const namespace = namespaced ? checkNamespace(ctx, target.namespace) : undefined;
  const where = namespace ? ` in namespace "${namespace}"` : '';
  if (target.name) {
    const describe = `${target.kind} "${target.name}"${where}`;
    try {
      const obj = await ctx.objects.read(target.apiVersion, target.kind, target.name, namespace);
      return { objects: [obj], describe };
    } catch (err) {
      // The kind went away between discovery and the read (its CRD was deleted).
      if (err instanceof UnknownKindError) return missingKind;
      if (classify(err) === 404) return { objects: [], describe };
      throw new Error(`reading ${describe} failed: ${apiMessage(err)}`);
    }
  }
  const describe = `${target.kind} objects${target.selector ? ` matching ${target.selector}` : ''}${where}`;
  try {
    const list = await ctx.objects.list(target.apiVersion, target.kind, namespace, target.selector);
    return { objects: list.items, describe };
  } catch (err) {
    if (err instanceof UnknownKindError) return missingKind;
    classify(err);
    throw new Error(`listing ${describe} failed: ${apiMessage(err)}`);
  }
}

export function countProblem(count: number | { min?: number; max?: number } | undefined, n: number, what: string): string | undefined {
  if (count === undefined) return undefined;
  const { min, max } = typeof count === 'number' ? { min: count, max: count } : count;
  if (min !== undefined && n < min) return `found ${n} ${what}, expected ${min === max ? '' : 'at least '}${min}`;
  if (max !== undefined && n > max) return `found ${n} ${what}, expected ${min === max ? '' : 'at most '}${max}`;
  return undefined;
}

const show = (v: unknown) => (v === undefined ? 'not set' : JSON.stringify(v));

/** Why an object fails a field condition, or undefined when it meets it. */
export function fieldProblem(obj: unknown, c: FieldCondition): string | undefined {
  let values: unknown[];
  try {
    values = resolvePath(obj, c.path);
  } catch (err) {
    return (err as Error).message;
  }
  const value = values.length <= 1 ? values[0] : values;
  if (c.exists !== undefined) {
    if (c.exists && values.length === 0) return `${c.path} is not set`;
    if (!c.exists && values.length > 0) return `${c.path} is set to ${show(value)}, expected it unset`;
    return undefined;
  }
  if (c.equals !== undefined) {
    return values.length === 1 && values[0] === c.equals ? undefined : `${c.path} is ${show(value)}, expected ${show(c.equals)}`;
  }
  if (c.oneOf !== undefined) {
    return values.length === 1 && c.oneOf.includes(values[0] as never) ? undefined : `${c.path} is ${show(value)}, expected one of ${c.oneOf.map(show).join(', ')}`;
  }
  if (c.matches !== undefined) {
    const re = new RegExp(c.matches);
    return values.some((v) => typeof v === 'string' || typeof v === 'number' ? re.test(String(v)) : false) ? undefined : `${c.path} is ${show(value)}, expected it to match /${c.matches}/`;
  }
  if (c.contains !== undefined) {
    const has = values.some((v) => (Array.isArray(v) ? v.includes(c.contains) : typeof v === 'string' ? v.includes(String(c.contains)) : v === c.contains));
    return has || values.includes(c.contains) ? undefined : `${c.path} is ${show(value)}, expected it to contain ${show(c.contains)}`;
  }
  return undefined;
}

export async function evaluateResource(spec: ResourceCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const selection = await select(ctx, spec);
  if ('missingKind' in selection) return { passed: spec.absent === true, found: selection.missingKind };
  const { objects, describe } = selection;
  const names = objects.map((o) => o.metadata?.name).join(', ');
  if (spec.absent) {
    return objects.length === 0 ? { passed: true, found: `no ${describe}` } : { passed: false, found: `${describe} still exist${objects.length === 1 ? 's' : ''}: ${names}` };
  }
  const countIssue = countProblem(spec.count, objects.length, describe);
  if (countIssue) return { passed: false, found: countIssue };
  if (objects.length === 0) return { passed: spec.count !== undefined, found: `no ${describe}` };
  for (const obj of objects) {
    for (const condition of spec.fields ?? []) {
      const problem = fieldProblem(obj, condition);
      if (problem) return { passed: false, found: `${spec.kind} "${obj.metadata?.name}": ${problem}` };
    }
  }
  return { passed: true, found: objects.length === 1 ? `${describe} is as expected` : `${objects.length} ${describe} are as expected` };
}
