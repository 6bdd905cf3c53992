/**
 * Reads small JSON request bodies for the API. Not express.json(): body-parser decodes every
 * body through iconv-lite, whose tables (~5 MB of RSS once loaded) buy nothing for an API that
 * only ever receives a few hundred bytes of UTF-8 JSON from its own page.
 *
 * Errors carry `status` (and `type` for malformed JSON) for the app's error handler:
 * 413 past the limit, 415 for a charset other than UTF-8, 400 for malformed JSON. A body
 * that is not `application/json` is left unread, so `req.body` stays undefined and the
 * route's own validation answers, as with express.json().
 */
import type { NextFunction, Request, Response } from 'express';

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type?: string,
  ) {
    super(message);
  }
}

function isJson(req: Request): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

function charsetOf(req: Request): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
}

export function jsonBody(options: { limitBytes: number }) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (req.method === 'GET' || req.method === 'HEAD' || !isJson(req)) return next();
    const charset = charsetOf(req);
    if (charset && charset !== 'utf-8' && charset !== 'utf8') return next(new BodyError(415, `unsupported charset "${charset.toUpperCase()}"`));
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.limitBytes) return next(new BodyError(413, 'request entity too large'));
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > options.limitBytes) {
        failed = true;
        // Stop reading but let the response go out; the rest of the body is discarded.
        req.unpipe();
        req.resume();
        next(new BodyError(413, 'request entity too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (failed) return;
      failed = true;
      next(new BodyError(400, `request body could not be read: ${err.message}`));
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        req.body = {};
        return next();
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      // Objects and arrays only, as express.json()'s strict mode: a bare string or number is a mistake.
      if (body === null || typeof body !== 'object') return next(new BodyError(400, 'request body is not valid JSON', 'entity.parse.failed'));
      req.body = body;
      next();
    });
  };
}
