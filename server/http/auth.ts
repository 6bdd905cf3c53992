/**
 * Access control. A terminal is a shell, so two things are needed, and neither is a name anyone
 * can learn:
 *
 * - the access token printed at start-up: the URL's `?token=` is exchanged once for an HttpOnly,
 *   SameSite=Strict cookie (then it leaves the address bar); API clients may send `Authorization:
 *   Bearer`. It says "may use this playground".
 * - a learner identity: a random secret the server issues on the page load (see identities.ts)
 *   and maps to a learner id. It says "is this learner". The learner id itself (a directory
 *   name, a log field) opens nothing.
 *
 * Cookie names carry the port because browsers share cookies across ports of one host:
 * two playgrounds on 127.0.0.1 must not overwrite each other's cookies.
 */
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { IssuedIdentity } from '../progress/identities.js';
import type { Site } from './site.js';

export interface LearnerDirectory {
  issue(): IssuedIdentity;
  learnerFor(secret: string | undefined): string | undefined;
}

export interface AuthOptions {
  token: string;
  port: number;
  site: Site;
  learners: LearnerDirectory;
}

export type Refusal = { ok: false; status: 401 | 403; message: string };
export type AuthResult = { ok: true; learnerId: string } | Refusal;

const LEARNER_COOKIE_MAX_AGE = 365 * 24 * 3600;

export const NO_TOKEN = 'missing or invalid access token: open the URL the server printed at start-up';
export const NO_LEARNER = 'no learner session: open the playground page (the URL the server printed at start-up) to start one';

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

  /** May this request use the playground at all: the token by cookie or bearer header. */
  hasAccess(req: IncomingMessage): boolean {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return this.isValidToken(this.cookies(req)[this.tokenCookie]) || this.isValidToken(bearer);
  }

  /** The learner whose issued secret the request carries; undefined for none, a forged or a stale one. */
  learnerOf(req: IncomingMessage): string | undefined {
    return this.options.learners.learnerFor(this.cookies(req)[this.learnerCookie]);
  }

  /** Token and learner identity, as the API and the terminal require them. Never creates a learner. */
  authenticate(req: IncomingMessage): AuthResult {
    if (!this.hasAccess(req)) return { ok: false, status: 401, message: NO_TOKEN };
    const learnerId = this.learnerOf(req);
    if (learnerId === undefined) return { ok: false, status: 401, message: NO_LEARNER };
    return { ok: true, learnerId };
  }

  /** A new learner, for the page load of a browser that has none: its id and the cookie proving it. */
  issueLearner(): { learnerId: string; cookie: string } {
    const { learnerId, secret } = this.options.learners.issue();
    const cookie = serializeCookie(this.learnerCookie, secret, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      maxAge: LEARNER_COOKIE_MAX_AGE,
    });
    return { learnerId, cookie };
  }

  /** DNS rebinding guard: the Host must be one no attacker's DNS can point here (see site.ts). */
  checkHost(req: IncomingMessage): Refusal | null {
    const host = req.headers.host;
    return this.options.site.isAllowedHost(host) ? null : { ok: false, status: 403, message: this.options.site.hostRefusal(host) };
  }

  /** Cross-site WebSocket hijacking and cross-origin write guard: the page must be one of ours. */
  checkOrigin(req: IncomingMessage): Refusal | null {
    const origin = req.headers.origin;
    // Non-browser clients (kubectl-like tools, tests) send no Origin and cannot be hijacked.
    if (origin === undefined) return null;
    if (this.options.site.isAllowedOrigin(origin)) return null;
    return { ok: false, status: 403, message: `origin ${origin} is not allowed: add it with --public-origin (PLAYGROUND_PUBLIC_ORIGIN) if the playground is published there` };
  }

  tokenCookieHeader(): string {
    return serializeCookie(this.tokenCookie, this.options.token, { httpOnly: true, sameSite: 'strict', path: '/' });
  }

  private cookies(req: IncomingMessage): Record<string, string | undefined> {
    return parseCookies(req.headers.cookie ?? '');
  }
}

function digest(s: string): Buffer {
  return crypto.createHash('sha256').update(s).digest();
}
