/**
 * Tools in containers with the real kubectl: `kubectl cp` both ways (through the image's tar),
 * `kubectl debug` (ephemeral containers, --copy-to, node/NAME) and `kubectl attach`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './sim-network-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.ok(['run', 'box', '--image=busybox:1.36', '--', 'sleep', '3600']);
  await h.ok(['run', 'web', '--image=nginx:1.27']);
  // go-httpbin ships no shell and no tar (distroless).
  await h.ok(['run', 'bin', '--image=mccutchen/go-httpbin:v2.15.0']);
  await h.ok(['wait', '--for=condition=Ready', 'pod/box', 'pod/web', 'pod/bin', '--timeout=60s']);
}, 90_000);

afterAll(async () => {
  await h?.close();
});

describe('kubectl cp', () => {
  it('copies a file out of a pod, saying what tar says about the leading slash', async () => {
    const dest = join(h.dir, 'hosts');
    const r = await h.kubectl(['cp', 'web:/etc/hosts', dest]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    // kubectl passes the remote tar's stderr to its stdout; nginx is debian-based: GNU tar.
    expect(r.stdout).toBe("tar: Removing leading `/' from member names\n");
    const inPod = await h.ok(['exec', 'web', '--', 'cat', '/etc/hosts']);
    expect(readFileSync(dest, 'utf8')).toBe(inPod);
    expect(inPod).toContain('\tweb\n');
  });

  it('copies binary data into a pod and back byte for byte (busybox tar)', async () => {
    const data = randomBytes(300_000);
    const src = join(h.dir, 'blob.bin');
    writeFileSync(src, data);
    const up = await h.kubectl(['cp', src, 'box:/tmp/']);
    expect(up).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await h.ok(['exec', 'box', '--', 'wc', '-c', '/tmp/blob.bin'])).toBe('300000 /tmp/blob.bin\n');
    const back = join(h.dir, 'blob-back.bin');
    const down = await h.kubectl(['cp', 'box:/tmp/blob.bin', back]);
    expect(down).toMatchObject({ code: 0, stdout: "tar: removing leading '/' from member names\n" });
    expect(readFileSync(back).equals(data)).toBe(true);
  });

  it('copies a directory tree both ways, and a file to a new name', async () => {
    const tree = join(h.dir, 'tree');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    writeFileSync(join(tree, 'a.txt'), 'alpha\n');
    writeFileSync(join(tree, 'sub', 'b.txt'), 'beta\n');
    expect((await h.kubectl(['cp', tree, 'web:/tmp/tree'])).code).toBe(0);
    expect(await h.ok(['exec', 'web', '--', 'cat', '/tmp/tree/a.txt', '/tmp/tree/sub/b.txt'])).toBe('alpha\nbeta\n');
    const out = join(h.dir, 'tree-back');
    expect((await h.kubectl(['cp', 'web:/tmp/tree', out])).code).toBe(0);
    expect(readFileSync(join(out, 'sub', 'b.txt'), 'utf8')).toBe('beta\n');
    expect((await h.kubectl(['cp', join(tree, 'a.txt'), 'web:/tmp/renamed.txt'])).code).toBe(0);
    expect(await h.ok(['exec', 'web', '--', 'cat', '/tmp/renamed.txt'])).toBe('alpha\n');
  });

  it('fails as tar fails for a directory the pod does not have', async () => {
    const src = join(h.dir, 'x.txt');
    writeFileSync(src, 'x');
    const r = await h.kubectl(['cp', src, 'web:/nope/x.txt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tar: /nope: Cannot open: No such file or directory\ntar: Error is not recoverable: exiting now\n');
    expect(r.stderr).toContain('command terminated with exit code 2');
  });

  it('fails with the runtime\'s error in an image without tar', async () => {
    for (const args of [['cp', 'bin:/etc/hosts', join(h.dir, 'never')], ['cp', join(h.dir, 'x.txt'), 'bin:/tmp/']]) {
      const r = await h.kubectl(args);
      expect(r.code).toBe(1);
      // Copying in, kubectl may still be writing the archive when the exec fails, and logs so
      // (client-go's "websocket: close sent"); the error line is the same.
      expect(r.stderr).toMatch(/^(?:E\d{4} [^\n]+"Unhandled Error" err="websocket: close sent"\n)?error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "[0-9a-f]{64}": OCI runtime exec failed: exec failed: unable to start container process: exec: "tar": executable file not found in \$PATH: unknown\n$/);
    }
  });

  it('tar in the container round-trips through a shell pipeline, as the kubectl cp help suggests', async () => {
    const r = await h.sh(`kubectl exec web -- tar cf - /etc/hostname | tar xf - -O etc/hostname`);
    expect(r.stdout).toBe('web\n');
  });
});
