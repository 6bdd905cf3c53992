/** What an interactive learner shell reads at start: the prompt, history in HOME, `k` for kubectl. */
import path from 'node:path';

export const BASHRC = `# istio-playground terminal
HISTFILE="$HOME/.bash_history"
HISTSIZE=5000
HISTFILESIZE=10000
HISTCONTROL=ignoredups
shopt -s histappend checkwinsize
PROMPT_COMMAND='history -a'
PS1='\\[\\e[1;36m\\]playground\\[\\e[0m\\]:\\[\\e[1;34m\\]\\w\\[\\e[0m\\]\\$ '
alias k=kubectl
`;

export const SHRC = `# istio-playground terminal
PS1='playground:$PWD\\$ '
`;

/** File names of the rcfiles inside their directory. */
export const RC_FILES = { bashrc: BASHRC, shrc: SHRC } as const;

/** Arguments and environment that start `shell` interactively with the rcfiles in `rcDir`. */
export function interactiveShell(shell: string, rcDir: string): { args: string[]; env: Record<string, string> } {
  if (path.basename(shell) === 'bash') return { args: ['--noprofile', '--rcfile', path.posix.join(rcDir, 'bashrc'), '-i'], env: {} };
  // POSIX sh reads $ENV when interactive.
  return { args: ['-i'], env: { ENV: path.posix.join(rcDir, 'shrc') } };
}
