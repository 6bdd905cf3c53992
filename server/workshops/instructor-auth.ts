/**
 * The instructor's access, separate from learners': its own token (printed at start-up, or
 * --admin-token), exchanged once for its own HttpOnly, SameSite=Strict cookie. Neither the
 * learners' access token nor any learner identity opens an instructor endpoint, and the
 * instructor token opens no learner's terminal.
 */
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';

export const NO_INSTRUCTOR = 'instructor access needed: open the instructor URL the server printed at start-up';

export class InstructorAuth {
  readonly cookieName: string;
  private readonly digest: Buffer;

  constructor(
    private readonly token: string,
    port: number,
  ) {
    this.cookieName = `pg_admin_${port}`;
    this.digest = sha256(token);
  }

  isValidToken(candidate: string | undefined | null): boolean {
    if (!candidate) return false;
    return crypto.timingSafeEqual(sha256(candidate), this.digest);
  }

  /** By cookie (the dashboard page) or `Authorization: Bearer` (scripts). */
  isInstructor(req: IncomingMessage): boolean {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return this.isValidToken(parseCookies(req.headers.cookie ?? '')[this.cookieName]) || this.isValidToken(bearer);
  }

  cookieHeader(): string {
    return serializeCookie(this.cookieName, this.token, { httpOnly: true, sameSite: 'strict', path: '/' });
  }
}

function sha256(s: string): Buffer {
  return crypto.createHash('sha256').update(s).digest();
}
