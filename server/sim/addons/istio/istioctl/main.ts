/**
 * istioctl for the embedded cluster: the commands of Istio 1.30's istioctl that the lessons use,
 * with its flags, texts and exit codes, over the Kubernetes API only. `run` is the whole CLI;
 * bin.ts wires it to the process.
 */
import { flagBool, flagString, flagStrings, parseArgs, UsageError, type FlagSpec, type Parsed } from './args.js';
import { CommandError, EXIT, type CommandIO } from './io.js';
import { install, manifestGenerate, uninstall } from './install.js';
import { proxyStatus, version } from './status.js';
import { analyze } from './analyze.js';
import { kubeInject } from './kube-inject.js';
import { connect } from './cluster.js';
import { proxyConfig } from './proxy-config.js';
import { describe } from './describe.js';
import { PROFILE_NAMES, PROFILE_FILES } from '../manifests/profiles.js';
import { ISTIO_VERSION } from '../version.js';

const GLOBAL: FlagSpec[] = [
  { name: 'kubeconfig', short: 'c', kind: 'string' },
  { name: 'context', kind: 'string' },
  { name: 'istioNamespace', short: 'i', kind: 'string' },
  { name: 'namespace', short: 'n', kind: 'string' },
  { name: 'vklog', kind: 'string' },
  { name: 'help', short: 'h', kind: 'bool' },
];

/** Commands real istioctl 1.30 has that this one does not run (yet). */
const UNSUPPORTED = new Set([
  'admin', 'bug-report', 'completion', 'create-remote-secret', 'dashboard', 'remote-clusters', 'tag', 'upgrade',
  'validate', 'waypoint', 'ztunnel-config', 'zc', 'check-inject', 'd',
]);

const ROOT_HELP = `Istio configuration command line utility for service operators to
debug and diagnose their Istio mesh.

Usage:
  istioctl [command]

Available Commands:
  analyze                Analyze Istio configuration and print validation messages
  install                Applies an Istio manifest, installing or reconfiguring Istio on a cluster.
  kube-inject            Inject Istio sidecar into Kubernetes pod resources
  manifest               Commands related to Istio manifests
  profile                Commands related to Istio configuration profiles
  proxy-config           Retrieve information about proxy configuration from Envoy [kube only]
  proxy-status           Retrieves the synchronization status of each Envoy in the mesh
  uninstall              Uninstall Istio from a cluster
  version                Prints out build version information
  x                      Experimental commands that may be modified or deprecated

Flags:
      --context string          Kubernetes configuration context
  -h, --help                    help for istioctl
  -i, --istioNamespace string   Istio system namespace (default "istio-system")
  -c, --kubeconfig string       Kubernetes configuration file
  -n, --namespace string        Kubernetes namespace

This istioctl drives the playground's embedded cluster; other istioctl 1.30 commands
(dashboard, tag, waypoint, ...) are not supported here yet.

Use "istioctl [command] --help" for more information about a command.
`;

function client(p: Parsed) {
  return { kubeconfig: flagString(p, 'kubeconfig'), context: flagString(p, 'context') };
}

function noArgs(p: Parsed, cmd: string): void {
  if (p.positional.length) throw new UsageError(`unknown command "${p.positional[0]}" for "istioctl ${cmd}"`);
}

async function dispatch(argv: string[], io: CommandIO): Promise<number> {
  // Global flags before the command take a value: find the command word after them.
  let cmdIndex = -1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) {
      cmdIndex = i;
      break;
    }
    if (/^(-c|-i|-n|--kubeconfig|--context|--istioNamespace|--namespace|--vklog)$/.test(a)) i++;
  }
  const cmd = cmdIndex >= 0 ? argv[cmdIndex]! : '';
  const rest = cmdIndex >= 0 ? [...argv.slice(0, cmdIndex), ...argv.slice(cmdIndex + 1)] : argv;
  const parse = (extra: FlagSpec[]) => parseArgs(rest, [...GLOBAL, ...extra]);

  switch (cmd) {
    case '':
    case 'help': {
      parse([]);
      io.out(ROOT_HELP);
      return EXIT.ok;
    }
    case 'version': {
      const p = parse([
        { name: 'remote', kind: 'bool' },
        { name: 'short', short: 's', kind: 'bool' },
        { name: 'output', short: 'o', kind: 'string' },
        { name: 'revision', short: 'r', kind: 'string' },
      ]);
      noArgs(p, 'version');
      if (flagBool(p, 'help')) return help(io, 'version', 'Prints out build version information', 'istioctl version [flags]');
      return version(io, { ...client(p), remote: p.flags.get('remote')?.[0] !== 'false', short: p.flags.get('short')?.[0] !== 'false', istioNamespace: flagString(p, 'istioNamespace') ?? 'istio-system', output: flagString(p, 'output') });
    }
    case 'install':
    case 'apply': {
      const p = parse([
        { name: 'set', short: 's', kind: 'strings' },
        { name: 'filename', short: 'f', kind: 'slice' },
        { name: 'skip-confirmation', short: 'y', kind: 'bool' },
        { name: 'dry-run', kind: 'bool' },
        { name: 'readiness-timeout', kind: 'string' },
        { name: 'revision', short: 'r', kind: 'string' },
        { name: 'force', kind: 'bool' },
        { name: 'manifests', short: 'd', kind: 'string' },
      ]);
      noArgs(p, 'install');
      if (flagBool(p, 'help')) return help(io, 'install', 'The install command generates an Istio install manifest and applies it to a cluster.', 'istioctl install [flags]');
      if (flagString(p, 'manifests')) throw new CommandError('--manifests is not supported by the embedded cluster (its charts are built in)');
      const sets = flagStrings(p, 'set');
      const revision = flagString(p, 'revision');
      if (revision) sets.push(`revision=${revision}`);
      return install(io, {
        ...client(p),
        files: flagStrings(p, 'filename'),
        sets,
        skipConfirmation: flagBool(p, 'skip-confirmation'),
        dryRun: flagBool(p, 'dry-run'),
        readinessTimeoutMs: parseDuration(flagString(p, 'readiness-timeout') ?? '5m0s'),
      });
    }
    case 'uninstall': {
      const p = parse([
        { name: 'purge', kind: 'bool' },
        { name: 'skip-confirmation', short: 'y', kind: 'bool' },
        { name: 'revision', short: 'r', kind: 'string' },
        { name: 'filename', short: 'f', kind: 'slice' },
        { name: 'set', short: 's', kind: 'strings' },
        { name: 'dry-run', kind: 'bool' },
        { name: 'verbose', short: 'v', kind: 'bool' },
      ]);
      noArgs(p, 'uninstall');
      if (flagBool(p, 'help')) return help(io, 'uninstall', 'The uninstall command uninstalls Istio from a cluster', 'istioctl uninstall [flags]');
      return uninstall(io, { ...client(p), purge: flagBool(p, 'purge'), revision: flagString(p, 'revision'), files: flagStrings(p, 'filename'), skipConfirmation: flagBool(p, 'skip-confirmation') });
    }
    case 'analyze': {
      const p = parse([
        { name: 'all-namespaces', short: 'A', kind: 'bool' },
        { name: 'use-kube', short: 'k', kind: 'bool' },
        { name: 'failure-threshold', kind: 'string' },
        { name: 'output-threshold', kind: 'string' },
        { name: 'output', short: 'o', kind: 'string' },
        { name: 'color', kind: 'bool' },
        { name: 'verbose', short: 'v', kind: 'bool' },
        { name: 'list-analyzers', short: 'L', kind: 'bool' },
        { name: 'recursive', short: 'R', kind: 'bool' },
      ]);
      if (flagBool(p, 'help')) return help(io, 'analyze', 'Analyze Istio configuration and print validation messages', 'istioctl analyze <file>... [flags]');
      if (flagBool(p, 'list-analyzers')) {
        io.out('Available analyzers:\n* destinationrule.SubsetAnalyzer\n* service.PortNameAnalyzer\n* injection.Analyzer\n* virtualservice.DestinationHostAnalyzer\n* virtualservice.DestinationRuleAnalyzer\n* virtualservice.GatewayAnalyzer\n');
        return EXIT.ok;
      }
      return analyze(io, {
        ...client(p),
        namespace: flagString(p, 'namespace'),
        allNamespaces: flagBool(p, 'all-namespaces'),
        files: p.positional,
        useKube: p.flags.get('use-kube')?.[0] !== 'false',
        failureThreshold: flagString(p, 'failure-threshold') ?? 'Error',
        outputThreshold: flagString(p, 'output-threshold') ?? 'Info',
        output: flagString(p, 'output') ?? 'log',
      });
    }
    case 'proxy-status':
    case 'ps': {
      const p = parse([
        { name: 'output', short: 'o', kind: 'string' },
        { name: 'revision', short: 'r', kind: 'string' },
        { name: 'verbosity', short: 'v', kind: 'string' },
      ]);
      const psOut = flagString(p, 'output');
      if (psOut && psOut !== 'table') throw new CommandError(`proxy-status -o ${psOut} is not supported by the embedded cluster yet`);
      if (flagBool(p, 'help')) return help(io, 'proxy-status', 'Retrieves last sent and last acknowledged xDS sync from Istiod to each Envoy in the mesh', 'istioctl proxy-status [<type>/]<name>[.<namespace>] [flags]');
      if (p.positional.length) throw new CommandError('proxy-status for one proxy is not supported by the embedded cluster yet');
      return proxyStatus(io, { ...client(p), istioNamespace: flagString(p, 'istioNamespace') ?? 'istio-system', namespace: flagString(p, 'namespace') });
    }
    case 'proxy-config':
    case 'pc':
      return proxyConfig(rest, io, GLOBAL);
    case 'kube-inject': {
      const p = parse([
        { name: 'filename', short: 'f', kind: 'string' },
        { name: 'output', short: 'o', kind: 'string' },
        { name: 'injectConfigFile', kind: 'string' },
        { name: 'meshConfigFile', kind: 'string' },
        { name: 'valuesFile', kind: 'string' },
        { name: 'revision', short: 'r', kind: 'string' },
      ]);
      if (flagBool(p, 'help')) return help(io, 'kube-inject', 'kube-inject manually injects the Istio sidecar into Kubernetes workloads.', 'istioctl kube-inject [flags]');
      const filename = flagString(p, 'filename');
      if (!filename) throw new CommandError('filename not specified (see --filename or -f)');
      for (const f of ['injectConfigFile', 'meshConfigFile', 'valuesFile']) if (flagString(p, f)) throw new CommandError(`kube-inject --${f} is not supported by the embedded cluster yet: it reads the injector ConfigMaps from the cluster`);
      return kubeInject(io, { ...client(p), filename, istioNamespace: flagString(p, 'istioNamespace') ?? 'istio-system', output: flagString(p, 'output') });
    }
    case 'manifest': {
      const sub = rest.find((a) => !a.startsWith('-'));
      if (sub !== 'generate') {
        if (!sub) {
          io.out('The manifest command generates and diffs Istio manifests.\n\nUsage:\n  istioctl manifest [command]\n\nAvailable Commands:\n  generate    Generates an Istio install manifest\n  translate   Convert a Helm values.yaml file to an IstioOperator configuration\n');
          return EXIT.ok;
        }
        throw new UsageError(`unknown command "${sub}" for "istioctl manifest"`);
      }
      const p = parseArgs(rest.filter((a, i) => !(a === 'generate' && i === rest.indexOf('generate'))), [
        ...GLOBAL,
        { name: 'set', short: 's', kind: 'strings' },
        { name: 'filename', short: 'f', kind: 'slice' },
        { name: 'cluster-specific', kind: 'bool' },
        { name: 'revision', short: 'r', kind: 'string' },
      ]);
      noArgs(p, 'manifest generate');
      return manifestGenerate(io, { files: flagStrings(p, 'filename'), sets: flagStrings(p, 'set') });
    }
    case 'profile': {
      const sub = rest.find((a) => !a.startsWith('-'));
      if (sub === 'list') {
        io.out(`Istio configuration profiles:\n${PROFILE_NAMES.map((n) => `    ${n}\n`).join('')}`);
        return EXIT.ok;
      }
      if (sub === 'dump') {
        const name = rest.filter((a) => !a.startsWith('-'))[1] ?? 'default';
        const text = PROFILE_FILES[`${name}.yaml`];
        if (!text) throw new CommandError(`could not read profile "${name}": profile does not exist`);
        io.out(text);
        return EXIT.ok;
      }
      if (!sub) {
        io.out('The profile command lists, dumps or diffs Istio configuration profiles.\n\nUsage:\n  istioctl profile [command]\n\nAvailable Commands:\n  diff        Diffs two Istio configuration profiles\n  dump        Dumps an Istio configuration profile\n  list        Lists available Istio configuration profiles\n');
        return EXIT.ok;
      }
      throw new UsageError(`unknown command "${sub}" for "istioctl profile"`);
    }
    case 'x':
    case 'experimental': {
      const sub = rest.find((a) => !a.startsWith('-'));
      if (sub === 'precheck') {
        const p = parse([{ name: 'revision', short: 'r', kind: 'string' }, { name: 'skip-controlplane', kind: 'bool' }, { name: 'output', short: 'o', kind: 'string' }]);
        if (p.positional.length > 1) throw new UsageError(`unknown command "${p.positional[1]}" for "istioctl x precheck"`);
        const c = await connect(client(p));
        c.close();
        io.out('✔ No issues found when checking the cluster. Istio is safe to install or upgrade!\n  To get started, check out https://istio.io/latest/docs/setup/getting-started/\n');
        return EXIT.ok;
      }
      if (sub === 'describe' || sub === 'des') return describe(rest.filter((a, i) => i !== rest.indexOf(sub)), io, GLOBAL);
      if (!sub) {
        io.out('Experimental commands that may be modified or deprecated\n\nUsage:\n  istioctl experimental [command]\n\nAliases:\n  experimental, x, exp\n\nAvailable Commands:\n  describe    Describe resource and related Istio configuration\n  precheck    check whether Istio can safely be installed or upgraded\n');
        return EXIT.ok;
      }
      throw new CommandError(`istioctl x ${sub} is not supported by the embedded cluster`);
    }
    default:
      if (UNSUPPORTED.has(cmd)) {
        throw new CommandError(`istioctl ${cmd} is not supported by the embedded cluster yet (istioctl ${ISTIO_VERSION} has it; it needs a real cluster)`);
      }
      throw new UsageError(`unknown command "${cmd}" for "istioctl"`);
  }
}

function help(io: CommandIO, _cmd: string, summary: string, usage: string): number {
  io.out(`${summary}\n\nUsage:\n  ${usage}\n\nRun "istioctl --help" for the global flags.\n`);
  return EXIT.ok;
}

function parseDuration(v: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(v);
  if (!m || v === '') throw new UsageError(`invalid argument "${v}" for "--readiness-timeout" flag: time: invalid duration "${v}"`);
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

/** Runs one istioctl command line; resolves to its exit code. */
export async function run(argv: string[], io: CommandIO): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`Error: ${e.message}\n${/^unknown command/.test(e.message) ? "Run 'istioctl --help' for usage.\n" : ''}`);
      return EXIT.usage;
    }
    if (e instanceof CommandError) {
      io.err(`Error: ${e.message}\n`);
      return e.exitCode;
    }
    io.err(`Error: ${(e as Error).message ?? String(e)}\n`);
    return EXIT.unknown;
  }
}
