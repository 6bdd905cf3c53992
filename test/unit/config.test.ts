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

  it('trusts no proxy unless told; then a number of hops or the proxies\' addresses, as Express reads them, never "everyone"', () => {
    expect(loadConfig([], {}).trustProxy).toBeUndefined();
    expect(loadConfig(['--trust-proxy', '1'], {}).trustProxy).toBe(1);
    expect(loadConfig([], { PLAYGROUND_TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8']);
    const refused = (value: string) => {
      try {
        loadConfig(['--trust-proxy', value], {});
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(refused('true')).toContain('trustProxy (--trust-proxy / PLAYGROUND_TRUST_PROXY): must say whom to trust');
    expect(refused('0')).toContain('must be 1 to 32 hops (leave it unset to trust no proxy)');
    expect(refused('10.0.0.0/99')).toContain('invalid range on address: 10.0.0.0/99');
    expect(refused('proxy.example')).toContain('invalid IP address: proxy.example');
  });

  it('takes a PostgreSQL URL for shared workshops, and never echoes a bad one (it may hold a password)', () => {
    expect(loadConfig([], { PLAYGROUND_DATABASE_URL: 'postgres://pg:secret@db:5432/playground' }).databaseUrl).toBe('postgres://pg:secret@db:5432/playground');
    expect(loadConfig(['--database-url', 'postgresql://db/p'], { PLAYGROUND_DATABASE_URL: 'postgres://other/p' }).databaseUrl).toBe('postgresql://db/p');
    expect(loadConfig([], {}).databaseUrl).toBeUndefined();
    let message = '';
    try {
      loadConfig(['--database-url', 'mysql://root:hunter2@db/p'], {});
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('databaseUrl (--database-url / PLAYGROUND_DATABASE_URL): must be a postgres:// or postgresql:// URL');
    expect(message).not.toContain('hunter2');
  });

  it('takes the URL other replicas reach this one at, and the heartbeat timings (10 s, gone after 30 s by default)', () => {
    expect(loadConfig([], { PLAYGROUND_ADVERTISE_URL: 'http://10.244.1.7:8080' }).advertiseUrl).toBe('http://10.244.1.7:8080');
    expect(loadConfig(['--advertise-url', 'http://Pod-0.playground-pods:8080/'], {}).advertiseUrl).toBe('http://pod-0.playground-pods:8080');
    expect(loadConfig([], {}).advertiseUrl).toBeUndefined();
    expect(() => loadConfig(['--advertise-url', 'http://10.0.0.1:8080/api'], {})).toThrow('advertiseUrl (--advertise-url / PLAYGROUND_ADVERTISE_URL): "http://10.0.0.1:8080/api" must be scheme, host and port only');
    // An unbracketed IPv6 address (an IPv6 pod IP put in a URL as is) is no URL: said so at start.
    expect(() => loadConfig([], { PLAYGROUND_ADVERTISE_URL: 'http://fd00::7:8080' })).toThrow('is not a URL');
    const c = loadConfig([], {});
    expect([c.replicaHeartbeatSeconds, c.replicaTimeoutSeconds]).toEqual([10, 30]);
    const quick = loadConfig(['--replica-heartbeat', '0.5', '--replica-timeout', '2'], {});
    expect([quick.replicaHeartbeatSeconds, quick.replicaTimeoutSeconds]).toEqual([0.5, 2]);
    expect(() => loadConfig([], { PLAYGROUND_REPLICA_HEARTBEAT: '10', PLAYGROUND_REPLICA_TIMEOUT: '15' })).toThrow('must be at least twice the heartbeat interval (10 s)');
  });

  it('refuses a short fixed token', () => {
    expect(() => loadConfig([], { PLAYGROUND_TOKEN: 'abc' })).toThrow(/token.*at least 16/);
  });

  it('collects public origins from flags and environment, in the URL standard\'s form', () => {
    const c = loadConfig(['--public-origin', 'https://Lab.Example.org/', '--public-origin', 'http://10.0.0.5:9000,https://c.example.org:443'], {
      PLAYGROUND_PUBLIC_ORIGIN: 'https://a.example.org, https://b.example.org',
    });
    expect(c.publicOrigins).toEqual(['https://lab.example.org', 'http://10.0.0.5:9000', 'https://c.example.org', 'https://a.example.org', 'https://b.example.org']);
    // The setting's older names keep working, with the same meaning.
    expect(loadConfig(['--allow-origin', 'https://old.example.org'], { PLAYGROUND_ALLOWED_ORIGINS: 'https://older.example.org' }).publicOrigins).toEqual([
      'https://old.example.org',
      'https://older.example.org',
    ]);
  });

  it('refuses a public origin that is not scheme, host and port', () => {
    for (const bad of ['not a url', 'https://lab.example.org/path', 'https://user:pw@lab.example.org', 'ftp://lab.example.org', 'https://lab.example.org/?x=1', 'javascript:alert(1)']) {
      expect(() => loadConfig(['--public-origin', bad], {}), bad).toThrow(/publicOrigins \(--public-origin \/ PLAYGROUND_PUBLIC_ORIGIN\).*origin|publicOrigins.*not a URL/s);
    }
  });
});
