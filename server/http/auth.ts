/**
 * Access control. A terminal is a shell, so nothing is served without the token printed at
 * start-up: the URL's `?token=` is exchanged once for an HttpOnly, SameSite=Strict cookie
 * (then the token leaves the address bar). API clients may send `Authorization: Bearer`.
 * WebSocket upgrades must also come from our own origin (cross-site WebSocket hijacking).
 *
 * Cookie names carry the port because browsers share cookies across ports of one host:
 * two playgrounds on 127.0.0.1 must not overwrite each other's cookies.
 */
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';

export interface AuthOptions {
  token: string;
  port: number;
  allowedOrigins: string[];
}

export type AuthResult =
  | { ok: true; learnerId: string; newLearner: boolean }
  | { ok: false; status: 401 | 403; message: string };

const LEARNER_COOKIE_MAX_AGE = 365 * 24 * 3600;

export function randomToken(bytes = 24): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

export class Auth {
  readonly tokenCookie: string;
  readonly learnerCookie: string;
  private readonly tokenDigest: Buffer;

  constructor(private readonly options: AuthOptions) {
    this.tokenCookie = `pg_token_${options.port}`;
    this.learnerCookie = `pg_learner_${options.port}`;
    this.tokenDigest = digest(options.token);
  }

  /** Constant-time comparison, so response timing reveals nothing about the token. */
  isValidToken(candidate: string | undefined | null): boolean {
    if (!candidate) return false;
    return crypto.timingSafeEqual(digest(candidate), this.tokenDigest);
  }

  /** Who is asking, if they may: by cookie or bearer header (the URL token is handled by exchange). */
  authenticate(req: IncomingMessage): AuthResult {
    const cookies = parseCookies(req.headers.cookie ?? '');
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!this.isValidToken(cookies[this.tokenCookie]) && !this.isValidToken(bearer)) {
      return { ok: false, status: 401, message: 'missing or invalid access token: open the URL the server printed at start-up' };
    }
    const existing = cookies[this.learnerCookie];
    if (existing && /^[A-Za-z0-9_-]{16,64}$/.test(existing)) return { ok: true, learnerId: existing, newLearner: false };
    return { ok: true, learnerId: randomToken(18), newLearner: true };
  }

  /** Cross-site WebSocket hijacking guard: the page that opens the socket must be ours. */
  checkOrigin(req: IncomingMessage): AuthResult | null {
    const origin = req.headers.origin;
    // Non-browser clients (kubectl-like tools, tests) send no Origin and cannot be hijacked.
    if (origin === undefined) return null;
    const host = req.headers.host;
    const allowed = new Set(this.options.allowedOrigins.map((o) => o.replace(/\/$/, '')));
    if (host) {
      allowed.add(`http://${host}`);
      allowed.add(`https://${host}`);
    }
    if (allowed.has(origin)) return null;
    return { ok: false, status: 403, message: `origin ${origin} is not allowed` };
  }

  tokenCookieHeader(): string {
    return serializeCookie(this.tokenCookie, this.options.token, { httpOnly: true, sameSite: 'strict', path: '/' });
  }

  learnerCookieHeader(learnerId: string): string {
    return serializeCookie(this.learnerCookie, learnerId, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      maxAge: LEARNER_COOKIE_MAX_AGE,
    });
  }
}

function digest(s: string): Buffer {
  return crypto.createHash('sha256').update(s).digest();
}
