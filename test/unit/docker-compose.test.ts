/**
 * docker-compose.yml resolves (Debian's docker-compose 1.29 `config`; no Docker engine is needed
 * for that) into what the README promises: the playground built from the Dockerfile, on the
 * host's network (kind's API server and mapped ports are on the host's loopback), the data dir in
 * a named volume, the host's Docker socket for kind. Building and running the image needs a Docker host.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

async function composeConfig(env: Record<string, string> = {}) {
  const compose = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => fs.existsSync(p));
  if (!compose) throw new Error('docker-compose is not installed: apt-get install -y docker-compose (.ci/run does)');
  const { stdout } = await run(compose, ['-f', 'docker-compose.yml', 'config'], { cwd: root, env: { PATH: process.env.PATH!, ...env } });
  return YAML.parse(stdout) as { services: Record<string, Record<string, unknown>>; volumes: Record<string, unknown> };
}

describe('docker-compose.yml', () => {
  it('resolves to the playground on kind through the host Docker, data in a named volume', async () => {
    const config = await composeConfig();
    const service = config.services.playground!;
    expect(service.build).toEqual({ context: root });
    expect(service.network_mode).toBe('host');
    expect(service.volumes).toEqual(['playground-data:/data:rw', '/var/run/docker.sock:/var/run/docker.sock:rw']);
    expect(Object.keys(config.volumes)).toEqual(['playground-data']);
    expect(service.environment).toMatchObject({ PLAYGROUND_BACKEND: 'kind', PORT: '8080', HOST: '127.0.0.1', PLAYGROUND_KIND_MODE: 'shared' });
    expect(service.security_opt).toEqual(['seccomp=unconfined', 'apparmor=unconfined']);
  });

  it('takes the port, backend and Docker group from the environment', async () => {
    const service = (await composeConfig({ PLAYGROUND_PORT: '9090', PLAYGROUND_BACKEND: 'sim', DOCKER_GID: '998' })).services.playground!;
    expect(service.environment).toMatchObject({ PORT: '9090', PLAYGROUND_BACKEND: 'sim' });
    expect(service.group_add).toEqual(['998']);
  });

  it('the Dockerfile is multi-stage, runs as a non-root user and checks the health endpoint', () => {
    const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER playground$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n\s+CMD curl -fsS "http:\/\/127\.0\.0\.1:\$\{PORT\}\/healthz"/m);
    expect(dockerfile).toMatch(/^ARG KUBECTL_VERSION=v1\.32\.\d+$/m);
    expect(dockerfile).toMatch(/^ARG KIND_VERSION=v0\.27\.0$/m);
  });
});
