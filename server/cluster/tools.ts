/**
 * The command-line tools a learner's terminal needs. The terminal's kubectl is the real
 * one; when it is missing we say so (at start-up and in the terminal) with how to install it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ToolStatus {
  found: boolean;
  path?: string;
  version?: string;
  installHint?: string;
}

/** Where scripts/install-tools.sh puts what it installs. */
export function projectToolsDir(projectRoot: string): string {
  return path.join(projectRoot, '.tools', 'bin');
}

export function findOnPath(command: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export async function kubectlStatus(searchPath: string): Promise<ToolStatus> {
  const installHint = 'kubectl was not found. Install it with: bash scripts/install-tools.sh (or see https://kubernetes.io/docs/tasks/tools/)';
  const found = findOnPath('kubectl', searchPath);
  if (!found) return { found: false, installHint };
  try {
    const { stdout } = await run(found, ['version', '--client', '-o', 'json'], { timeout: 10_000 });
    const version = (JSON.parse(stdout) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion;
    return { found: true, path: found, ...(version ? { version } : {}) };
  } catch (err) {
    return { found: false, path: found, installHint: `kubectl at ${found} does not run (${(err as Error).message.split('\n')[0]}). ${installHint}` };
  }
}
