/** A cobra-like command line: flags anywhere, `--flag=v`, `--flag v`, `-f v`, booleans, `--` ends flags. */

export class UsageError extends Error {}

export interface FlagSpec {
  /** Long name, e.g. 'set'. */
  name: string;
  short?: string;
  /** strings: cobra StringArray (`--set a=1,b` is one value); slice: StringSlice (split on commas). */
  kind: 'bool' | 'string' | 'strings' | 'slice';
}

export interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
}

export function parseArgs(argv: string[], specs: FlagSpec[]): Parsed {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  const push = (s: FlagSpec, v: string) => flags.set(s.name, [...(flags.get(s.name) ?? []), v]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    let shown = a;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
      spec = byLong.get(name);
      shown = `--${name}`;
      if (!spec) throw new UsageError(`unknown flag: ${shown}`);
    } else if (a.startsWith('-') && a.length > 1) {
      const name = a[1]!;
      spec = byShort.get(name);
      if (!spec) throw new UsageError(`unknown shorthand flag: '${name}' in ${a}`);
      const rest = a.slice(2);
      if (rest) inline = rest.startsWith('=') ? rest.slice(1) : rest;
    } else {
      positional.push(a);
      continue;
    }
    if (spec.kind === 'bool') {
      const v = inline ?? 'true';
      if (v !== 'true' && v !== 'false') throw new UsageError(`invalid argument "${v}" for "${shown}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
      flags.set(spec.name, [v]);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: ${a.startsWith('--') ? shown : `'${spec.short}' in -${spec.short}`}`);
      value = argv[++i]!;
    }
    if (spec.kind === 'strings') push(spec, value);
    else if (spec.kind === 'slice') for (const part of value.split(',')) push(spec, part);
    else flags.set(spec.name, [value]);
  }
  return { positional, flags };
}

export function flagBool(p: Parsed, name: string): boolean {
  return p.flags.get(name)?.[0] === 'true';
}

export function flagString(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return v ? v[v.length - 1] : undefined;
}

export function flagStrings(p: Parsed, name: string): string[] {
  return p.flags.get(name) ?? [];
}
