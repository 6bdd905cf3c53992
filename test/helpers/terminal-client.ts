/** A browser stand-in for terminal tests: speaks the terminal protocol over a real WebSocket. */
import WebSocket from 'ws';
import { decodeServerMessage, encodeMessage, type ClientMessage, type ServerMessage } from '../../server/terminal/protocol.js';

/** A browser stand-in: records control messages and output, acks output like xterm.js would. */
export class TestClient {
  readonly messages: ServerMessage[] = [];
  output = '';
  outputBytes = 0;
  replay: string | undefined;
  closeCode: number | undefined;
  private expectReplay = false;
  private waiters: Array<() => void> = [];
  private unackedBytes = 0;

  constructor(
    readonly ws: WebSocket,
    public autoAck = true,
  ) {
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        if (this.expectReplay) {
          this.replay = data.toString('utf8');
          this.expectReplay = false;
        } else {
          this.output += data.toString('utf8');
          this.outputBytes += data.length;
          this.unackedBytes += data.length;
          if (this.autoAck) this.ack();
        }
      } else {
        const decoded = decodeServerMessage(data.toString('utf8'));
        if (!decoded.ok) throw new Error(`server sent an invalid message: ${decoded.error}`);
        this.messages.push(decoded.message);
        if (decoded.message.t === 'hello') this.expectReplay = true;
      }
      this.notify();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.notify();
    });
  }

  static async open(url: string, options: { autoAck?: boolean; headers?: Record<string, string>; autoPong?: boolean } = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { headers: options.headers, autoPong: options.autoPong ?? true });
    const client = new TestClient(ws, options.autoAck ?? true);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await client.until(() => client.replay !== undefined, 'hello + replay');
    return client;
  }

  send(message: ClientMessage): void {
    this.ws.send(encodeMessage(message));
  }

  type(text: string): void {
    this.send({ t: 'input', d: text });
  }

  ack(): void {
    if (this.unackedBytes > 0) this.send({ t: 'ack', bytes: this.unackedBytes });
    this.unackedBytes = 0;
  }

  /** Runs a command and resolves with the output between two markers printed around it. */
  async run(command: string, timeoutMs = 10_000): Promise<string> {
    const id = Math.random().toString(36).slice(2, 8);
    const from = this.output.length;
    // The markers are built by the shell, so the echoed command line does not match them.
    this.type(`echo BEGIN''${id}; ${command}; echo END''${id}\r`);
    await this.until(() => this.output.indexOf(`END${id}`, from) !== -1, `output of ${command}`, timeoutMs);
    const text = this.output.slice(from);
    return text.slice(text.indexOf(`BEGIN${id}`) + 6 + id.length, text.indexOf(`END${id}`)).trim();
  }

  /** Runs a command that ends by printing a pid (job notices like "[1] 123" may come first). */
  async pid(command: string): Promise<number> {
    const lines = (await this.run(command)).split(/\r?\n/);
    return Number(lines[lines.length - 1]);
  }

  messagesOf<T extends ServerMessage['t']>(t: T): Extract<ServerMessage, { t: T }>[] {
    return this.messages.filter((m): m is Extract<ServerMessage, { t: T }> => m.t === t);
  }

  until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${what}; output so far: ${JSON.stringify(this.output.slice(-500))}`));
      }, timeoutMs);
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  closed(): Promise<number> {
    return this.until(() => this.closeCode !== undefined, 'close').then(() => this.closeCode!);
  }

  close(): void {
    this.ws.close();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
