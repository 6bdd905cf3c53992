/**
 * The terminal line discipline of a container's tty (what the kernel's n_tty does for a real
 * `kubectl exec -it`): kubectl puts the local terminal in raw mode, so the container side must
 * echo keystrokes, edit the line (backspace, Ctrl-U), turn Enter into a line, Ctrl-C into an
 * interrupt and Ctrl-D on an empty line into end of input, and map '\n' to '\r\n' on output.
 */
import type { InputStream, OutputStream } from './streams.js';

export interface ByteSource {
  on(event: 'data', cb: (chunk: Buffer | string) => void): unknown;
  on(event: 'end', cb: () => void): unknown;
}

export class TtyDiscipline {
  private line = '';
  private lines: (string | null)[] = [];
  private waiting: ((line: string | null) => void) | null = null;
  private ended = false;
  private escape = '';
  /** Called on Ctrl-C. */
  onInterrupt: (() => void) | null = null;

  constructor(
    source: ByteSource,
    private readonly echo: OutputStream,
  ) {
    source.on('data', (chunk) => this.feed(typeof chunk === 'string' ? chunk : chunk.toString('utf8')));
    source.on('end', () => {
      this.ended = true;
      this.push(null);
    });
  }

  private push(line: string | null): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(line);
    } else this.lines.push(line);
  }

  feed(text: string): void {
    for (const ch of text) {
      if (this.escape) {
        // Swallow CSI/SS3 sequences (arrow keys): there is no history or cursor movement.
        this.escape += ch;
        if (this.escape.length > 1 && /[A-Za-z~]/.test(ch)) this.escape = '';
        continue;
      }
      switch (ch) {
        case '\x1b':
          this.escape = ch;
          break;
        case '\r':
        case '\n':
          this.echo.write('\r\n');
          this.push(this.line);
          this.line = '';
          break;
        case '\x7f':
        case '\b':
          if (this.line) {
            this.line = [...this.line].slice(0, -1).join('');
            this.echo.write('\b \b');
          }
          break;
        case '\x15':
          this.echo.write('\b \b'.repeat([...this.line].length));
          this.line = '';
          break;
        case '\x03':
          this.echo.write('^C\r\n');
          this.line = '';
          if (this.onInterrupt) this.onInterrupt();
          else this.push('\x03');
          break;
        case '\x04':
          if (this.line === '') this.push(null);
          else {
            this.push(this.line);
            this.line = '';
          }
          break;
        default:
          if (ch < ' ' && ch !== '\t') break;
          this.line += ch;
          this.echo.write(ch);
      }
    }
  }

  /** The next line (without newline), '\x03' when Ctrl-C discarded the line, null at end of input. */
  readLine(): Promise<string | null> {
    if (this.lines.length) return Promise.resolve(this.lines.shift()!);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** The tty as a program's stdin: cooked lines with '\n', end at Ctrl-D. */
  asInput(): InputStream {
    let eof = false;
    return {
      read: async () => {
        if (eof) return null;
        const line = await this.readLine();
        if (line === null) {
          eof = true;
          return null;
        }
        if (line === '\x03') return Buffer.alloc(0);
        return Buffer.from(line + '\n');
      },
    };
  }
}

/** Output post-processing of a tty (ONLCR). */
export function onlcr(out: OutputStream): OutputStream {
  return {
    write: (chunk) => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      out.write(text.replace(/\r?\n/g, '\r\n'));
    },
  };
}
