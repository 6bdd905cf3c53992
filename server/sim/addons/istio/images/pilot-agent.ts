/**
 * `pilot-agent` as exec'd in an istio-proxy container (`kubectl exec POD -c istio-proxy --
 * pilot-agent request GET stats`): `request <method> <path> [<body>]` asks Envoy's admin on
 * localhost (pilot/cmd/pilot-agent/app/request.go, pilot/pkg/request/command.go). The agent's
 * other commands start or wait for processes the embedded cluster runs itself; they say so.
 */
import { request as httpRequest } from '../../../images/http.js';
import { NetworkError, type ImageProgramIO } from '../../../images/types.js';
import { ISTIO_VERSION } from '../version.js';

const ALLOWED_PORTS = [15000, 15004, 15020, 15021];

const USAGE = `Usage:
  pilot-agent request <method> <path> [<body>] [flags]

Flags:
      --debug-port int32   Set the port to make a local request to. The default points to the Envoy admin API. (default 15000)
  -h, --help               help for request

Global Flags:
      --log_as_json                   Whether to format output as JSON or in plain console-friendly format
      --log_caller string             Comma-separated list of scopes for which to include caller information, scopes can be any of [ads, all, authn, ca, cache, citadelclient, default, dns, file-watcher, gcecred, grpcgen, healthcheck, iptables, klog, mockcred, model, monitoring, sds, security, serviceentry, spiffe, stsclient, stsserver, token, trustBundle, validation, wasm, wle, xdsproxy]
      --log_output_level string       Comma-separated minimum per-scope logging level of messages to output, in the form of <scope>:<level>,<scope>:<level>,... where scope can be one of [ads, all, authn, ca, cache, citadelclient, default, dns, file-watcher, gcecred, grpcgen, healthcheck, iptables, klog, mockcred, model, monitoring, sds, security, serviceentry, spiffe, stsclient, stsserver, token, trustBundle, validation, wasm, wle, xdsproxy] and level can be one of [debug, info, warn, error, fatal, none] (default "default:info")
      --log_rotate string             The path for the optional rotating log file
      --log_stacktrace_level string   Comma-separated minimum per-scope logging level at which stack traces are captured, in the form of <scope>:<level>,<scope:level>,... where scope can be one of [ads, all, authn, ca, cache, citadelclient, default, dns, file-watcher, gcecred, grpcgen, healthcheck, iptables, klog, mockcred, model, monitoring, sds, security, serviceentry, spiffe, stsclient, stsserver, token, trustBundle, validation, wasm, wle, xdsproxy] and level can be one of [debug, info, warn, error, fatal, none] (default "default:none")
      --log_target stringArray        The set of paths where to output the log. This can be any path as well as the special values stdout and stderr (default [stdout])
      --vklog Level                   number for the log level verbosity. Like -v flag. ex: --vklog=9

`;

const ROOT_HELP = `Istio Pilot agent runs in the sidecar or gateway container and bootstraps Envoy.

Usage:
  pilot-agent [command]

Available Commands:
  completion    Generate the autocompletion script for the specified shell
  help          Help about any command
  istio-clean-iptables Clean up iptables rules for Istio Sidecar
  istio-iptables Set up iptables rules for Istio Sidecar
  proxy         XDS proxy agent
  request       Makes an HTTP request to the Envoy admin API
  version       Prints out build version information
  wait          Waits until the Envoy proxy is ready

Flags:
  -h, --help   help for pilot-agent

Use "pilot-agent [command] --help" for more information about a command.
`;

/** cobra's error line; pilot-agent's root command silences usage on RunE errors. */
function fail(io: ImageProgramIO, message: string, usage = false): number {
  io.stderr.write(`Error: ${message}\n`);
  if (usage) io.stdout.write(USAGE);
  return 1;
}

async function requestCommand(io: ImageProgramIO, args: string[]): Promise<number> {
  let port = 15000;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') {
      io.stdout.write(`Makes an HTTP request to the Envoy admin API\n\n${USAGE}`);
      return 0;
    }
    const m = /^--debug-port(?:=(.*))?$/.exec(a);
    if (m) {
      const v = m[1] ?? args[++i];
      if (v === undefined) return fail(io, 'flag needs an argument: --debug-port', true);
      if (!/^-?\d+$/.test(v)) return fail(io, `invalid argument "${v}" for "--debug-port" flag: strconv.ParseInt: parsing "${v}": invalid syntax`, true);
      port = Number(v);
      continue;
    }
    if (a.startsWith('-') && a !== '-') return fail(io, `unknown flag: ${a.split('=')[0]}`, true);
    positional.push(a);
  }
  if (positional.length < 2) return fail(io, `requires at least 2 arg(s), only received ${positional.length}`, true);
  if (!ALLOWED_PORTS.includes(port)) return fail(io, `debug port ${port} is not in allowed list [${ALLOWED_PORTS.join(' ')}]`);
  const [method, rawPath, body = ''] = positional as [string, string, string?];
  const path = rawPath.replace(/^\//, '');
  const url = `http://localhost:${port}/${path}`;
  let res;
  try {
    res = await io.ctx.net.request({ host: 'localhost', port }, httpRequest(method, `/${path}`, { host: `localhost:${port}`, 'user-agent': 'Go-http-client/1.1', 'accept-encoding': 'gzip' }, body), { timeoutMs: 60_000 });
  } catch (e) {
    if (e instanceof NetworkError && e.code === 'ECONNREFUSED') return fail(io, `${goMethod(method)} "${url}": dial tcp 127.0.0.1:${port}: connect: connection refused`);
    if (e instanceof NetworkError && e.code === 'ETIMEDOUT') return fail(io, `${goMethod(method)} "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
    throw e;
  }
  const text = res.body.toString('utf8');
  if (res.status > 399 && res.status !== 404) return fail(io, `received unsuccessful status code ${res.status}: ${text}`);
  // fmt.Println(string(respBody)): the body and one more newline.
  io.stdout.write(text + '\n');
  return 0;
}

/** Go's http.Client error prefix: the method as `Get`, `Post`, … */
const goMethod = (m: string) => m.charAt(0).toUpperCase() + m.slice(1).toLowerCase();

export async function pilotAgent(io: ImageProgramIO): Promise<number> {
  const [cmd, ...rest] = io.argv.slice(1);
  switch (cmd) {
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      io.stdout.write(ROOT_HELP);
      return 0;
    case 'request':
      return requestCommand(io, rest);
    case 'version':
      io.stdout.write(rest.includes('-s') || rest.includes('--short') ? `${ISTIO_VERSION}\n` : `version.BuildInfo{Version:"${ISTIO_VERSION}", GitRevision:"", GolangVersion:"go1.24.4", BuildStatus:"Clean", GitTag:"${ISTIO_VERSION}"}\n`);
      return 0;
    case 'wait':
      // The proxy in this container is already up: the readiness the command waits for holds.
      io.stderr.write(`${io.ctx.now().toISOString()}\tinfo\tWaiting for Envoy proxy to be ready (timeout: 60 seconds)...\n${io.ctx.now().toISOString()}\tinfo\tEnvoy is ready!\n`);
      return 0;
    case 'proxy':
    case 'istio-iptables':
    case 'istio-clean-iptables':
    case 'completion':
      io.stderr.write(`pilot-agent: running "pilot-agent ${cmd}" is not supported by the embedded cluster (the container's agent already runs)\n`);
      return 126;
    default:
      io.stderr.write(`Error: unknown command "${cmd}" for "pilot-agent"\nRun 'pilot-agent --help' for usage.\n`);
      return 1;
  }
}
