/**
 * Reading config a learner wrote: the CRD schemas and the validation webhook catch most bad
 * shapes, but istiod must not fall over on the rest (nor when the webhook is away), so fields are
 * read as what they should be or nothing.
 */

type Obj = Record<string, any>;

/** The value when it is an array, else an empty list; entries that are not objects dropped. */
export const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter((x): x is Obj => !!x && typeof x === 'object' && !Array.isArray(x)) : []);

/** The value when it is an array of strings (others dropped), else an empty list. */
export const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The value when it is a plain object, else undefined. */
export const record = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);

/** A string map (labels, selectors): string values only. */
export const stringMap = (v: unknown): Record<string, string> => {
  const r = record(v);
  if (!r) return {};
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(r)) if (typeof x === 'string') out[k] = x;
  return out;
};
