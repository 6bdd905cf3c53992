/** Connecting to the cluster the way every istioctl command does, and refusing clusters that are not embedded. */
import { KubeClient, type ClientOptions } from './kube.js';
import { CommandError } from './io.js';

export const NOT_EMBEDDED_MESSAGE = (server: string) =>
  `this istioctl belongs to istio-playground and only drives the playground's embedded cluster; ${server} is not one.\n` +
  'Use the real istioctl for this cluster: https://istio.io/latest/docs/setup/install/istioctl/ ' +
  '(curl -L https://istio.io/downloadIstio | ISTIO_VERSION=1.30.3 sh -)';

/** A client for the kubeconfig's cluster, after checking it is an embedded one. */
export async function connect(opts: ClientOptions): Promise<KubeClient> {
  let client: KubeClient;
  try {
    client = KubeClient.load(opts);
  } catch (e) {
    throw new CommandError((e as Error).message);
  }
  let embedded: boolean;
  try {
    embedded = await client.isEmbedded();
  } catch (e) {
    client.close();
    throw new CommandError(`failed to connect to Kubernetes API server, error: Get "${new URL('/version', client.server).href}": ${(e as Error).message}`);
  }
  if (!embedded) {
    client.close();
    throw new CommandError(NOT_EMBEDDED_MESSAGE(client.server.origin));
  }
  return client;
}
