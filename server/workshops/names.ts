/**
 * Display names learners choose when joining, and the random codes of join links. A name is
 * shown to the instructor and (escaped) in pages: it is text, bounded, without control or
 * formatting characters (a bidi override could make one name read as another).
 */
import crypto from 'node:crypto';

export const NAME_MAX = 40;

export type NameCheck = { ok: true; name: string } | { ok: false; message: string };

export function checkDisplayName(raw: unknown): NameCheck {
  if (typeof raw !== 'string') return { ok: false, message: 'Enter a display name.' };
  const name = raw.normalize('NFC').replace(/\s+/gu, ' ').trim();
  if (name.length === 0) return { ok: false, message: 'Enter a display name.' };
  if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\u2028\u2029]/u.test(raw.normalize('NFC').replace(/ /g, ''))) {
    return { ok: false, message: 'A display name cannot contain control or formatting characters.' };
  }
  if ([...name].length > NAME_MAX) return { ok: false, message: `A display name has at most ${NAME_MAX} characters.` };
  return { ok: true, name };
}

/** 128 random bits: a join link cannot be guessed, only shared. */
export function newJoinCode(): string {
  return crypto.randomBytes(16).toString('base64url');
}

export const JOIN_CODE_SHAPE = /^[A-Za-z0-9_-]{22}$/;

export function newWorkshopId(): string {
  return `w${crypto.randomBytes(6).toString('hex')}`;
}
