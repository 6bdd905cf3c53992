/**
 * The registries' catalogue (server/sim/images/registry.ts): every image the lessons, the Istio
 * reference manifests, the release's samples, istioctl's install and kubeadm's kube-system use
 * pulls; typos, unknown tags, made-up registries and malformed references fail with containerd's
 * and the kubelet's words.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { registryPull } from '../../server/sim/images/registry.js';
import { ImageBehaviours } from '../../server/sim/images/image-table.js';
import { BUILTIN_IMAGES } from '../../server/sim/images/known-images.js';
import { sampleFiles } from '../../server/sim/addons/istio/release/samples.js';
import { ISTIO_HUB, ISTIO_VERSION } from '../../server/sim/addons/istio/version.js';
import { KUBE_VERSION } from '../../server/sim/nodes/topology.js';
import { REFERENCE_DIR } from '../helpers/reference.js';

const repo = path.resolve(import.meta.dirname, '../..');

function filesUnder(dir: string, exts: string[]): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => exts.some((e) => f.endsWith(e))).map((f) => path.join(dir, f));
}

/** `image: x` (YAML), `"image": "x"` (JSON) and `--image=x` / `--image x` (commands). */
function imagesIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s{,-])"?image"?:\s*["']?([^\s"',}]+)/gm)) out.push(m[1]!);
  for (const m of text.matchAll(/--image[= ]([^\s"'`]+)/g)) out.push(m[1]!);
  // Placeholders (`<hub>/pilot:<version>`, `--image=IMAGE`) are not images.
  return out.filter((i) => !/[<>]|^IMAGE$|^\$/.test(i));
}

describe('every image the playground uses pulls', () => {
  const sources: Record<string, string[]> = {
    lessons: filesUnder(path.join(repo, 'lessons'), ['.md', '.yaml']).flatMap((f) => imagesIn(fs.readFileSync(f, 'utf8'))),
    reference: filesUnder(REFERENCE_DIR, ['.yaml', '.yml', '.json']).flatMap((f) => imagesIn(fs.readFileSync(f, 'utf8'))),
    'release samples': Object.values(sampleFiles()).flatMap(imagesIn),
    'kube-system': filesUnder(path.join(repo, 'server/sim/addons/core/manifests'), ['.yaml']).flatMap((f) => imagesIn(fs.readFileSync(f, 'utf8').replaceAll('${KUBE_VERSION}', KUBE_VERSION))),
    'istioctl install': ['pilot', 'proxyv2'].flatMap((c) => [`${ISTIO_HUB}/${c}:${ISTIO_VERSION}`, `${ISTIO_HUB}/${c}:${ISTIO_VERSION}-distroless`, `gcr.io/istio-release/${c}:${ISTIO_VERSION}`]),
    // The release's samples/addons and the tasks' usual images.
    'addons and tasks': [
      'prom/prometheus:v3.5.0',
      'grafana/grafana:12.1.1',
      'quay.io/kiali/kiali:v2.15',
      'jaegertracing/all-in-one:1.67.0',
      'jaegertracing/jaeger:2.9.0',
      'openzipkin/zipkin-slim:3.5.1',
      'grafana/loki:3.5.3',
      'docker.io/istio/examples-helloworld-v1:1.0',
      'docker.io/istio/tcp-echo-server:1.3',
      'docker.io/kong/httpbin:0.1.0',
      'curlimages/curl:8.16.0',
      'fortio/fortio:latest_release',
      'registry.k8s.io/echoserver:1.10',
      'gcr.io/google-samples/hello-app:1.0',
      'busybox',
      'nginx',
      'nginx:1.27-alpine',
      'httpd:2.4',
      'python:3.12-slim',
      'ubuntu:24.04',
      'alpine:3.20',
      'redis',
      'hashicorp/http-echo:1.0',
      'registry.k8s.io/pause:3.10',
    ],
  };

  for (const [source, images] of Object.entries(sources)) {
    it(`${source} (${new Set(images).size} images)`, () => {
      expect(images.length).toBeGreaterThan(0);
      const failing = [...new Set(images)].map((i) => [i, registryPull(i)?.message]).filter(([, m]) => m);
      expect(failing).toEqual([]);
    });
  }

  it('the lessons and the reference name the images this test looks for (it would notice a new one)', () => {
    expect(sources.lessons).toEqual(expect.arrayContaining(['nginx', 'docker.io/kennethreitz/httpbin']));
    expect(sources.reference).toEqual(expect.arrayContaining(['registry.istio.io/release/examples-bookinfo-reviews-v3:1.20.3', 'istio/examples-bookinfo-details-v1:1.13.0']));
    expect(sources['release samples']).toEqual(expect.arrayContaining(['docker.io/mccutchen/go-httpbin:v2.15.0', 'curlimages/curl']));
    expect(sources['kube-system']).toEqual(expect.arrayContaining([`registry.k8s.io/kube-proxy:${KUBE_VERSION}`, 'registry.k8s.io/coredns/coredns:v1.11.3']));
  });
});

describe('what the registries refuse', () => {
  it('an unknown Docker Hub repository: pull access denied (gRPC code Unknown, stripped by the kubelet)', () => {
    expect(registryPull('ngnix')).toEqual({
      kind: 'pull',
      message:
        'failed to pull and unpack image "docker.io/library/ngnix:latest": failed to resolve reference "docker.io/library/ngnix:latest": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
    });
    expect(registryPull('someone/something:1.0')?.message).toContain('"docker.io/someone/something:1.0": pull access denied');
  });

  it('an unknown tag of a known repository: not found (gRPC NotFound, kept)', () => {
    for (const image of ['nginx:1.999', 'nginx:latestt', 'busybox:2.0', 'curlimages/curl:nope', 'docker.io/istio/proxyv2:1.99.0', 'kennethreitz/httpbin:v2']) {
      expect(registryPull(image)?.message, image).toMatch(/^rpc error: code = NotFound desc = failed to pull and unpack image "(.+)": failed to resolve reference "\1": \1: not found$/);
    }
  });

  it('a registry host nobody serves: no such host', () => {
    expect(registryPull('myregistry.local:5000/app:v1')?.message).toBe(
      'failed to pull and unpack image "myregistry.local:5000/app:v1": failed to resolve reference "myregistry.local:5000/app:v1": failed to do request: Head "https://myregistry.local:5000/v2/app/manifests/v1": dial tcp: lookup myregistry.local: no such host',
    );
  });

  it('a malformed reference never reaches a registry: InvalidImageName', () => {
    expect(registryPull('Nginx')).toEqual({ kind: 'invalid', message: 'couldn\'t parse image reference "Nginx": invalid reference format: repository name must be lowercase' });
    expect(registryPull('nginx:bad tag')?.kind).toBe('invalid');
  });

  it('aliases and digests of known repositories pull', () => {
    for (const image of ['index.docker.io/library/nginx:1.27', 'k8s.gcr.io/pause:3.9', `nginx@sha256:${'a'.repeat(64)}`]) expect(registryPull(image), image).toBeUndefined();
  });

  it("an add-on's images come with it: its registered entry makes them pullable in that cluster only", () => {
    const table = new ImageBehaviours(BUILTIN_IMAGES);
    expect(table.pull('playground/greeter:1')?.message).toContain('pull access denied');
    const undo = table.register({ name: 'greeter', matches: (i) => i.repository === 'playground/greeter', create: () => ({ ports: [] }) });
    expect(table.pull('playground/greeter:1')).toBeUndefined();
    undo();
    expect(table.pull('playground/greeter:1')).toBeDefined();
  });
});
