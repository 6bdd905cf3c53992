/**
 * Each learner gets a private directory under the data dir: their shell's HOME and working
 * directory, and their kubeconfig. Nothing in it is shared with another learner.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Workspace {
  root: string;
  home: string;
  kubeconfigPath: string;
}

const safeId = /^[A-Za-z0-9_-]{1,64}$/;

export function learnerWorkspace(dataDir: string, learnerId: string): Workspace {
  // The id comes from a cookie: never let it name a path outside the data dir.
  if (!safeId.test(learnerId)) throw new Error(`invalid learner id ${JSON.stringify(learnerId)}`);
  const root = path.join(dataDir, 'learners', learnerId);
  const home = path.join(root, 'home');
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  return { root, home, kubeconfigPath: path.join(root, 'kubeconfig') };
}
