import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.js';

describe('config', () => {
  it('defaults to a loopback-only server on 8080 with the embedded cluster', () => {
    const c = loadConfig([], {});
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(8080);
    expect(c.backend).toBe('sim');
    expect(path.isAbsolute(c.dataDir)).toBe(true);
    expect(c.lessonsDir.endsWith(`${path.sep}lessons`)).toBe(true);
  });

  it('reads the environment, and flags win over it', () => {
    const c = loadConfig(['--port', '9000'], { PORT: '7000', HOST: '0.0.0.0', PLAYGROUND_DATA_DIR: '/tmp/pg-data' });
    expect(c.port).toBe(9000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.dataDir).toBe('/tmp/pg-data');
  });

  it('accepts port 0 for any free port', () => {
    expect(loadConfig(['--port', '0'], {}).port).toBe(0);
  });

  it('names the setting, its sources and the bad value', () => {
    try {
      loadConfig([], { PORT: 'eighty' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/port \(--port \/ PORT or PLAYGROUND_PORT\)/);
      expect((err as Error).message).toContain('"eighty"');
    }
    expect(() => loadConfig(['--port', '70000'], {})).toThrow(/at most 65535/);
  });

  it('rejects an unknown backend and lists the valid ones', () => {
    expect(() => loadConfig(['--backend', 'minikube'], {})).toThrow(/backend .*"sim"|"kubeconfig"/);
  });

  it('requires a kubeconfig for the kubeconfig backend', () => {
    expect(() => loadConfig(['--backend', 'kubeconfig'], {})).toThrow(/kubeconfig .*is required/);
    const c = loadConfig(['--backend', 'kubeconfig', '--kubeconfig', 'rel/kc', '--context', 'kind-x'], {});
    expect(c.kubeconfig).toBe(path.resolve('rel/kc'));
    expect(c.context).toBe('kind-x');
  });

  it('refuses unknown flags instead of ignoring them', () => {
    expect(() => loadConfig(['--prot', '1'], {})).toThrow(ConfigError);
  });

  it('refuses a short fixed token', () => {
    expect(() => loadConfig([], { PLAYGROUND_TOKEN: 'abc' })).toThrow(/token.*at least 16/);
  });

  it('collects extra allowed origins from flags and environment', () => {
    const c = loadConfig(['--allow-origin', 'https://lab.example.org'], { PLAYGROUND_ALLOWED_ORIGINS: 'https://a.example.org, https://b.example.org' });
    expect(c.allowedOrigins).toEqual(['https://lab.example.org', 'https://a.example.org', 'https://b.example.org']);
    expect(() => loadConfig(['--allow-origin', 'not a url'], {})).toThrow(ConfigError);
  });
});
