/**
 * Recent terminal output as plain text, for step checks that look at what the learner ran
 * and saw. Output is kept raw (bounded, no copy) and only turned into text when asked for,
 * so the hot output path pays nothing for it.
 */

// CSI, OSC, DCS/SOS/PM/APC strings, two-byte escapes (charset designations, keypad modes…),
// and the 8-bit C1 CSI.
const ESCAPE_SEQUENCE =
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]|\u009b[0-?]*[ -/]*[@-~]/g;

/** Removes escape sequences; keeps text, newlines, carriage returns, tabs and backspaces. */
export function stripEscapes(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '');
}

/** Applies carriage returns, backspaces and tabs within one line, as a terminal would show it. */
function renderLine(line: string): string {
  if (!/[\r\b\t\x00-\x1f\x7f]/.test(line)) return line;
  const cells: string[] = [];
  let col = 0;
  for (const ch of line) {
    if (ch === '\r') col = 0;
    else if (ch === '\b') col = Math.max(0, col - 1);
    else if (ch === '\t') {
      const next = (Math.floor(col / 8) + 1) * 8;
      while (col < next) cells[col++] ??= ' ';
    } else if (ch >= ' ' && ch !== '\x7f') cells[col++] = ch;
  }
  let out = '';
  for (let i = 0; i < cells.length; i++) out += cells[i] ?? ' ';
  return out.trimEnd();
}

/** Plain text of terminal output: escapes removed, each line as it would appear on screen. */
export function toPlainText(text: string): string {
  return stripEscapes(text).split('\n').map(renderLine).join('\n');
}

/** A point in a session's output: what came after it (in that transcript or any later one) is newer. */
export interface OutputMark {
  transcript: number;
  offset: number;
}

let transcripts = 0;

export class Transcript {
  /** Increasing across transcripts, so a mark taken before a transcript existed precedes all of it. */
  readonly id = ++transcripts;
  private chunks: Buffer[] = [];
  private bytes = 0;
  private truncated = false;
  /** Bytes ever appended (the offset of the end). */
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  /** Where a transcript that does not exist yet will start. */
  static nextMark(): OutputMark {
    return { transcript: transcripts + 1, offset: 0 };
  }

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.total += chunk.length;
    while (this.chunks.length > 1 && this.bytes - this.chunks[0]!.length >= this.maxBytes) {
      this.bytes -= this.chunks.shift()!.length;
      this.truncated = true;
    }
  }

  /** The end of what was output so far. */
  mark(): OutputMark {
    return { transcript: this.id, offset: this.total };
  }

  /** Raw output (escapes kept) after `mark`, as far as it is still kept. */
  rawSince(mark: OutputMark): string {
    if (mark.transcript > this.id) return '';
    const from = mark.transcript < this.id ? 0 : mark.offset;
    const keptFrom = this.total - this.bytes;
    const raw = Buffer.concat(this.chunks);
    return raw.subarray(Math.max(0, from - keptFrom)).toString('utf8');
  }

  /** The last `maxBytes` of output (roughly) as plain text, starting at a line boundary. */
  text(): string {
    let raw = Buffer.concat(this.chunks);
    let cut = this.truncated;
    if (raw.length > this.maxBytes) {
      raw = raw.subarray(raw.length - this.maxBytes);
      cut = true;
    }
    let text = raw.toString('utf8');
    if (cut) {
      // The first line (and maybe a UTF-8 sequence or an escape) was cut: drop it.
      const newline = text.indexOf('\n');
      text = newline === -1 ? '' : text.slice(newline + 1);
    }
    return toPlainText(text);
  }
}
