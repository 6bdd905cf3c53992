/**
 * The embedded cluster's body decoding under arbitrary input (fast-check, fixed seed): JSON and
 * YAML read back what they encode, anything else fails only with a decoding error of ours, and
 * nesting is bounded without the process ever overflowing its stack.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import YAML from 'yaml';
import { MAX_NESTING_DEPTH, parseFirstYamlDocument, parseJson, tooDeep, DepthError, YamlError, YamlTooLargeError } from '../../server/sim/apiserver/body-limits.js';

const SEED = 1406;
const decodingError = (e: unknown) => e instanceof YamlError || e instanceof YamlTooLargeError;

/** JSON values as they arrive in bodies (no -0, which JSON cannot carry). */
const json = fc.jsonValue({ maxDepth: 8 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

function nest(depth: number, open: string, close: string, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

describe('body decoding under arbitrary input', () => {
  it('JSON and YAML encodings of any JSON value decode to that value', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(parseJson(JSON.stringify(v))).toEqual(v);
        expect(parseFirstYamlDocument(JSON.stringify(v))).toEqual(v);
        const yaml = YAML.stringify(v);
        expect(parseFirstYamlDocument(yaml) ?? null).toEqual(v);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('arbitrary text only ever fails as a YAML decoding error', () => {
    const yamlish = fc.stringMatching(/^[-[\]{}:,&*!|>'"#%@` \n\ta-z0-9?]{0,200}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), yamlish), (text) => {
        try {
          parseFirstYamlDocument(text);
        } catch (e) {
          if (!decodingError(e)) throw e;
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('nesting past the bound fails in the decoder, at any depth up to a 3 MiB body, in every syntax', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_NESTING_DEPTH + 1, max: 200_000 }), fc.constantFrom('[', '{a: ', '{"a":', '- ', 'block'), (depth, kind) => {
        let text: string;
        if (kind === '[') text = nest(depth, '[', ']');
        else if (kind === '{a: ' || kind === '{"a":') text = nest(depth, kind, '}');
        else if (kind === '- ') text = '- '.repeat(Math.min(depth, 100_000)) + 'x\n';
        else text = Array.from({ length: Math.min(depth, 2000) }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';
        expect(() => parseFirstYamlDocument(text)).toThrow(/exceeded max depth of 256|at most 50000 tokens/);
        if (kind === '[' || kind === '{"a":') expect(() => parseJson(text)).toThrow(DepthError);
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  it('tooDeep measures the bound exactly and without recursion', () => {
    let v: unknown = 1;
    for (let i = 0; i < MAX_NESTING_DEPTH; i++) v = i % 2 ? [v] : { a: v };
    expect(tooDeep(v)).toBeUndefined();
    // The container one level past the bound is the one encoding/json names.
    expect(tooDeep([v])).toBe('{');
    expect(tooDeep({ x: [v] })).toBe('[');
    expect(tooDeep([[v]], MAX_NESTING_DEPTH + 1)).toBe('{');
    let w: unknown = null;
    for (let i = 0; i < 1_000_000; i++) w = [w];
    expect(tooDeep(w)).toBe('[');
  });

  it('aliases expand as copies under go-yaml\'s ratio; anchors cannot contain themselves', () => {
    const doc = parseFirstYamlDocument('a: &x {k: [1, 2]}\nb: *x\n') as { a: object; b: object };
    expect(doc.b).toEqual(doc.a);
    expect(doc.b).not.toBe(doc.a);
    const lol = ['l0: &l0 [1,1,1,1,1,1,1,1,1,1]'];
    for (let i = 1; i < 7; i++) lol.push(`l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(',')}]`);
    expect(() => parseFirstYamlDocument(lol.join('\n'))).toThrow('yaml: document contains excessive aliasing');
    expect(() => parseFirstYamlDocument('a: &s [1, *s]')).toThrow("yaml: anchor 's' value contains itself");
    expect(parseFirstYamlDocument('__proto__: {polluted: true}\n')).toEqual(JSON.parse('{"__proto__":{"polluted":true}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
