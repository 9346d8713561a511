// `nightshift completion bash|zsh`: shell completion made from the commands and options themselves.
import { type Command, InvalidArgumentError } from 'commander';
import type { Io } from '../context.js';

/** For each command path ("nightshift runs ls"), the words that may follow; for "path --option", its values. */
export function completionTable(program: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const walk = (cmd: Command, path: string) => {
    const options = [...cmd.options, ...(cmd === program ? [] : program.options)];
    const words = [...cmd.commands.map((c) => c.name()), ...options.flatMap((o) => [o.long, o.short])];
    table.set(path, [...new Set(words.filter((w): w is string => !!w))].concat('--help'));
    for (const o of cmd.options) {
      if (o.argChoices && o.long) table.set(`${path} ${o.long}`, o.argChoices);
    }
    for (const sub of cmd.commands) walk(sub, `${path} ${sub.name()}`);
  };
  walk(program, program.name());
  table.set(`${program.name()} completion`, ['bash', 'zsh']);
  return table;
}

const entries = (table: Map<string, string[]>) =>
  [...table]
    .map(([key, words]) => `  [${JSON.stringify(key)}]=${JSON.stringify(words.join(' '))}`)
    .join('\n');

export function bashScript(table: Map<string, string[]>): string {
  return `# nightshift completion for bash: eval "$(nightshift completion bash)" (e.g. in ~/.bashrc)
_nightshift() {
  local -A table=(
${entries(table)}
  )
  local cmdpath=nightshift w i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    if [[ -n "\${table["$cmdpath $w"]+set}" ]]; then cmdpath="$cmdpath $w"; fi
  done
  local prev="\${COMP_WORDS[COMP_CWORD-1]}" key
  key="$cmdpath $prev"
  if [[ $prev == --* && -n "\${table[$key]+set}" ]]; then
    COMPREPLY=($(compgen -W "\${table[$key]}" -- "\${COMP_WORDS[COMP_CWORD]}"))
  else
    COMPREPLY=($(compgen -W "\${table[$cmdpath]}" -- "\${COMP_WORDS[COMP_CWORD]}"))
  fi
}
complete -F _nightshift nightshift
`;
}

export function zshScript(table: Map<string, string[]>): string {
  return `#compdef nightshift
# nightshift completion for zsh: eval "$(nightshift completion zsh)" (e.g. in ~/.zshrc, after compinit)
_nightshift() {
  local -A table
  table=(
${entries(table)}
  )
  local cmdpath=nightshift w key
  for w in "\${(@)words[2,CURRENT-1]}"; do
    [[ $w == -* ]] && continue
    key="$cmdpath $w"
    if (( \${+table[$key]} )); then cmdpath=$key; fi
  done
  key="$cmdpath \${words[CURRENT-1]}"
  if [[ \${words[CURRENT-1]} == --* ]] && (( \${+table[$key]} )); then
    compadd -- \${=table[$key]}
  else
    compadd -- \${=table[$cmdpath]}
  fi
}
compdef _nightshift nightshift
`;
}

export function registerCompletion(program: Command, io: Io): void {
  program
    .command('completion')
    .description('print the shell completion script: eval "$(nightshift completion bash)"')
    .argument('<shell>', 'bash or zsh', (value: string) => {
      if (value !== 'bash' && value !== 'zsh') throw new InvalidArgumentError('expected bash or zsh');
      return value;
    })
    .action((shell: 'bash' | 'zsh') => {
      const table = completionTable(program);
      io.stdout.write(shell === 'bash' ? bashScript(table) : zshScript(table));
    });
}
