import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Auth } from '../../server/http/auth.js';
import { onSitePath, Site } from '../../server/http/site.js';
import { ProgressStore } from '../../server/progress/store.js';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-auth-'));
const store = new ProgressStore(dataDir);
afterAll(() => {
  store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});
const site = new Site({ listenHost: '127.0.0.1', port: 8080, publicOrigins: ['https://lab.example.org'] });
const auth = new Auth({ token: 'secret-token-0123456789', port: 8080, site, learners: store.identities });
const TOKEN = 'pg_token_8080=secret-token-0123456789';
const secretOf = (cookie: string) => /^pg_learner_8080=([^;]+)/.exec(cookie)![1]!;

describe('access token', () => {
  it('refuses requests without the token', () => {
    expect(auth.hasAccess(request({}))).toBe(false);
    expect(auth.hasAccess(request({ cookie: 'pg_token_8080=wrong' }))).toBe(false);
    expect(auth.hasAccess(request({ authorization: 'Bearer nope' }))).toBe(false);
    expect(auth.authenticate(request({}))).toMatchObject({ ok: false, status: 401, message: expect.stringContaining('access token') });
  });

  it('accepts the token cookie or a bearer header', () => {
    expect(auth.hasAccess(request({ cookie: TOKEN }))).toBe(true);
    expect(auth.hasAccess(request({ authorization: 'Bearer secret-token-0123456789' }))).toBe(true);
  });

  it("does not accept another port's cookie", () => {
    expect(auth.hasAccess(request({ cookie: 'pg_token_9090=secret-token-0123456789' }))).toBe(false);
  });
});

describe('learner identity', () => {
  it('is a server-issued secret in an HttpOnly SameSite=Strict cookie that maps to a learner id it does not contain', () => {
    const before = store.identities.count();
    const { learnerId, cookie } = auth.issueLearner();
    expect(store.identities.count()).toBe(before + 1);
    expect(cookie).toMatch(/^pg_learner_8080=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(learnerId);
    expect(auth.authenticate(request({ cookie: `${TOKEN}; pg_learner_8080=${secretOf(cookie)}` }))).toEqual({ ok: true, learnerId });
  });

  it('the learner id, a tampered, stale or malformed secret, or the secret without the token open nothing and create nothing', () => {
    const { learnerId, cookie } = auth.issueLearner();
    const secret = secretOf(cookie);
    const flipped = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
    const before = store.identities.count();
    for (const value of [learnerId, flipped, secret.slice(1), `${secret}A`, '../../etc', '', 'x'.repeat(5000), encodeURIComponent(`${secret} `)]) {
      expect(auth.authenticate(request({ cookie: `${TOKEN}; pg_learner_8080=${value}` })), value).toMatchObject({ ok: false, status: 401, message: expect.stringContaining('no learner session') });
    }
    expect(auth.authenticate(request({ cookie: `pg_learner_8080=${secret}` }))).toMatchObject({ ok: false, status: 401 });
    expect(auth.authenticate(request({ cookie: `${TOKEN}; pg_learner_9090=${secret}` }))).toMatchObject({ ok: false, status: 401 });
    expect(store.identities.count()).toBe(before);
  });

  it('survives a restart: the secret is kept (hashed) in the data dir', () => {
    const { learnerId, cookie } = auth.issueLearner();
    const reopened = new ProgressStore(dataDir);
    const again = new Auth({ token: 'another-token-0123456789', port: 8080, site, learners: reopened.identities });
    expect(again.authenticate(request({ cookie: `pg_token_8080=another-token-0123456789; pg_learner_8080=${secretOf(cookie)}` }))).toEqual({ ok: true, learnerId });
    reopened.close();
    // Only a hash is stored: the database holds no cookie value.
    const files = fs.readdirSync(dataDir).filter((f) => f.startsWith('progress.sqlite'));
    expect(files).toContain('progress.sqlite');
    for (const file of files) expect(fs.readFileSync(path.join(dataDir, file)).includes(secretOf(cookie)), file).toBe(false);
    expect(files.some((file) => fs.readFileSync(path.join(dataDir, file)).includes(learnerId))).toBe(true);
  });
});

describe('origins and hosts', () => {
  it('allows WebSockets from our listening address and the public origins only, whatever the Host says', () => {
    for (const origin of ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080', 'https://lab.example.org']) {
      expect(auth.checkOrigin(request({ host: '127.0.0.1:8080', origin })), origin).toBeNull();
    }
    for (const [host, origin] of [
      ['127.0.0.1:8080', 'http://evil.example.com'],
      ['127.0.0.1:8080', 'http://127.0.0.1:9999'],
      ['127.0.0.1:8080', 'https://127.0.0.1:8080'],
      ['127.0.0.1:8080', 'null'],
      ['evil.example.com:8080', 'http://evil.example.com:8080'],
      ['lab.example.org.evil.example', 'http://lab.example.org.evil.example'],
    ]) {
      expect(auth.checkOrigin(request({ host: host!, origin: origin! })), `${host} ${origin}`).toMatchObject({ ok: false, status: 403 });
    }
    // Non-browser clients send no Origin (and cannot be made to by a web page).
    expect(auth.checkOrigin(request({ host: '127.0.0.1:8080' }))).toBeNull();
  });

  it('answers only Hosts no DNS answer can point here: IP literals, localhost, the public origins', () => {
    for (const host of ['127.0.0.1:8080', '127.0.0.1', 'localhost:8080', 'LOCALHOST:9000', '[::1]:8080', '10.1.2.3:80', 'lab.example.org']) {
      expect(auth.checkHost(request({ host })), host).toBeNull();
    }
    for (const host of ['evil.example:8080', 'lab.example.org:8443', 'localhost.evil.example', 'sub.localhost', '127.0.0.1.nip.io', '[::1', '[evil]:80', '127.0.0.1:80:80', '2130706433']) {
      expect(auth.checkHost(request({ host })), host).toMatchObject({ ok: false, status: 403, message: expect.stringContaining('--public-origin') });
    }
    expect(auth.checkHost(request({}))).toMatchObject({ ok: false });
  });

  it('on a wildcard address allows the machine\'s own addresses at its port', () => {
    const wildcard = new Site({
      listenHost: '0.0.0.0',
      port: 8080,
      publicOrigins: [],
      interfaces: {
        lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '', cidr: null }],
        eth0: [
          { address: '192.168.1.20', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '', cidr: null },
          { address: 'fe80::1', family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: '', cidr: null, scopeid: 2 },
          { address: '2001:db8::5', family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: '', cidr: null, scopeid: 0 },
        ],
      },
    });
    expect([...wildcard.origins].sort()).toEqual(
      ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080', 'http://192.168.1.20:8080', 'http://[2001:db8::5]:8080'].sort(),
    );
  });
});

describe('redirect target after the token exchange', () => {
  it('is always a path on this site', () => {
    const base = 'http://127.0.0.1:8080/';
    for (const raw of ['//evil.example/', '/\\evil.example', '\\\\evil.example', '/%2F%2Fevil.example', '///evil.example', '/\t/evil.example', '/\n/evil.example', 'https:evil.example', 'evil.example', '/./\\/evil.example', '/%5C%5Cevil.example', '/ä/%zz']) {
      const location = onSitePath(raw);
      // Resolved the way browsers resolve a Location header.
      expect(new URL(location, base).origin, `${JSON.stringify(raw)} → ${location}`).toBe('http://127.0.0.1:8080');
      expect(location).toMatch(/^\/(?![\\/])/);
    }
    expect(onSitePath('/')).toBe('/');
    expect(onSitePath('/index.html')).toBe('/index.html');
    expect(onSitePath('/a/b/')).toBe('/a/b/');
    expect(onSitePath('/%zz')).toBe('/%25zz');
  });
});
