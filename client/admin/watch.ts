/**
 * A read-only live view of one learner's terminal: xterm without input, fed by the server's
 * watch socket (the screen as it is, then live output). The server ignores anything sent on
 * that socket; the terminal here does not even offer a cursor to type at.
 */
import { Terminal } from '@xterm/xterm';
import { decodeServerMessage } from '../../server/terminal/protocol.js';
import { h } from '../dom.js';
import { watchUrl } from './api.js';

export class TerminalWatch {
  readonly element: HTMLElement;
  private readonly term: Terminal;
  private readonly status: HTMLElement;
  private ws: WebSocket | null = null;

  constructor(workshopId: string, learnerId: string, learnerName: string) {
    const host = h('div', { class: 'watch-terminal', 'data-testid': 'watch-terminal' });
    this.status = h('p', { class: 'watch-status', role: 'status', 'data-testid': 'watch-status' }, 'Connecting…');
    this.element = h('section', { class: 'watch', 'aria-label': `Terminal of ${learnerName} (read only)` }, this.status, host);
    this.term = new Terminal({ disableStdin: true, cursorBlink: false, cursorStyle: 'underline', scrollback: 2000, fontSize: 13, convertEol: false });
    this.term.open(host);
    const ws = new WebSocket(watchUrl(workshopId, learnerId));
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => (this.status.textContent = `Watching ${learnerName}'s terminal (read only).`);
    ws.onmessage = (event) => {
      if (typeof event.data === 'string') {
        const decoded = decodeServerMessage(event.data);
        if (decoded.ok && decoded.message.t === 'hello') this.term.resize(decoded.message.cols, decoded.message.rows);
        return;
      }
      this.term.write(new Uint8Array(event.data as ArrayBuffer));
    };
    ws.onclose = (event) => {
      if (this.ws === ws) this.status.textContent = `The live view closed${event.reason ? ` (${event.reason})` : ''}.`;
    };
    this.ws = ws;
  }

  /** Plain text of the buffer (for tests and copy). */
  text(): string {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n');
  }

  destroy(): void {
    const ws = this.ws;
    this.ws = null;
    ws?.close();
    this.term.dispose();
  }
}
