/**
 * `istioctl proxy-config` (istioctl/pkg/proxyconfig/proxyconfig.go): a proxy's Envoy config
 * read from its admin's /config_dump (and /clusters for endpoints) through a port-forward,
 * printed by the config-dump writers. `--file` reads a saved dump instead, as the real one does.
 */
import fs from 'node:fs';
import { flagBool, flagString, parseArgs, UsageError, type FlagSpec, type Parsed } from './args.js';
import { CommandError, EXIT, type CommandIO } from './io.js';
import { connect } from './cluster.js';
import type { KubeClient } from './kube.js';
import { envoyDo, EnvoyDoError } from './envoy-admin.js';
import {
  bootstrapDump,
  bootstrapSummary,
  clusterDump,
  clusterSummary,
  DumpError,
  edsSummary,
  endpointsDump,
  endpointsSummary,
  goYaml,
  listenerDump,
  listenerSummary,
  routeDump,
  routeSummary,
  secretSummary,
  type ClusterFilter,
  type EndpointFilter,
  type ListenerFilter,
  type RouteFilter,
} from './config-dump.js';
import { resolvePod } from './pods.js';

type Json = Record<string, any>;

const HELP = `A group of commands used to retrieve information about proxy configuration from the Envoy config dump

Usage:
  istioctl proxy-config [command]

Aliases:
  proxy-config, pc

Examples:
  # Retrieve information about proxy configuration from an Envoy instance.
  istioctl proxy-config <clusters|listeners|routes|endpoints|ecds|bootstrap|log|secret> <pod-name[.namespace]>

Available Commands:
  all            Retrieves all configuration for the Envoy in the specified pod
  bootstrap      Retrieves bootstrap configuration for the Envoy in the specified pod
  cluster        Retrieves cluster configuration for the Envoy in the specified pod
  ecds           Retrieves typed extension configuration for the Envoy in the specified pod
  endpoint       Retrieves endpoint configuration for the Envoy in the specified pod
  listener       Retrieves listener configuration for the Envoy in the specified pod
  log            Retrieves logging levels of the Envoy in the specified pod
  rootca-compare Compare ROOTCA values for the two given pods
  route          Retrieves route configuration for the Envoy in the specified pod
  secret         Retrieves secret configuration for the Envoy in the specified pod

Flags:
  -h, --help                   help for proxy-config
  -o, --output string          Output format: one of json|yaml|short (default "short")
      --proxy-admin-port int   Envoy proxy admin port (default 15000)

Use "istioctl proxy-config [command] --help" for more information about a command.
`;

const COMMON: FlagSpec[] = [
  { name: 'output', short: 'o', kind: 'string' },
  { name: 'proxy-admin-port', kind: 'string' },
  { name: 'file', short: 'f', kind: 'string' },
];

interface Sub {
  name: string;
  flags: FlagSpec[];
}

const SUBS: Record<string, Sub> = {
  cluster: { name: 'cluster', flags: [{ name: 'fqdn', kind: 'string' }, { name: 'direction', kind: 'string' }, { name: 'subset', kind: 'string' }, { name: 'port', kind: 'string' }] },
  all: {
    name: 'all',
    flags: [
      { name: 'with-headers', kind: 'bool' }, { name: 'verbose', kind: 'bool' }, { name: 'fqdn', kind: 'string' }, { name: 'direction', kind: 'string' }, { name: 'subset', kind: 'string' },
      { name: 'port', kind: 'string' }, { name: 'address', kind: 'string' }, { name: 'type', kind: 'string' }, { name: 'name', kind: 'string' },
    ],
  },
  listener: { name: 'listener', flags: [{ name: 'address', kind: 'string' }, { name: 'type', kind: 'string' }, { name: 'port', kind: 'string' }, { name: 'verbose', kind: 'bool' }, { name: 'waypoint', kind: 'bool' }] },
  route: { name: 'route', flags: [{ name: 'name', kind: 'string' }, { name: 'verbose', kind: 'bool' }] },
  endpoint: { name: 'endpoint', flags: [{ name: 'address', kind: 'string' }, { name: 'port', kind: 'string' }, { name: 'cluster', kind: 'string' }, { name: 'status', kind: 'string' }] },
  bootstrap: { name: 'bootstrap', flags: [] },
  secret: { name: 'secret', flags: [] },
  log: { name: 'log', flags: [{ name: 'level', kind: 'string' }, { name: 'reset', short: 'r', kind: 'bool' }, { name: 'selector', short: 'l', kind: 'string' }] },
  ecds: { name: 'ecds', flags: [] },
  eds: { name: 'eds', flags: [{ name: 'address', kind: 'string' }, { name: 'port', kind: 'string' }, { name: 'cluster', kind: 'string' }, { name: 'status', kind: 'string' }] },
  'rootca-compare': { name: 'rootca-compare', flags: [] },
};

const ALIASES: Record<string, string> = {
  cluster: 'cluster', clusters: 'cluster', c: 'cluster',
  all: 'all', a: 'all',
  listener: 'listener', listeners: 'listener', l: 'listener',
  route: 'route', routes: 'route', r: 'route',
  endpoint: 'endpoint', endpoints: 'endpoint', ep: 'endpoint',
  bootstrap: 'bootstrap', b: 'bootstrap',
  secret: 'secret', secrets: 'secret', s: 'secret',
  log: 'log', o: 'log',
  ecds: 'ecds', ec: 'ecds',
  eds: 'eds',
  'rootca-compare': 'rootca-compare', rc: 'rootca-compare',
};

/** Config-dump paths per subcommand (proxyconfig.go's clusterPath, listenerPath, …). */
const MASKS: Record<string, string> = {
  cluster: 'config_dump?mask=dynamic_active_clusters,dynamic_warming_clusters,static_clusters',
  listener: 'config_dump?mask=dynamic_listeners,static_listeners',
  route: 'config_dump?mask=dynamic_route_configs,static_route_configs',
  bootstrap: 'config_dump?mask=bootstrap',
  secret: 'config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets',
  all: 'config_dump?include_eds=true',
  eds: 'config_dump?include_eds=true',
};

function intFlag(p: Parsed, name: string): number {
  const v = flagString(p, name);
  if (v === undefined) return 0;
  if (!/^[+-]?\d+$/.test(v)) throw new UsageError(`invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** A bool flag that defaults to true (`--verbose`). */
const boolDefaultTrue = (p: Parsed, name: string) => p.flags.get(name)?.[0] !== 'false';

export async function proxyConfig(rest: string[], io: CommandIO, globals: FlagSpec[]): Promise<number> {
  const all = new Map<string, FlagSpec>();
  for (const s of [...globals, ...COMMON, ...Object.values(SUBS).flatMap((x) => x.flags)]) all.set(s.name, s);
  let probe: Parsed;
  try {
    probe = parseArgs(rest, [...all.values()]);
  } catch {
    probe = { positional: rest.filter((a) => !a.startsWith('-')), flags: new Map() };
  }
  const word = probe.positional[0];
  if (word === undefined) {
    // cobra prints a command group's help when it is run without a subcommand.
    parseArgs(rest, [...globals, ...COMMON]);
    io.out(HELP);
    return EXIT.ok;
  }
  const subName = ALIASES[word];
  if (!subName) {
    io.out(HELP);
    return EXIT.ok;
  }
  const sub = SUBS[subName]!;
  const p = parseArgs(
    rest.filter((a, i) => !(a === word && i === rest.indexOf(word))),
    [...globals, ...COMMON, ...sub.flags],
  );
  if (flagBool(p, 'help')) {
    io.out(`Retrieves ${sub.name} configuration for the Envoy in the specified pod\n\nUsage:\n  istioctl proxy-config ${sub.name} [<type>/]<name>[.<namespace>] [flags]\n`);
    return EXIT.ok;
  }
  const adminPort = intFlag(p, 'proxy-admin-port') || 15000;
  if (adminPort < 0 || adminPort > 65535) throw new CommandError(`port number ${adminPort} must be in the range 1..65535`);
  if (['log', 'ecds', 'eds', 'rootca-compare'].includes(sub.name)) {
    throw new CommandError(`istioctl proxy-config ${sub.name} is not supported by the embedded cluster yet (its Envoy does not simulate ${sub.name === 'log' ? 'logging levels' : sub.name === 'rootca-compare' ? 'certificates' : 'that part of its configuration'})`);
  }
  const file = flagString(p, 'file');
  const args = p.positional;
  if ((args.length === 1) === (file !== undefined && file !== '') || args.length > 1) {
    io.err(`Usage:\n  istioctl proxy-config ${sub.name} [<type>/]<name>[.<namespace>] [flags]\n\n`);
    throw new CommandError(`${sub.name === 'endpoint' ? 'endpoints' : sub.name} requires pod name or --file parameter`);
  }
  const output = flagString(p, 'output') ?? (sub.name === 'bootstrap' ? 'json' : 'short');
  const fmt = output === 'json' || output === 'yaml' ? output : undefined;

  // Endpoints come from /clusters?format=json, the rest from the config dump.
  let client: KubeClient | undefined;
  try {
    const fetch = async (path: string, what: 'sidecar' | 'envoy'): Promise<string> => {
      if (file !== undefined) return readFile(file);
      client ??= await connect({ kubeconfig: flagString(p, 'kubeconfig'), context: flagString(p, 'context') });
      const { pod, namespace } = await resolvePod(client, args[0]!, flagString(p, 'namespace') || client.defaultNamespace);
      try {
        return await envoyDo(client, namespace, pod, 'GET', path, adminPort);
      } catch (e) {
        if (!(e instanceof EnvoyDoError)) throw e;
        for (const l of e.logs) io.err(l + '\n');
        throw new CommandError(what === 'sidecar' ? `failed to execute command on ${pod}.${namespace} sidecar: ${e.message}` : `failed to execute command on Envoy: ${e.message}`);
      }
    };
    const parse = (text: string): Json => {
      try {
        return JSON.parse(text) as Json;
      } catch (e) {
        throw new CommandError(`error unmarshalling config dump response from Envoy: ${(e as Error).message}`);
      }
    };
    if (sub.name === 'endpoint') {
      const filter: EndpointFilter = { address: flagString(p, 'address'), port: intFlag(p, 'port'), cluster: flagString(p, 'cluster'), status: flagString(p, 'status') };
      const body = parse(await fetch('clusters?format=json', 'envoy'));
      if (output === 'short') io.out(endpointsSummary(body, filter));
      else if (fmt) io.out(endpointsDump(body, filter, fmt));
      else throw new CommandError(`output format "${output}" not supported`);
      return EXIT.ok;
    }
    const text = await fetch(MASKS[sub.name]!, 'sidecar');
    if (sub.name === 'all' && fmt) {
      io.out((fmt === 'yaml' ? goYaml(parse(text)) : text) + '\n');
      return EXIT.ok;
    }
    const dump = parse(text);
    const verbose = boolDefaultTrue(p, 'verbose');
    const cf: ClusterFilter = { fqdn: flagString(p, 'fqdn'), port: intFlag(p, 'port'), subset: flagString(p, 'subset'), direction: flagString(p, 'direction') };
    const lf: ListenerFilter = { address: flagString(p, 'address'), port: intFlag(p, 'port'), type: flagString(p, 'type'), verbose };
    const rf: RouteFilter = { name: flagString(p, 'name'), verbose };
    if (!fmt && output !== 'short') throw new CommandError(`output format "${output}" not supported`);
    switch (sub.name) {
      case 'cluster':
        io.out(fmt ? clusterDump(dump, cf, fmt) : clusterSummary(dump, cf));
        break;
      case 'listener':
        if (flagBool(p, 'waypoint')) throw new CommandError('istioctl proxy-config listener --waypoint is not supported by the embedded cluster (it has no ambient mode)');
        io.out(fmt ? listenerDump(dump, lf, fmt) : listenerSummary(dump, lf));
        break;
      case 'route':
        io.out(fmt ? routeDump(dump, rf, fmt) : routeSummary(dump, rf));
        break;
      case 'bootstrap':
        io.out(fmt ? bootstrapDump(dump, fmt) : bootstrapSummary(dump));
        break;
      case 'secret':
        if (fmt) throw new CommandError('istioctl proxy-config secret -o json|yaml is not supported by the embedded cluster (certificates are not simulated)');
        io.out(secretSummary(dump));
        break;
      case 'all': {
        const head = (s: string) => (flagBool(p, 'with-headers') ? `------ ${s} ------\n\n` : '');
        io.out(head('BOOTSTRAP INFO') + bootstrapSummary(dump) + '\n');
        io.out(head('CLUSTER INFO') + clusterSummary(dump, cf, true) + '\n');
        io.out(head('LISTENER INFO') + listenerSummary(dump, lf, true) + '\n');
        io.out(head('ROUTE INFO') + routeSummary(dump, rf, true) + '\n');
        io.out(head('SECRET INFO') + secretSummary(dump, true) + '\n');
        io.out(head('ENDPOINTS INFO') + edsSummary(dump, true));
        break;
      }
    }
    return EXIT.ok;
  } catch (e) {
    if (e instanceof DumpError) throw new CommandError(e.message);
    throw e;
  } finally {
    client?.close();
  }
}

function readFile(file: string): string {
  try {
    return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CommandError(err.code === 'ENOENT' ? `open ${file}: no such file or directory` : err.message);
  }
}
