/**
 * ClusterIP and NodePort allocation, as the Service REST storage does it in kube-apiserver.
 * State is derived from the stored Services, so snapshots and restores need nothing extra.
 */
import type { ObjectStore } from '../storage/store.js';
import { bucketOf } from '../storage/store.js';

type Obj = Record<string, any>;

const SERVICES = bucketOf('', 'services');

export interface AllocatorOptions {
  /** First three octets of the /16 service range start; kubeadm's default is 10.96.0.0/12. */
  serviceCIDRBase?: [number, number];
  nodePortRange?: [number, number];
}

/** Picks free addresses and node ports by looking at the Services already stored. */
export interface ServiceAllocator {
  allocateClusterIP(): string;
  isClusterIPTaken(ip: string): boolean;
  allocateNodePort(): number;
  isNodePortTaken(port: number, exceptService?: string): boolean;
}

export function createServiceAllocator(store: ObjectStore, opts: AllocatorOptions = {}): ServiceAllocator {
  const [a, b] = opts.serviceCIDRBase ?? [10, 96];
  const [lo, hi] = opts.nodePortRange ?? [30000, 32767];
  const services = () => store.list(SERVICES) as Obj[];
  const usedIPs = () => new Set(services().flatMap((s) => [s.spec?.clusterIP, ...(s.spec?.clusterIPs ?? [])]).filter(Boolean));
  const usedPorts = (except?: string) =>
    new Set(
      services()
        .filter((s) => `${s.metadata.namespace}/${s.metadata.name}` !== except)
        .flatMap((s) => (s.spec?.ports ?? []).map((p: Obj) => p?.nodePort))
        .filter(Boolean),
    );
  return {
    allocateClusterIP() {
      const used = usedIPs();
      // .0.1 is the kubernetes Service and .0.10 kube-dns on kubeadm; random picks look real.
      for (let tries = 0; tries < 5000; tries++) {
        const n = 11 + Math.floor(Math.random() * (65536 * 4 - 20));
        const ip = `${a}.${b + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
        if (n % 256 !== 0 && n % 256 !== 255 && !used.has(ip)) return ip;
      }
      throw new Error('service IP range exhausted');
    },
    isClusterIPTaken(ip) {
      return usedIPs().has(ip);
    },
    allocateNodePort() {
      const used = usedPorts();
      for (let tries = 0; tries < 10000; tries++) {
        const p = lo + Math.floor(Math.random() * (hi - lo + 1));
        if (!used.has(p)) return p;
      }
      throw new Error('node port range exhausted');
    },
    isNodePortTaken(port, except) {
      return usedPorts(except).has(port);
    },
  };
}
