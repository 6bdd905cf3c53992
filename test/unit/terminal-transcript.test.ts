import { describe, expect, it } from 'vitest';
import { Transcript, stripEscapes, toPlainText } from '../../server/terminal/transcript.js';

describe('terminal transcript', () => {
  it('removes colours, cursor movement, titles and mode switches', () => {
    expect(stripEscapes('\x1b[1;32mRunning\x1b[0m \x1b[2K\x1b[?2004h')).toBe('Running ');
    expect(stripEscapes('\x1b]0;user@host: ~\x07prompt$ \x1b]2;title\x1b\\')).toBe('prompt$ ');
    expect(stripEscapes('\x1b(B\x1b=text\x1b>')).toBe('text');
  });

  it('shows lines as the terminal does: carriage returns overwrite, backspaces rub out', () => {
    expect(toPlainText('progress 10%\rprogress 100%\r\nnext')).toBe('progress 100%\nnext');
    expect(toPlainText('abc\rX')).toBe('Xbc');
    expect(toPlainText('kubectl get podz\b \bs\r\n')).toBe('kubectl get pods\n');
    expect(toPlainText('a\tb')).toBe('a       b');
  });

  it('keeps only the most recent output, starting at a whole line', () => {
    const t = new Transcript(1024);
    for (let i = 0; i < 1000; i++) t.append(Buffer.from(`\x1b[32mline ${i}\x1b[0m\r\n`));
    const text = t.text();
    expect(text.length).toBeLessThanOrEqual(1024);
    const lines = text.split('\n').filter(Boolean);
    expect(lines[lines.length - 1]).toBe('line 999');
    expect(lines[0]).toMatch(/^line \d+$/);
    lines.forEach((line, i) => expect(line).toBe(`line ${1000 - lines.length + i}`));
  });

  it('decodes multi-byte characters split across output chunks', () => {
    const t = new Transcript(1024);
    const bytes = Buffer.from('héllo wörld\r\n');
    t.append(bytes.subarray(0, 2));
    t.append(bytes.subarray(2));
    expect(t.text()).toBe('héllo wörld\n');
  });
});
