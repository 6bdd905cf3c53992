import type { Config } from '../config.js';
import type { ClusterBackend } from './backend.js';
import { KubeconfigBackend } from './kubeconfig-backend.js';
import { SimBackend } from './sim-backend.js';

export function createBackend(config: Config): ClusterBackend {
  switch (config.backend) {
    case 'sim':
      return new SimBackend({ dataDir: config.dataDir });
    case 'kubeconfig':
      return new KubeconfigBackend({ kubeconfig: config.kubeconfig!, ...(config.context ? { context: config.context } : {}), dataDir: config.dataDir });
  }
}
