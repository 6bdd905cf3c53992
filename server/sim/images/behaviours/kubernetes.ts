/**
 * Kubernetes' own images (kubeadm's static pods, CoreDNS): the simulation does not run their
 * binaries, but the kubelet probes them, so each answers its health endpoints as the real
 * component does ("ok" on /livez, /readyz, /healthz; CoreDNS's "OK" on :8080/health and
 * :8181/ready). Otherwise they are plain images: exec behaves as for any other.
 */
import { pathOnly, respond } from '../http.js';
import type { ContainerBehaviour, ImageBehaviourEntry } from '../types.js';
import type { ImageRef } from '../image.js';
import { defaultBehaviour } from './default.js';

const HEALTH = new Set(['/livez', '/readyz', '/healthz']);

function component(image: ImageRef, ports: number[], answer: (port: number, path: string) => string | undefined): ContainerBehaviour {
  // The main process is the component's own binary, which runs until stopped.
  const { run: _run, ...base } = defaultBehaviour(image);
  return {
    ...base,
    ports,
    async serve(req, ctx, conn) {
      const body = req.method === 'GET' ? answer(conn.localPort, pathOnly(req.path)) : undefined;
      if (body !== undefined) return respond(ctx, 200, body, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      return respond(ctx, 404, '404 page not found\n', { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    },
  };
}

const PORTS: Record<string, number> = { 'kube-apiserver': 6443, 'kube-controller-manager': 10257, 'kube-scheduler': 10259, etcd: 2381 };

export const kubernetesComponents: ImageBehaviourEntry = {
  name: 'kubernetes-components',
  matches: (img) => (img.registry === 'registry.k8s.io' || img.registry === 'k8s.gcr.io') && img.repository in PORTS,
  create: (img) => {
    const port = PORTS[img.repository]!;
    return component(img, [port], (p, path) => (p === port && (HEALTH.has(path) || path === '/health') ? (path === '/health' ? '{"health":"true","reason":""}' : 'ok') : undefined));
  },
};

export const coredns: ImageBehaviourEntry = {
  name: 'coredns',
  matches: (img) => img.repository === 'coredns/coredns',
  create: (img) => component(img, [8080, 8181], (p, path) => ((p === 8080 && path === '/health') || (p === 8181 && path === '/ready') ? 'OK' : undefined)),
};
