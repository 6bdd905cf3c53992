import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Auth } from '../../server/http/auth.js';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const auth = new Auth({ token: 'secret-token-0123456789', port: 8080, allowedOrigins: ['https://lab.example.org'] });

describe('auth', () => {
  it('refuses requests without the token', () => {
    expect(auth.authenticate(request({})).ok).toBe(false);
    expect(auth.authenticate(request({ cookie: 'pg_token_8080=wrong' })).ok).toBe(false);
    expect(auth.authenticate(request({ authorization: 'Bearer nope' })).ok).toBe(false);
  });

  it('accepts the token cookie or a bearer header', () => {
    expect(auth.authenticate(request({ cookie: 'pg_token_8080=secret-token-0123456789' })).ok).toBe(true);
    expect(auth.authenticate(request({ authorization: 'Bearer secret-token-0123456789' })).ok).toBe(true);
  });

  it('does not accept another port\'s cookie', () => {
    expect(auth.authenticate(request({ cookie: 'pg_token_9090=secret-token-0123456789' })).ok).toBe(false);
  });

  it('keeps a valid learner id and mints one when absent or malformed', () => {
    const known = auth.authenticate(request({ cookie: 'pg_token_8080=secret-token-0123456789; pg_learner_8080=abcdefghijklmnopqrst' }));
    expect(known).toEqual({ ok: true, learnerId: 'abcdefghijklmnopqrst', newLearner: false });
    const hostile = auth.authenticate(request({ cookie: 'pg_token_8080=secret-token-0123456789; pg_learner_8080=../../etc' }));
    expect(hostile.ok && hostile.newLearner).toBe(true);
    expect(hostile.ok && hostile.learnerId).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('allows our own and configured origins for WebSockets, refuses foreign ones', () => {
    expect(auth.checkOrigin(request({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' }))).toBeNull();
    expect(auth.checkOrigin(request({ host: '127.0.0.1:8080', origin: 'https://lab.example.org' }))).toBeNull();
    expect(auth.checkOrigin(request({ host: '127.0.0.1:8080', origin: 'http://evil.example.com' }))).toMatchObject({ ok: false, status: 403 });
    expect(auth.checkOrigin(request({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:9999' }))).toMatchObject({ ok: false });
  });

  it('sets HttpOnly SameSite=Strict cookies', () => {
    expect(auth.tokenCookieHeader()).toMatch(/^pg_token_8080=secret-token-0123456789; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(auth.learnerCookieHeader('abc')).toMatch(/HttpOnly/);
  });
});
