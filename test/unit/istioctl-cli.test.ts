/**
 * istioctl's command line without a cluster: flags as cobra parses them, exit codes
 * (istioctl/cmd/sysexits.go), and what needs no cluster (version --remote=false, profile,
 * manifest generate).
 */
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { run } from '../../server/sim/addons/istio/istioctl/main.js';
import type { CommandIO } from '../../server/sim/addons/istio/istioctl/io.js';
import { parseArgs } from '../../server/sim/addons/istio/istioctl/args.js';

async function istioctl(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CommandIO = { out: (t) => void (out += t), err: (t) => void (err += t), readLine: async () => null, tty: false };
  const code = await run(argv, io);
  return { code, out, err };
}

describe('istioctl command line', () => {
  it('prints the client version without asking the cluster', async () => {
    expect(await istioctl('version', '--remote=false')).toEqual({ code: 0, out: '1.30.3\n', err: '' });
  });

  it('answers unknown commands and flags as cobra does, exit 64', async () => {
    expect(await istioctl('verify-install')).toEqual({ code: 64, out: '', err: 'Error: unknown command "verify-install" for "istioctl"\nRun \'istioctl --help\' for usage.\n' });
    expect(await istioctl('install', '--bogus')).toEqual({ code: 64, out: '', err: 'Error: unknown flag: --bogus\n' });
    expect(await istioctl('install', '-s')).toEqual({ code: 64, out: '', err: "Error: flag needs an argument: 's' in -s\n" });
    expect((await istioctl('install', '--readiness-timeout', 'soon')).code).toBe(64);
  });

  it('keeps --set values whole and splits -f lists on commas', () => {
    const p = parseArgs(['--set', 'meshConfig.defaultConfig.proxyMetadata.A=1,2', '-f', 'a.yaml,b.yaml', '-y'], [
      { name: 'set', short: 's', kind: 'strings' },
      { name: 'filename', short: 'f', kind: 'slice' },
      { name: 'skip-confirmation', short: 'y', kind: 'bool' },
    ]);
    expect(p.flags.get('set')).toEqual(['meshConfig.defaultConfig.proxyMetadata.A=1,2']);
    expect(p.flags.get('filename')).toEqual(['a.yaml', 'b.yaml']);
    expect(p.flags.get('skip-confirmation')).toEqual(['true']);
  });

  it('lists and dumps profiles; manifest generate renders the profile', async () => {
    const list = await istioctl('profile', 'list');
    expect(list.out).toBe('Istio configuration profiles:\n    ambient\n    default\n    demo\n    empty\n    minimal\n    openshift\n    openshift-ambient\n    preview\n    remote\n    stable\n');
    expect((await istioctl('profile', 'dump', 'nope')).err).toBe('Error: could not read profile "nope": profile does not exist\n');
    const gen = await istioctl('manifest', 'generate', '--set', 'profile=minimal');
    expect(gen.code).toBe(0);
    const kinds = YAML.parseAllDocuments(gen.out).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds.filter((k) => k === 'Deployment')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'CustomResourceDefinition')).toHaveLength(15);
  });

  it('refuses the removed mTLS value and unknown profiles before touching a cluster', async () => {
    expect(await istioctl('install', '--set', 'values.global.mtls.enabled=true', '-y', '--kubeconfig', '/nonexistent')).toEqual({
      code: 1,
      out: '',
      err: 'Error: validation errors (use --force to override): \nunknown field "mtls" in v1alpha1.GlobalConfig\n',
    });
    expect((await istioctl('install', '--set', 'profile=ambient', '-y')).err).toContain('profile "ambient" is not supported by the embedded cluster');
    expect(await istioctl('uninstall', '-y')).toEqual({ code: 1, out: '', err: 'Error: at least one of the --revision (or --set revision=<revision>), --filename or --purge flags must be set\n' });
  });
});
