/**
 * The in-container tar and the byte counts of head/tail, as kubectl cp and people use them: GNU
 * wording in debian-based images, busybox wording in busybox ones.
 */
import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../server/sim/images/testing/memory-network.js';
import { exec } from '../../server/sim/images/testing/exec.js';

function pods() {
  const net = new MemoryNetwork();
  return { bb: net.addPod({ name: 'bb', image: 'busybox:1.36' }), ub: net.addPod({ name: 'ub', image: 'ubuntu:24.04' }) };
}
const sh = (ctx: Parameters<typeof exec>[0], script: string) => exec(ctx, ['sh', '-c', script]);

describe('tar in a container', () => {
  it('creates, lists and extracts through a pipe, keeping directories and contents', async () => {
    const { ub } = pods();
    const r = await sh(ub, 'mkdir -p /tmp/a/b && echo one > /tmp/a/one && echo two > /tmp/a/b/two && tar cf - /tmp/a | tar xf - -C /root && cat /root/tmp/a/one /root/tmp/a/b/two && tar cf - -C /tmp a | tar tf -');
    expect(r.stdout).toBe('one\ntwo\na/\na/b/\na/b/two\na/one\n');
    expect(r.stderr).toBe("tar: Removing leading `/' from member names\n");
  });

  it('says what GNU tar and busybox tar say for a missing file, a missing -C directory and bad input', async () => {
    const { bb, ub } = pods();
    expect(await sh(ub, 'tar cf - /nope > /dev/null')).toEqual({ code: 2, stdout: '', stderr: "tar: Removing leading `/' from member names\ntar: /nope: Cannot stat: No such file or directory\ntar: Exiting with failure status due to previous errors\n" });
    expect(await sh(bb, 'tar cf - /nope > /dev/null')).toEqual({ code: 1, stdout: '', stderr: 'tar: /nope: No such file or directory\ntar: error exit delayed from previous errors\n' });
    expect(await sh(ub, 'echo x | tar -xmf - -C /nope')).toEqual({ code: 2, stdout: '', stderr: 'tar: /nope: Cannot open: No such file or directory\ntar: Error is not recoverable: exiting now\n' });
    expect(await sh(bb, 'echo x | tar -xmf - -C /nope')).toEqual({ code: 1, stdout: '', stderr: "tar: can't change directory to '/nope': No such file or directory\n" });
    expect((await sh(ub, 'head -c 600 /etc/hosts | tar xf -')).stderr).toBe('tar: This does not look like a tar archive\ntar: Exiting with failure status due to previous errors\n');
    expect(await sh(ub, 'tar czf - /etc/hosts')).toMatchObject({ code: 2, stderr: expect.stringContaining('not supported by the embedded cluster') });
    expect(await sh(ub, 'tar')).toMatchObject({ code: 2, stderr: "tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\nTry 'tar --help' or 'tar --usage' for more information.\n" });
  });

  it('accepts kubectl cp\'s flags and writes under -C', async () => {
    const { bb } = pods();
    const r = await sh(bb, 'echo data > /tmp/f && tar cf - -C /tmp f | tar --no-same-permissions --no-same-owner -xmf - -C /root && cat /root/f');
    expect(r).toEqual({ code: 0, stdout: 'data\n', stderr: '' });
  });
});

describe('head and tail by bytes', () => {
  it('-c N, -c+N (what kubectl cp --retries resumes with) and --bytes', async () => {
    const { ub } = pods();
    expect((await sh(ub, 'printf abcdef | tail -c 2; echo; printf abcdef | tail -c+3; echo; printf abcdef | head -c 2; echo; printf abcdef | head --bytes=3')).stdout).toBe('ef\ncdef\nab\nabc');
  });
});

describe('tar with an archive file', () => {
  it('opens the archive before -C applies, as GNU tar does', async () => {
    const { ub } = pods();
    const r = await sh(ub, 'mkdir /tmp/src && echo hi > /tmp/src/x && cd /root && tar cf out.tar -C /tmp src && tar tf /root/out.tar && mkdir /tmp/dst && tar xf out.tar -C /tmp/dst && cat /tmp/dst/src/x');
    expect(r).toEqual({ code: 0, stdout: 'src/\nsrc/x\nhi\n', stderr: '' });
  });
});
