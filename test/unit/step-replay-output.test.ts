/**
 * The output a failed replay shows for its failing command: what the command printed, taken from
 * between the learner rcfile's start and end marks, without the echoed command line, the prompt
 * or the scripted shell's end-of-entry printf the tty echoed while the command ran.
 */
import { describe, expect, it } from 'vitest';
import { commandOutput } from '../../server/steps/replay.js';

const nonce = '0123abcd';
const C = (n: number) => `\x1b]633;C;${nonce};${n}\x07`;
const D = (status: number, line: string) => `\x1b]633;D;${nonce};${status};${line}\x07`;

describe('commandOutput', () => {
  it('keeps what the command printed, and drops the echo, the prompt and the typed-ahead printf', () => {
    const transcript = `kubectl get deployment nope\r\n${C(5)}printf '\\033]777;pg;done;%s\\007' '19082-4'\r\nError from server (NotFound): deployments.apps "nope" not found\r\n${D(1, '    5  kubectl get deployment nope')}playground:~$ printf '\\033]777;pg;done;%s\\007' '19082-4'\r\n`;
    expect(commandOutput(transcript, nonce)).toBe('Error from server (NotFound): deployments.apps "nope" not found\r\n');
  });

  it('joins the output of each command of an entry with several', () => {
    const transcript = `true && echo one; false\r\n${C(6)}one\r\n${D(0, '6 x')}${C(7)}${D(1, '7 x')}playground:~$ `;
    expect(commandOutput(transcript, nonce)).toBe('one\r\n');
  });

  it('ignores marks of another nonce (a command printing a look-alike)', () => {
    const transcript = `${C(8)}\x1b]633;D;ffff;0;x\x07real\r\n${D(2, '8 x')}`;
    expect(commandOutput(transcript, nonce)).toBe('\x1b]633;D;ffff;0;x\x07real\r\n');
  });
});
