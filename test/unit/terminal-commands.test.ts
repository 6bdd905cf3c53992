import { describe, expect, it } from 'vitest';
import { matchCommand, parseCommands } from '../../server/terminal/commands.js';

const N = 'n0nce';
const C = (n: number, nonce = N) => `\x1b]633;C;${nonce};${n}\x07`;
const D = (status: number, n: number, line: string, nonce = N) => `\x1b]633;D;${nonce};${status};    ${n}  ${line}\r\n\x07`;
const PROMPT = '\x1b[?2004h\x1b[1;36mplayground\x1b[0m:~$ ';

describe('command marks in terminal output', () => {
  it('count what a command printed, not its echoed command line nor the prompt', () => {
    const raw = `${D(0, 0, '')}${PROMPT}echo "Hello from the playground"\r\n\x1b[?2004l\r${C(1)}Hello from the playground\r\n${D(0, 1, 'echo "Hello from the playground"')}${PROMPT}`;
    expect(parseCommands(raw, [N])).toEqual([{ line: 'echo "Hello from the playground"', output: 'Hello from the playground\n', exitCode: 0 }]);
  });

  it('count nothing for text typed without Enter, or an empty Enter', () => {
    expect(parseCommands(`${PROMPT}# Hello from the playground`, [N])).toEqual([]);
    expect(parseCommands(`${PROMPT}\r\n${D(0, 3, 'earlier')}${PROMPT}`, [N])).toEqual([]);
  });

  it('ignore marks with another nonce (a program printing fake marks)', () => {
    const raw = `${C(1)}${C(7, 'fake')}Client Version: v1.2.3\r\n${D(0, 7, 'kubectl version', 'fake')}${D(0, 1, 'echo fake')}`;
    expect(parseCommands(raw, [N])).toEqual([{ line: 'echo fake', output: expect.stringContaining('Client Version'), exitCode: 0 }]);
  });

  it('know no command line when history did not record this command (set +o history)', () => {
    const raw = `${C(5)}x\r\n${D(0, 4, 'set +o history')}`;
    expect(parseCommands(raw, [N])[0]!.line).toBeUndefined();
  });

  it('report a command still running, without its line yet', () => {
    expect(parseCommands(`${C(2)}NAME   READY\r\n`, [N])).toEqual([{ line: undefined, output: 'NAME   READY\n', exitCode: undefined }]);
  });
});

describe('which command a line ran', () => {
  it('accepts the command, its k alias, a path to it, added flags and env assignments', () => {
    expect(matchCommand('kubectl version', 'kubectl version')).toBe('yes');
    expect(matchCommand('k version', 'kubectl version')).toBe('yes');
    expect(matchCommand('/usr/bin/kubectl version --output=yaml', 'kubectl version')).toBe('yes');
    expect(matchCommand('KUBECONFIG=x kubectl get -o wide nodes', 'kubectl get nodes')).toBe('yes');
    expect(matchCommand('kubectl get nodes 2>&1 | grep NAME', 'kubectl get nodes')).toBe('yes');
  });

  it('refuses other programs that merely mention it', () => {
    expect(matchCommand('echo "Client Version: v1.2.3 Server Version: v1.2.3"', 'kubectl version')).toBe('no');
    expect(matchCommand('echo kubectl version', 'kubectl version')).toBe('no');
    expect(matchCommand("printf 'kubectl version'", 'kubectl version')).toBe('no');
    expect(matchCommand('kubectl get pods', 'kubectl version')).toBe('no');
    expect(matchCommand(undefined, 'kubectl version')).toBe('no');
  });

  it('does not let other commands on the same line add to its output', () => {
    expect(matchCommand('kubectl version; echo "Server Version: v1.2.3"', 'kubectl version')).toBe('not-alone');
    expect(matchCommand('kubectl version && echo x', 'kubectl version')).toBe('not-alone');
    expect(matchCommand('kubectl version | sed s/a/b/', 'kubectl version')).toBe('not-alone');
    expect(matchCommand('kubectl version $(echo x)', 'kubectl version')).toBe('not-alone');
    expect(matchCommand('kubectl version `echo x`', 'kubectl version')).toBe('not-alone');
    expect(matchCommand('kubectl version & echo x', 'kubectl version')).toBe('not-alone');
    expect(matchCommand('kubectl version\necho x', 'kubectl version')).toBe('not-alone');
    // Quoted separators are words, not separators.
    expect(matchCommand("kubectl get pods -l 'app=a;b'", 'kubectl get pods')).toBe('yes');
  });
});
