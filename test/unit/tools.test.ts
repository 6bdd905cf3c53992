import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findOnPath, kubectlStatus } from '../../server/cluster/tools.js';

describe('kubectl detection', () => {
  it('finds the real kubectl on PATH and reports its version', async () => {
    const status = await kubectlStatus(process.env.PATH ?? '');
    expect(status.found).toBe(true);
    expect(status.version).toMatch(/^v1\.\d+\.\d+/);
  });

  it('says how to install kubectl when it is missing', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-nopath-'));
    const status = await kubectlStatus(empty);
    expect(status).toMatchObject({ found: false, installHint: expect.stringContaining('scripts/install-tools.sh') });
  });

  it('reports a kubectl that does not run instead of trusting it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-badkubectl-'));
    fs.writeFileSync(path.join(dir, 'kubectl'), '#!/bin/sh\necho broken >&2\nexit 1\n', { mode: 0o755 });
    const status = await kubectlStatus(dir);
    expect(status.found).toBe(false);
    expect(status.installHint).toMatch(/does not run/);
  });

  it('ignores directories and non-executables named like the tool', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-path-'));
    fs.mkdirSync(path.join(dir, 'kubectl'));
    fs.writeFileSync(path.join(dir, 'istioctl'), 'x', { mode: 0o644 });
    expect(findOnPath('kubectl', dir)).toBeUndefined();
    expect(findOnPath('istioctl', dir)).toBeUndefined();
  });
});
