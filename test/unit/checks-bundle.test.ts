/**
 * The step checks' share of server memory, checked on the bundle the server build makes of them:
 * client-node may only bring its KubeConfig and Watch. Its object API (KubernetesObjectApi)
 * or package index pulls in the ObjectSerializer and the API machinery behind it, which the
 * server then holds in memory as source text and code.
 */
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const CLIENT_NODE = 'node_modules/@kubernetes/client-node/dist/';

/** client-node files (outside the generated models) that KubeConfig and Watch need. */
const ALLOWED = new Set(
  ['config.js', 'config_types.js', 'watch.js', 'azure_auth.js', 'exec_auth.js', 'file_auth.js', 'gcp_auth.js', 'oidc_auth.js'].map((f) => CLIENT_NODE + f),
);

/** Bundles the check engine as scripts/build-server.mjs does (tree-shaken, names kept). */
async function bundleChecks(extra = ''): Promise<Metafile['outputs'][string]> {
  const result = await build({
    stdin: {
      contents: `export * from './server/checks/engine.ts'; export * from './server/checks/context.ts'; export * from './server/checks/watcher.ts'; ${extra}`,
      resolveDir: root,
      loader: 'ts',
    },
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['node-pty', 'better-sqlite3', 'spdy-transport'],
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs)[0]!;
}

/** client-node's files that put code into the bundle, with their bytes, generated models and HTTP plumbing aside. */
function clientNodeBeyondConfigAndWatch(output: Metafile['outputs'][string]): Record<string, number> {
  return Object.fromEntries(
    Object.entries(output.inputs)
      .filter(([file, { bytesInOutput }]) => file.startsWith(CLIENT_NODE) && bytesInOutput > 0)
      .filter(([file]) => !ALLOWED.has(file) && !file.startsWith(`${CLIENT_NODE}gen/`))
      .map(([file, { bytesInOutput }]) => [file.slice(CLIENT_NODE.length), bytesInOutput]),
  );
}

const serializerBytes = (output: Metafile['outputs'][string]) => output.inputs[`${CLIENT_NODE}gen/models/ObjectSerializer.js`]?.bytesInOutput ?? 0;

describe('the check engine bundle', () => {
  it('takes only KubeConfig and Watch from client-node', async () => {
    const checks = await bundleChecks();
    expect(clientNodeBeyondConfigAndWatch(checks)).toEqual({});
    // A sliver of the serializer module is reached through the generated configuration; the serializer itself is not.
    expect(serializerBytes(checks)).toBeLessThan(4_000);
  }, 60_000);

  it('would show it if the object API came back (the measure above can fail)', async () => {
    const withObjectApi = await bundleChecks("export { KubernetesObjectApi } from '@kubernetes/client-node';");
    expect(Object.keys(clientNodeBeyondConfigAndWatch(withObjectApi))).toEqual(expect.arrayContaining(['object.js', 'index.js']));
    expect(serializerBytes(withObjectApi)).toBeGreaterThan(15_000);
  }, 60_000);
});
