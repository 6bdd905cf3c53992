import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ClusterBackend } from './backend.js';
import type { PeerGuard } from '../sim/network/peer-uid.js';

/** Only the configured backend's module is loaded: a server on the embedded cluster never reads a kubeconfig file's backend code, and the reverse. */
export async function createBackend(config: Config, logger?: Logger, sim: { peerGuard?: (learnerId: string) => PeerGuard | undefined } = {}): Promise<ClusterBackend> {
  switch (config.backend) {
    case 'sim': {
      const { SimBackend } = await import('./sim-backend.js');
      const { availableMemoryBytes, learnerLimitFor } = await import('./learner-limit.js');
      const maxClusters = config.maxLearners ?? learnerLimitFor(availableMemoryBytes());
      logger?.info({ maxLearners: maxClusters, derived: config.maxLearners === undefined }, 'learner limit');
      return new SimBackend({ dataDir: config.dataDir, maxClusters, maxClustersDerived: config.maxLearners === undefined, ...(logger ? { logger } : {}), ...sim });
    }
    case 'kubeconfig': {
      const { KubeconfigBackend } = await import('./kubeconfig-backend.js');
      return new KubeconfigBackend({
        kubeconfig: config.kubeconfig!,
        ...(config.context ? { context: config.context } : {}),
        dataDir: config.dataDir,
        learnerNamespaces: config.learnerNamespaces,
        ...(logger ? { logger } : {}),
      });
    }
    case 'kind': {
      const { KindBackend } = await import('./kind-backend.js');
      return new KindBackend({
        clusterName: config.kindCluster,
        mode: config.kindMode,
        dataDir: config.dataDir,
        hostPort: config.kindHostPort,
        timeoutMs: config.kindTimeoutSeconds * 1000,
        learnerNamespaces: config.learnerNamespaces,
        ...(logger ? { logger } : {}),
      });
    }
  }
}
