/**
 * Toolbox images people start to poke around a cluster: busybox, alpine, curlimages/curl,
 * ubuntu, debian. They serve nothing; their process is the spec's command or the image's
 * default (a shell, which exits at once without stdin, as it does for real).
 */
import type { ImageBehaviourEntry } from '../types.js';
import { processBehaviour, runMainProcess } from './process.js';
import { ALPINE_OS_RELEASE, DEBIAN_OS_RELEASE, UBUNTU_OS_RELEASE } from './os.js';

const is = (...names: string[]) => (repo: string) => names.includes(repo);

export const busybox: ImageBehaviourEntry = {
  name: 'busybox',
  matches: (img) => is('library/busybox')(img.repository) || img.name === 'busybox',
  create: () => processBehaviour({ userland: 'busybox' }, { cmd: ['sh'] }),
};

export const alpine: ImageBehaviourEntry = {
  name: 'alpine',
  matches: (img) => is('library/alpine')(img.repository),
  create: () => processBehaviour({ userland: 'busybox', missingPrograms: ['curl'], files: { '/etc/os-release': ALPINE_OS_RELEASE } }, { cmd: ['/bin/sh'] }),
};

/**
 * curlimages/curl; Istio's `sleep`/`curl` samples run it with `command: ["/bin/sleep", "infinity"]`.
 * Its entrypoint.sh runs `curl ARGS` when the first arg is an option or not a program, else
 * execs ARGS, so `kubectl run c --image=curlimages/curl -- sleep 3600` sleeps.
 */
export const curlImage: ImageBehaviourEntry = {
  name: 'curlimages/curl',
  matches: (img) => img.repository === 'curlimages/curl',
  create: () => {
    const base = { userland: 'busybox' as const, user: 'curl_user', files: { '/etc/os-release': ALPINE_OS_RELEASE } };
    return {
      ...processBehaviour(base, {}),
      run: async (ctx, signal) => {
        if (ctx.command) return runMainProcess(ctx, [...ctx.command, ...(ctx.args ?? [])], signal);
        const args = ctx.args ?? ['curl'];
        const { containerPrograms } = await import('../shell/index.js');
        const known = containerPrograms({ ports: [], ...base }, null).has(args[0]?.split('/').pop() ?? '');
        return runMainProcess(ctx, args[0]?.startsWith('-') || !known ? ['curl', ...args] : args, signal);
      },
    };
  },
};

export const ubuntu: ImageBehaviourEntry = {
  name: 'ubuntu',
  matches: (img) => is('library/ubuntu')(img.repository),
  create: () =>
    processBehaviour(
      { userland: 'debian', missingPrograms: ['curl', 'wget', 'nslookup'], files: { '/etc/os-release': UBUNTU_OS_RELEASE } },
      { cmd: ['/bin/bash'] },
    ),
};

export const debian: ImageBehaviourEntry = {
  name: 'debian',
  matches: (img) => is('library/debian')(img.repository),
  create: () =>
    processBehaviour(
      { userland: 'debian', missingPrograms: ['curl', 'wget', 'nslookup'], files: { '/etc/os-release': DEBIAN_OS_RELEASE } },
      { cmd: ['bash'] },
    ),
};
