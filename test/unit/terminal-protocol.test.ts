import { describe, expect, it } from 'vitest';
import {
  MAX_CONTROL_MESSAGE_BYTES,
  clientMessage,
  decodeClientMessage,
  decodeServerMessage,
  encodeMessage,
  type ServerMessage,
} from '../../server/terminal/protocol.js';

const errorOf = (raw: string) => {
  const r = decodeClientMessage(raw);
  if (r.ok) throw new Error(`expected ${raw.slice(0, 80)} to be rejected`);
  return r.error;
};

describe('terminal protocol: client messages', () => {
  it('decodes each valid message', () => {
    expect(decodeClientMessage('{"t":"input","d":"ls -l\\r"}')).toEqual({ ok: true, message: { t: 'input', d: 'ls -l\r' } });
    expect(decodeClientMessage('{"t":"resize","cols":120,"rows":40}')).toEqual({ ok: true, message: { t: 'resize', cols: 120, rows: 40 } });
    expect(decodeClientMessage('{"t":"ping","id":0}')).toEqual({ ok: true, message: { t: 'ping', id: 0 } });
    expect(decodeClientMessage('{"t":"ack","bytes":65536}')).toEqual({ ok: true, message: { t: 'ack', bytes: 65536 } });
  });

  it('keeps control characters, escapes and non-ASCII input intact', () => {
    const d = '\x03\x1b[A\x7fé漢字🙂\u0000';
    expect(decodeClientMessage(encodeMessage({ t: 'input', d }))).toEqual({ ok: true, message: { t: 'input', d } });
  });

  it('rejects what is not JSON, or not an object with a known type', () => {
    expect(errorOf('')).toBe('message is not valid JSON');
    expect(errorOf('{"t":"input","d":"x"')).toBe('message is not valid JSON');
    expect(errorOf('hello')).toBe('message is not valid JSON');
    for (const raw of ['null', '42', '"input"', '[]', '{}']) expect(errorOf(raw)).toMatch(/^invalid message/);
    expect(errorOf('{"t":"exec","cmd":"rm -rf /"}')).toMatch(/^invalid message at t/);
    // Server messages are not client messages.
    expect(errorOf('{"t":"pong","id":1}')).toMatch(/^invalid message at t/);
  });

  it('rejects fields of the wrong type or out of range, naming the field', () => {
    expect(errorOf('{"t":"input"}')).toMatch(/^invalid message at d/);
    expect(errorOf('{"t":"input","d":42}')).toMatch(/^invalid message at d/);
    expect(errorOf('{"t":"resize","cols":0,"rows":24}')).toMatch(/^invalid message at cols/);
    expect(errorOf('{"t":"resize","cols":80,"rows":1001}')).toMatch(/^invalid message at rows/);
    expect(errorOf('{"t":"resize","cols":80.5,"rows":24}')).toMatch(/^invalid message at cols/);
    expect(errorOf('{"t":"resize","cols":"80","rows":24}')).toMatch(/^invalid message at cols/);
    expect(errorOf('{"t":"ping","id":-1}')).toMatch(/^invalid message at id/);
    expect(errorOf('{"t":"ack","bytes":0}')).toMatch(/^invalid message at bytes/);
    expect(errorOf('{"t":"ack","bytes":1e400}')).toMatch(/^invalid message at bytes/);
    // The extremes of the valid range are accepted.
    expect(decodeClientMessage('{"t":"resize","cols":1,"rows":1000}').ok).toBe(true);
  });

  it('accepts and refuses input and acks exactly as the schema does (both skip zod on the echo path)', () => {
    const viaSchema = (raw: string) => {
      // The frame-size rule comes first for every message, as in decodeWith.
      if (raw.length > MAX_CONTROL_MESSAGE_BYTES * 2) return { ok: false };
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        return { ok: false, error: 'message is not valid JSON' };
      }
      const r = clientMessage.safeParse(json);
      return r.success ? { ok: true, message: r.data } : { ok: false };
    };
    const cases = [
      '{"t":"input","d":"a"}',
      '{"t":"input","d":"a","extra":{"x":1}}',
      // A repeated key: the last one counts, in JSON.parse and so in both paths.
      '{"t":"input","d":"a","t":"resize"}',
      '{"t":"input","d":"a","t":"resize","cols":80,"rows":24}',
      '{"t":"input","d":"a","d":7}',
      '{"t":"input","d":null}',
      '{"t":"input","d":["a"]}',
      '{"t":"input"',
      `{"t":"input","d":"${'y'.repeat(MAX_CONTROL_MESSAGE_BYTES + 1)}"}`,
      `{"t":"input","d":"${'\\u00e9'.repeat(MAX_CONTROL_MESSAGE_BYTES / 8)}"}`,
      `{"t":"input","d":"${'\\u00e9'.repeat(MAX_CONTROL_MESSAGE_BYTES)}"}`,
      '{"t":"ack","bytes":65536}',
      '{"t":"ack","bytes":1,"d":"x"}',
      '{"t":"ack","bytes":0}',
      '{"t":"ack","bytes":-5}',
      '{"t":"ack","bytes":1.5}',
      '{"t":"ack","bytes":"64"}',
      '{"t":"ack","bytes":9007199254740991}',
      '{"t":"ack","bytes":9007199254740992}',
      '{"t":"ack","bytes":1e400}',
      '{"t":"ack"}',
      '{"bytes":5,"t":"ack"}',
      '{"d":"a","t":"input"}',
      '{"t":"ack","bytes":5,"t":"input"}',
      '[{"t":"ack","bytes":5}]',
      'null',
    ];
    for (const raw of cases) {
      const fast = decodeClientMessage(raw);
      const slow = viaSchema(raw);
      expect({ raw: raw.slice(0, 60), ok: fast.ok }).toEqual({ raw: raw.slice(0, 60), ok: slow.ok });
      if (fast.ok && slow.ok) expect(fast.message).toEqual(slow.message);
    }
    // Refused keystrokes still say why, from the schema.
    expect(errorOf('{"t":"input","d":null}')).toMatch(/^invalid message at d/);
  });

  it('says why in plain English, whichever end decodes (the browser bundle loads no zod locale of its own)', () => {
    expect(errorOf('{"t":"resize","cols":0,"rows":24}')).toBe('invalid message at cols: Too small: expected number to be >=1');
    expect(errorOf('{"t":"input","d":42}')).toBe('invalid message at d: Invalid input: expected string, received number');
    expect(errorOf('{"t":"exec"}')).toBe("invalid message at t: Invalid discriminator value. Expected 'input' | 'resize' | 'ping' | 'ack'");
  });

  it('bounds input: the largest allowed keystroke payload passes, one more character does not', () => {
    const max = 'x'.repeat(MAX_CONTROL_MESSAGE_BYTES);
    expect(decodeClientMessage(encodeMessage({ t: 'input', d: max })).ok).toBe(true);
    expect(errorOf(JSON.stringify({ t: 'input', d: `${max}x` }))).toMatch(/^invalid message at d/);
  });

  it('refuses oversized raw messages before parsing them', () => {
    const raw = JSON.stringify({ t: 'input', d: 'y'.repeat(MAX_CONTROL_MESSAGE_BYTES * 2) });
    expect(errorOf(raw)).toBe(`message too large (${raw.length} bytes)`);
  });

  it('drops unknown fields and cannot be used for prototype pollution', () => {
    const r = decodeClientMessage('{"t":"ping","id":7,"extra":true,"__proto__":{"polluted":"yes"}}');
    expect(r).toEqual({ ok: true, message: { t: 'ping', id: 7 } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('terminal protocol: server messages', () => {
  it('round-trips every server message through encode/decode', () => {
    const messages: ServerMessage[] = [
      { t: 'hello', sessionId: 'learner-1', cols: 80, rows: 24 },
      { t: 'pong', id: 3 },
      { t: 'exit', code: 0, signal: null },
      { t: 'exit', code: null, signal: 9 },
      { t: 'detached', reason: 'opened elsewhere' },
      { t: 'error', message: 'message is not valid JSON' },
    ];
    for (const m of messages) expect(decodeServerMessage(encodeMessage(m))).toEqual({ ok: true, message: m });
  });

  it('rejects malformed server messages', () => {
    expect(decodeServerMessage('{"t":"hello","sessionId":"x","cols":0,"rows":24}').ok).toBe(false);
    expect(decodeServerMessage('{"t":"exit","code":"0","signal":null}').ok).toBe(false);
    expect(decodeServerMessage('{"t":"input","d":"x"}').ok).toBe(false);
    expect(decodeServerMessage('{"t":"exit","code":"0","signal":null}')).toEqual({
      ok: false,
      error: 'invalid message at code: Invalid input: expected number, received string',
    });
  });
});
