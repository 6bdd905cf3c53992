import headless from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import { MIRROR_MAX_BACKLOG, ScreenMirror, isPlainText } from '../../server/terminal/scrollback.js';

type HeadlessTerminal = InstanceType<typeof headless.Terminal>;

/** What a browser shows after writing `data` into a fresh terminal of this size. */
async function render(data: string | Buffer, cols = 80, rows = 24, scrollback = 1000): Promise<HeadlessTerminal> {
  const term = new headless.Terminal({ cols, rows, scrollback, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(data, resolve));
  return term;
}

function screenOf(term: HeadlessTerminal): string[] {
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let y = buffer.viewportY; y < buffer.viewportY + term.rows; y++) lines.push(buffer.getLine(y)?.translateToString(true) ?? '');
  return lines;
}

function allLines(term: HeadlessTerminal): string[] {
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let y = 0; y < buffer.length; y++) lines.push(buffer.getLine(y)?.translateToString(true) ?? '');
  return lines;
}

const mirrorOf = (cols = 80, rows = 24, scrollbackLines = 1000) => new ScreenMirror({ cols, rows, scrollbackLines });

describe('screen mirror replay', () => {
  it('replays text, colours, overwritten lines and the cursor position faithfully', async () => {
    const output = [
      'plain line\r\n',
      '\x1b[1;31mbold red\x1b[0m and \x1b[38;5;82mgreen\x1b[0m\r\n',
      'progress 10%\rprogress 100%\r\n',
      'abc\b\bX\r\n',
      '\x1b[5;10Hplaced at row 5',
      '\x1b[2;40H',
    ].join('');
    const mirror = mirrorOf();
    mirror.write(Buffer.from(output));
    const replay = await mirror.snapshot();
    const original = await render(output);
    const replayed = await render(replay);
    expect(screenOf(replayed)).toEqual(screenOf(original));
    expect(screenOf(replayed).slice(0, 5)).toEqual(['plain line', 'bold red and green', 'progress 100%', 'aXc', '         placed at row 5']);
    expect([replayed.buffer.active.cursorX, replayed.buffer.active.cursorY]).toEqual([39, 1]);
    const red = replayed.buffer.active.getLine(1)!.getCell(0)!;
    expect(red.isBold()).toBeTruthy();
    expect(red.getFgColor()).toBe(1);
    mirror.dispose();
  });

  it('keeps the scrollback, not only the visible screen', async () => {
    const mirror = mirrorOf(80, 5, 100);
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`);
    mirror.write(Buffer.from(lines.join('\r\n')));
    const replayed = await render(await mirror.snapshot(), 80, 5, 100);
    expect(allLines(replayed).filter(Boolean)).toEqual(lines);
    mirror.dispose();
  });

  it('replays a full-screen program (alternate screen) as it is, with the shell screen behind it', async () => {
    const mirror = mirrorOf();
    mirror.write(Buffer.from('$ vim notes.txt\r\n\x1b[?1049h\x1b[H\x1b[2Jediting notes\x1b[24;1H-- INSERT --'));
    const replayed = await render(await mirror.snapshot());
    expect(replayed.buffer.active.type).toBe('alternate');
    expect(screenOf(replayed)[0]).toBe('editing notes');
    expect(screenOf(replayed)[23]).toBe('-- INSERT --');
    expect(replayed.buffer.normal.getLine(0)?.translateToString(true)).toBe('$ vim notes.txt');
    mirror.dispose();
  });

  it('applies a resize between the output before and after it', async () => {
    const mirror = mirrorOf(80, 24);
    mirror.write(Buffer.from('before'));
    mirror.resize(120, 30);
    // Column 100 only exists after the resize; applied out of order the X would land at column 80.
    mirror.write(Buffer.from('\x1b[30;100HX'));
    const replay = await mirror.snapshot();
    expect([mirror.cols, mirror.rows]).toEqual([120, 30]);
    const replayed = await render(replay, 120, 30);
    expect(screenOf(replayed)[29]).toBe(`${' '.repeat(99)}X`);
    mirror.dispose();
  });

  it('bounds its backlog under a flood of plain text and still ends on the same screen', async () => {
    const mirror = mirrorOf(80, 24, 200);
    const chunks: Buffer[] = [];
    for (let i = 0; i < 200_000; i += 500) {
      const lines = Array.from({ length: 500 }, (_, j) => `output line number ${i + j}\r\n`).join('');
      chunks.push(Buffer.from(lines));
    }
    let maxBacklog = 0;
    for (const chunk of chunks) {
      mirror.write(chunk);
      maxBacklog = Math.max(maxBacklog, mirror.backlog);
    }
    const total = chunks.reduce((n, c) => n + c.length, 0);
    expect(total).toBeGreaterThan(2 * MIRROR_MAX_BACKLOG);
    expect(maxBacklog).toBeLessThanOrEqual(MIRROR_MAX_BACKLOG + chunks[0]!.length);
    expect(mirror.throttled).toBe(false);
    const replay = await mirror.snapshot();
    const replayed = await render(replay, 80, 24, 200);
    const reference = await render(Buffer.concat(chunks), 80, 24, 200);
    expect(screenOf(replayed)).toEqual(screenOf(reference));
    expect(screenOf(replayed)[22]).toBe('output line number 199999');
    // The lines kept are the newest, consecutive ones.
    const kept = allLines(replayed).filter((l) => l.startsWith('output line'));
    expect(kept.length).toBeGreaterThan(150);
    kept.forEach((line, i) => expect(line).toBe(`output line number ${200_000 - kept.length + i}`));
    mirror.dispose();
  });

  it('elides a plain-text flood behind a coloured prompt without pausing the PTY, keeping the prompt', async () => {
    const mirror = mirrorOf(80, 24, 100);
    const prompt = Buffer.from('\x1b[1;36mplayground\x1b[0m:~$ cat big.txt\r\n');
    const flood = Array.from({ length: 200 }, (_, c) =>
      Buffer.from(Array.from({ length: 1000 }, (_, j) => `flood line ${c * 1000 + j}\r\n`).join('')),
    );
    mirror.write(prompt);
    for (const chunk of flood) mirror.write(chunk);
    mirror.write(Buffer.from('\x1b[1;36mplayground\x1b[0m:~$ '));
    expect(mirror.throttled).toBe(false);
    expect(mirror.backlog).toBeLessThanOrEqual(MIRROR_MAX_BACKLOG);
    const replayed = await render(await mirror.snapshot(), 80, 24, 100);
    const reference = await render(Buffer.concat([prompt, ...flood, Buffer.from('\x1b[1;36mplayground\x1b[0m:~$ ')]), 80, 24, 100);
    expect(screenOf(replayed)).toEqual(screenOf(reference));
    expect(screenOf(replayed)[22]).toBe('flood line 199999');
    mirror.dispose();
  });

  it('says in the replay when it elided output, if the marker is still in the scrollback', async () => {
    const mirror = mirrorOf(80, 24, 100_000);
    const big = Buffer.from('x'.repeat(79) + '\r\n').toString().repeat(40_000);
    mirror.write(Buffer.from(big));
    mirror.write(Buffer.from('tail\r\n'));
    const replay = await mirror.snapshot();
    expect(replay).toMatch(/\[… [\d.]+ MB of output elided from the replay …\]/);
    mirror.dispose();
  });

  it('never drops output with escape sequences: it asks for the PTY to be paused instead', async () => {
    let changes = 0;
    const mirror = new ScreenMirror({ cols: 80, rows: 24, scrollbackLines: 100, onThrottleChange: () => changes++ });
    const coloured = Buffer.from('\x1b[32mgreen\x1b[0m line\r\n'.repeat(120_000));
    const last = Buffer.from('\x1b[1;33mlast line\x1b[0m');
    mirror.write(coloured);
    mirror.write(last);
    expect(coloured.length).toBeGreaterThan(MIRROR_MAX_BACKLOG);
    expect(mirror.backlog).toBe(coloured.length + last.length);
    expect(mirror.throttled).toBe(true);
    const replayed = await render(await mirror.snapshot());
    expect(mirror.throttled).toBe(false);
    expect(changes).toBe(2);
    expect(screenOf(replayed)[23]).toBe('last line');
    expect(replayed.buffer.active.getLine(replayed.buffer.active.baseY + 23)!.getCell(0)!.getFgColor()).toBe(3);
    mirror.dispose();
  });
});

describe('isPlainText', () => {
  it('accepts text, newlines, tabs and non-ASCII letters', () => {
    expect(isPlainText(Buffer.from('hello\tworld\r\n'))).toBe(true);
    expect(isPlainText(Buffer.from('© 2024 — café 漢字 🙂'))).toBe(true);
  });

  it('refuses escape sequences, charset shifts and C1 controls', () => {
    expect(isPlainText(Buffer.from('a\x1b[31mb'))).toBe(false);
    expect(isPlainText(Buffer.from('a\x0eb'))).toBe(false);
    expect(isPlainText(Buffer.from('a\u009b31mb'))).toBe(false);
  });
});
