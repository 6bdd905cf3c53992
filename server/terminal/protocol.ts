/**
 * The terminal WebSocket protocol, shared by the server (server/terminal/ws.ts) and the
 * browser (client/). One module so both ends agree by construction.
 *
 * Framing:
 *  - Terminal output travels server → client as BINARY frames holding raw bytes (UTF-8 from
 *    the PTY). No JSON wrapping: output is the hot path (a `cat` of 64 MB must stream at
 *    tens of MB/s).
 *  - Everything else travels as TEXT frames holding one JSON message, validated with zod/mini
 *    on receipt. An invalid message is answered with an `error` message and otherwise
 *    ignored: it never ends the session.
 *
 * Flow control: the client acknowledges output bytes once xterm.js has parsed them
 * (`ack` with the number of bytes processed since the previous ack). The server pauses
 * the PTY while more than FLOW_HIGH_WATER bytes are unacknowledged and resumes it
 * below FLOW_LOW_WATER, so a slow browser slows the shell instead of growing a buffer.
 *
 * Reconnect: on every (re)attach the server first sends `hello`, then one binary frame
 * with the serialized screen + scrollback (from a headless xterm), then live output.
 * The client resets its terminal on `hello` before writing the replay.
 */
// zod/mini, not zod: this module is bundled into the browser, where full zod's method-chaining
// API cannot be tree-shaken and would be half of app.js. Same validation, same engine.
import * as z from 'zod/mini';
// zod/mini loads no locale; English issue messages make an `error` reply read the same
// whichever end decoded it (and whether or not full zod happens to be loaded too).
import en from 'zod/v4/locales/en.js';

z.config(en());

export const FLOW_HIGH_WATER = 1024 * 1024;
export const FLOW_LOW_WATER = 256 * 1024;
/** Client acks after this many processed bytes (and on idle). */
export const ACK_EVERY_BYTES = 64 * 1024;
/** Remaining processed bytes are acknowledged after this much quiet. */
export const ACK_IDLE_MS = 30;
/** Largest text frame the server accepts; larger frames are rejected (not fatal). */
export const MAX_CONTROL_MESSAGE_BYTES = 64 * 1024;

const dimension = z.int().check(z.minimum(1), z.maximum(1000));

export const clientMessage = z.discriminatedUnion('t', [
  /** Keystrokes or pasted text for the shell. */
  z.object({ t: z.literal('input'), d: z.string().check(z.maxLength(MAX_CONTROL_MESSAGE_BYTES)) }),
  z.object({ t: z.literal('resize'), cols: dimension, rows: dimension }),
  z.object({ t: z.literal('ping'), id: z.int().check(z.nonnegative()) }),
  z.object({ t: z.literal('ack'), bytes: z.int().check(z.positive()) }),
]);
export type ClientMessage = z.infer<typeof clientMessage>;

export const serverMessage = z.discriminatedUnion('t', [
  /** First message of every attach; a binary replay frame follows. */
  z.object({ t: z.literal('hello'), sessionId: z.string(), cols: dimension, rows: dimension }),
  z.object({ t: z.literal('pong'), id: z.int().check(z.nonnegative()) }),
  /** The shell exited; the session is over (a new connection starts a new shell). */
  z.object({ t: z.literal('exit'), code: z.nullable(z.int()), signal: z.nullable(z.int()) }),
  /** Another browser tab attached to this session and took it over. */
  z.object({ t: z.literal('detached'), reason: z.string() }),
  /** A message from the client was invalid; the session goes on. */
  z.object({ t: z.literal('error'), message: z.string() }),
]);
export type ServerMessage = z.infer<typeof serverMessage>;

export type DecodeResult<T> = { ok: true; message: T } | { ok: false; error: string };

function parseJson(raw: string): DecodeResult<unknown> {
  if (raw.length > MAX_CONTROL_MESSAGE_BYTES * 2) {
    return { ok: false, error: `message too large (${raw.length} bytes)` };
  }
  try {
    return { ok: true, message: JSON.parse(raw) };
  } catch {
    return { ok: false, error: 'message is not valid JSON' };
  }
}

function validate<T>(schema: z.ZodMiniType<T>, json: unknown): DecodeResult<T> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length ? ` at ${issue.path.join('.')}` : '';
    return { ok: false, error: `invalid message${where}: ${issue?.message ?? 'unknown error'}` };
  }
  return { ok: true, message: parsed.data };
}

/**
 * Keystrokes and acks are nearly every client message and sit on the echo path (the browser
 * acks output as it parses it, often just before the next key): those two are recognised by
 * hand, with the schema's acceptance (`input`: `d` a string within the limit; `ack`: `bytes`
 * a positive safe integer; other keys ignored), at a fraction of zod's ~8 µs. Anything
 * else, and every invalid message, goes through the schema and gets its error text.
 */
export function decodeClientMessage(raw: string): DecodeResult<ClientMessage> {
  const json = parseJson(raw);
  if (!json.ok) return json;
  const m = json.message as { t?: unknown; d?: unknown; bytes?: unknown } | null;
  if (m !== null && typeof m === 'object') {
    if (m.t === 'input' && typeof m.d === 'string' && m.d.length <= MAX_CONTROL_MESSAGE_BYTES) return { ok: true, message: { t: 'input', d: m.d } };
    if (m.t === 'ack' && Number.isSafeInteger(m.bytes) && (m.bytes as number) > 0) return { ok: true, message: { t: 'ack', bytes: m.bytes as number } };
  }
  return validate(clientMessage, json.message);
}

export function decodeServerMessage(raw: string): DecodeResult<ServerMessage> {
  const json = parseJson(raw);
  return json.ok ? validate(serverMessage, json.message) : json;
}
export const encodeMessage = (message: ClientMessage | ServerMessage): string => JSON.stringify(message);
