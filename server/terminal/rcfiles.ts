/** What an interactive learner shell reads at start: the prompt, history in HOME, `k` for kubectl. */
import path from 'node:path';

export const BASHRC = `# istio-playground terminal
HISTFILE="$HOME/.bash_history"
HISTSIZE=5000
HISTFILESIZE=10000
HISTCONTROL=ignoredups
shopt -s histappend checkwinsize
# Shell integration (see commands.ts): marks where each command's output starts and ends, so
# step checks count what commands printed, never what was typed or a prompt.
__pg_mark=$PLAYGROUND_SHELL_MARK; unset PLAYGROUND_SHELL_MARK
if [ -n "$__pg_mark" ]; then
  PS0='\\e]633;C;'"$__pg_mark"';\\!\\a'
  __pg_end() { local s=$?; builtin printf '\\e]633;D;%s;%s;' "$__pg_mark" "$s"; HISTTIMEFORMAT= builtin history 1; builtin printf '\\a'; }
  PROMPT_COMMAND='__pg_end; history -a'
else
  PROMPT_COMMAND='history -a'
fi
PS1='\\[\\e[1;36m\\]playground\\[\\e[0m\\]:\\[\\e[1;34m\\]\\w\\[\\e[0m\\]\\$ '
alias k=kubectl
# After "Reset this step" or "Jump to step": the folder and variables the earlier steps left (server/steps/).
if [ -r "$HOME/.playground/step-env.sh" ]; then . "$HOME/.playground/step-env.sh"; fi
`;

export const SHRC = `# istio-playground terminal
PS1='playground:$PWD\\$ '
if [ -r "$HOME/.playground/step-env.sh" ]; then . "$HOME/.playground/step-env.sh"; fi
`;

/** File names of the rcfiles inside their directory. */
export const RC_FILES = { bashrc: BASHRC, shrc: SHRC } as const;

/** Arguments and environment that start `shell` interactively with the rcfiles in `rcDir`. */
export function interactiveShell(shell: string, rcDir: string): { args: string[]; env: Record<string, string> } {
  if (path.basename(shell) === 'bash') return { args: ['--noprofile', '--rcfile', path.posix.join(rcDir, 'bashrc'), '-i'], env: {} };
  // POSIX sh reads $ENV when interactive.
  return { args: ['-i'], env: { ENV: path.posix.join(rcDir, 'shrc') } };
}
