/**
 * The step checks' share of server memory, checked on the bundle the server build makes of them:
 * what loads with the check engine may take from client-node only its kubeconfig parsing and its
 * exec-plugin and token-file authenticators (server/cluster/kubeconfig.ts). Its KubeConfig
 * module, object API or package index pull in the generated API and its serializer, a fetch
 * polyfill and proxy libraries, which the server would hold in memory as source text and code.
 * What only some kubeconfigs need (auth-providers, proxies) loads in chunks of its own.
 */
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const CLIENT_NODE = 'node_modules/@kubernetes/client-node/dist/';
const ALLOWED = new Set(['config_types.js', 'exec_auth.js', 'file_auth.js']);

/** Bundles the check engine as scripts/build-server.mjs does; returns the inputs of what loads with it (static imports only). */
async function checksAtLoad(extra = ''): Promise<Record<string, number>> {
  const result = await build({
    stdin: {
      contents: `export * from './server/checks/engine.ts'; export * from './server/checks/context.ts'; export * from './server/checks/watcher.ts'; ${extra}`,
      resolveDir: root,
      loader: 'ts',
      sourcefile: 'checks-entry.ts',
    },
    absWorkingDir: root,
    bundle: true,
    splitting: true,
    outdir: path.join(root, 'dist', 'checks-bundle-test'),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['node-pty', 'better-sqlite3', 'spdy-transport', 'iconv-lite'],
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = result.metafile.outputs;
  const entry = Object.keys(outputs).find((f) => outputs[f]!.entryPoint !== undefined)!;
  const inputs: Record<string, number> = {};
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const out: Metafile['outputs'][string] = outputs[file]!;
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) inputs[input] = (inputs[input] ?? 0) + bytesInOutput;
    for (const i of out.imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(entry);
  return inputs;
}

const fromClientNode = (inputs: Record<string, number>) =>
  Object.entries(inputs)
    .filter(([file, bytes]) => file.startsWith(CLIENT_NODE) && bytes > 0)
    .map(([file]) => file.slice(CLIENT_NODE.length))
    .sort();

describe('the check engine bundle', () => {
  it('loads only client-node’s kubeconfig parsing and its exec and token-file authenticators', async () => {
    const inputs = await checksAtLoad();
    expect(fromClientNode(inputs).filter((f) => !ALLOWED.has(f))).toEqual([]);
    expect(Object.keys(inputs).filter((f) => /node_modules\/(node-fetch|tr46|js-yaml|openid-client|socks)\//.test(f))).toEqual([]);
  }, 60_000);

  it('would show it if client-node’s KubeConfig or object API came back (the measure above can fail)', async () => {
    const withKubeConfig = await checksAtLoad("export { KubeConfig } from '@kubernetes/client-node/dist/config.js';");
    expect(fromClientNode(withKubeConfig)).toEqual(expect.arrayContaining(['config.js', 'gen/http/http.js']));
    const withObjectApi = await checksAtLoad("export { KubernetesObjectApi } from '@kubernetes/client-node';");
    expect(fromClientNode(withObjectApi)).toEqual(expect.arrayContaining(['object.js', 'index.js', 'gen/models/ObjectSerializer.js']));
  }, 60_000);
});
