import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ContainerStartError, behaviourEntryForImage, behaviourForImage, parseImage } from '../../server/sim/images/index.js';
import { MemoryNetwork } from '../../server/sim/images/testing/memory-network.js';
import { exec } from '../../server/sim/images/testing/exec.js';
import { request } from '../../server/sim/images/http.js';
import { BOOKINFO_YAML } from '../helpers/reference.js';

const REFERENCE = BOOKINFO_YAML;

describe('image references', () => {
  it('splits registry, repository, name and tag', () => {
    expect(parseImage('nginx')).toMatchObject({ registry: 'docker.io', repository: 'library/nginx', name: 'nginx', tag: 'latest' });
    expect(parseImage('docker.io/istio/examples-bookinfo-details-v1:1.20.3')).toMatchObject({ repository: 'istio/examples-bookinfo-details-v1', name: 'examples-bookinfo-details-v1', tag: '1.20.3' });
    expect(parseImage('registry.istio.io/release/examples-bookinfo-reviews-v3:1.20.3')).toMatchObject({ registry: 'registry.istio.io', name: 'examples-bookinfo-reviews-v3' });
    expect(parseImage('localhost:5000/app:dev')).toMatchObject({ registry: 'localhost:5000', repository: 'app', tag: 'dev' });
    expect(parseImage('busybox@sha256:abc')).toMatchObject({ repository: 'library/busybox', tag: '', digest: 'sha256:abc' });
  });
});

describe('behaviour registry', () => {
  it('every image of the real bookinfo.yaml has a Bookinfo behaviour serving 9080', () => {
    const docs = parseAllDocuments(readFileSync(REFERENCE, 'utf8')).map((d) => d.toJSON() as { kind?: string; spec?: { template?: { spec?: { containers?: { image: string }[] } } } });
    const images = docs.filter((d) => d?.kind === 'Deployment').flatMap((d) => d.spec!.template!.spec!.containers!.map((c) => c.image));
    expect(images).toHaveLength(6);
    for (const image of images) {
      const entry = behaviourEntryForImage(image);
      expect(entry?.name, image).toMatch(/^bookinfo-/);
      const b = behaviourForImage(image);
      expect(b.ports).toEqual([9080]);
      expect(typeof b.serve).toBe('function');
    }
    // Older registries and tags match by name too.
    expect(behaviourEntryForImage('istio/examples-bookinfo-reviews-v2:1.13.0')?.name).toBe('bookinfo-reviews');
    expect(behaviourEntryForImage('docker.io/istio/examples-bookinfo-productpage-v1:1.20.2')?.name).toBe('bookinfo-productpage');
  });

  it('unknown images run and serve nothing', async () => {
    expect(behaviourEntryForImage('example.com/team/whatever:1.0')).toBeNull();
    const b = behaviourForImage('example.com/team/whatever:1.0');
    expect(b.ports).toEqual([]);
    expect(b.serve).toBeUndefined();
    const net = new MemoryNetwork();
    const ctx = net.addPod({ name: 'x', image: 'example.com/team/whatever:1.0' });
    const ac = new AbortController();
    let ended = false;
    const run = b.run!(ctx, ac.signal).then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(ended).toBe(false);
    ac.abort();
    await run;
  });
});

describe('web servers', () => {
  it('nginx serves its welcome page, 404s, logs access lines, and serves edits to its web root', async () => {
    const net = new MemoryNetwork();
    net.addService('web', { app: 'web' }, [{ port: 80 }]);
    const web = net.addPod({ name: 'web-0', image: 'nginx', labels: { app: 'web' } });
    const client = net.addPod({ name: 'client', image: 'busybox' });
    const res = await client.net.request({ host: 'web', port: 80 }, request('GET', '/', { 'user-agent': 'curl/7.88.1' }));
    expect(res.status).toBe(200);
    const body = res.body.toString();
    expect(body).toContain('<title>Welcome to nginx!</title>');
    expect(body.length).toBe(615);
    expect(res.headers['server']).toBe('nginx/1.27.3');
    const log = net.logs.get('web-0')!;
    expect(log).toContain('/docker-entrypoint.sh: Configuration complete; ready for start up');
    expect(log[log.length - 1]).toMatch(new RegExp(`^${client.podIP.replace(/\./g, '\\.')} - - \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d \\+0000\\] "GET / HTTP/1\\.1" 200 615 "-" "curl/7\\.88\\.1" "-"$`));
    const missing = await client.net.request({ host: 'web', port: 80 }, request('GET', '/nope'));
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toContain('<center><h1>404 Not Found</h1></center>');
    await exec(web, ['sh', '-c', 'echo "hello from v2" > /usr/share/nginx/html/index.html']);
    const edited = await client.net.request({ host: 'web', port: 80 }, request('GET', '/'));
    expect(edited.body.toString()).toBe('hello from v2\n');
  });

  it('httpd says It works!', async () => {
    const net = new MemoryNetwork();
    net.addService('h', { app: 'h' }, [{ port: 80 }]);
    net.addPod({ name: 'h-0', image: 'httpd:2.4', labels: { app: 'h' } });
    const client = net.addPod({ name: 'c', image: 'busybox' });
    const r = await exec(client, ['wget', '-qO-', 'h']);
    expect(r.stdout).toBe('<html><body><h1>It works!</h1></body></html>\n');
    expect(net.logs.get('h-0')!.at(-1)).toMatch(/"GET \/ HTTP\/1\.1" 200 45$/);
  });

  it('http-echo answers -text on -listen', async () => {
    const net = new MemoryNetwork();
    net.addService('echo', { app: 'echo' }, [{ port: 80, targetPort: 8080 }]);
    net.addPod({ name: 'echo-0', image: 'hashicorp/http-echo:1.0', labels: { app: 'echo' }, args: ['-text=hello world', '-listen=:8080'] });
    const client = net.addPod({ name: 'c', image: 'curlimages/curl' });
    expect((await exec(client, ['curl', '-s', 'echo'])).stdout).toBe('hello world\n');
    const echo = net.pod('echo-0');
    await expect(exec(echo, ['sh'])).rejects.toThrow('executable file not found');
  });
});

describe('container main processes', () => {
  const run = (image: string, spec: { command?: string[]; args?: string[] } = {}) => {
    const net = new MemoryNetwork();
    const ctx = net.addPod({ name: 'p', image, ...spec });
    const ac = new AbortController();
    return { promise: behaviourForImage(image).run!(ctx, ac.signal), ac, log: net.logs.get('p')! };
  };

  it('busybox without a command exits 0 at once (its sh has no stdin), as the real one does', async () => {
    expect(await run('busybox').promise).toBe(0);
  });

  it('a command script runs, logs its output and exits with its status', async () => {
    const p = run('busybox:1.36', { command: ['sh', '-c', 'echo starting; echo "to stderr" >&2; exit 3'] });
    expect(await p.promise).toBe(3);
    expect(p.log).toEqual(['starting', 'to stderr']);
  });

  it('sleep keeps running until the container is stopped', async () => {
    const p = run('curlimages/curl:8.11.1', { command: ['/bin/sleep', 'infinity'] });
    let done = false;
    void p.promise.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    p.ac.abort();
    await p.promise;
  });

  it('curlimages/curl without a command runs curl, which exits 2', async () => {
    const p = run('curlimages/curl');
    expect(await p.promise).toBe(2);
    expect(p.log).toEqual(["curl: try 'curl --help' or 'curl --manual' for more information"]);
  });

  it('a command missing from the image fails to start (StartError, exit 128)', async () => {
    const err = await run('busybox', { command: ['nosuchbinary'] }).promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerStartError);
    expect((err as ContainerStartError).exitCode).toBe(128);
    expect((err as Error).message).toContain('exec: "nosuchbinary": executable file not found in $PATH: unknown');
  });
});

describe('exec statuses for the error channel', () => {
  it('exit codes and start failures map to the Status objects kubectl interprets', async () => {
    const { execExitStatus, execStartFailureStatus, ExecStartError } = await import('../../server/sim/images/index.js');
    expect(execExitStatus(['sh', '-c', 'exit 3'], 0)).toEqual({ metadata: {}, status: 'Success' });
    expect(execExitStatus(['sh', '-c', 'exit 3'], 3)).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    expect(execStartFailureStatus(new ExecStartError('Internal error occurred: x'))).toEqual({ metadata: {}, status: 'Failure', message: 'Internal error occurred: x', reason: 'InternalError', code: 500 });
  });
});

describe('httpbin', () => {
  it('go-httpbin (Istio samples) echoes the request headers the server received', async () => {
    const net = new MemoryNetwork();
    net.addService('httpbin', { app: 'httpbin' }, [{ port: 8000, targetPort: 8080 }]);
    net.addPod({ name: 'httpbin-0', image: 'docker.io/mccutchen/go-httpbin:v2.15.0', labels: { app: 'httpbin' } });
    const client = net.addPod({ name: 'curl-0', image: 'curlimages/curl:8.11.1' });
    const r = await exec(client, ['curl', '-s', '-H', 'x-test: 1', 'http://httpbin:8000/headers']);
    expect(JSON.parse(r.stdout)).toEqual({ headers: { Accept: ['*/*'], Host: ['httpbin:8000'], 'User-Agent': ['curl/8.11.1'], 'X-Test': ['1'] } });
    expect((await exec(client, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'httpbin:8000/status/418'])).stdout).toBe('418');
    // getClientIP falls back on r.RemoteAddr, which is ip:port.
    expect(JSON.parse((await exec(client, ['curl', '-s', 'httpbin:8000/ip'])).stdout).origin).toMatch(new RegExp(`^${client.podIP.replace(/\./g, '\\.')}:\\d+$`));
  });

  it('the Python httpbin listens on 80 and prints header values as strings', async () => {
    const net = new MemoryNetwork();
    net.addService('httpbin', { app: 'httpbin' }, [{ port: 8000, targetPort: 80 }]);
    net.addPod({ name: 'httpbin-0', image: 'docker.io/kong/httpbin:0.1.0', labels: { app: 'httpbin' } });
    const client = net.addPod({ name: 'curl-0', image: 'curlimages/curl' });
    const r = await exec(client, ['curl', '-s', 'httpbin:8000/headers']);
    expect(JSON.parse(r.stdout).headers['User-Agent']).toBe('curl/8.16.0'); // untagged: curlimages' latest
  });
});

describe('curlimages/curl entrypoint', () => {
  it('runs args as a program when they name one (kubectl run … -- sleep 3600), else passes them to curl', async () => {
    const net = new MemoryNetwork();
    const ac = new AbortController();
    const sleeper = net.addPod({ name: 's', image: 'curlimages/curl', args: ['sleep', '3600'] });
    let ended = false;
    const run = behaviourForImage('curlimages/curl').run!(sleeper, ac.signal).then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(ended).toBe(false);
    ac.abort();
    await run;
    const fetcher = net.addPod({ name: 'f', image: 'curlimages/curl', args: ['-sS', 'http://nosuch/'] });
    expect(await behaviourForImage('curlimages/curl').run!(fetcher, new AbortController().signal)).toBe(6);
    expect(net.logs.get('f')).toEqual(['curl: (6) Could not resolve host: nosuch']);
  });
});
