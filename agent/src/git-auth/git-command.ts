// How the agent's own git commands are hardened against a worker-written .git/config, and how one network operation gets its credential.
import type { GitCredential, HttpRemote } from './credentials.js';

/**
 * Given to every git command the agent runs (`-c` on the command line outranks the repository's
 * config): no hook or fsmonitor the worker wrote runs as the agent's user, no credential helper of the
 * repository is asked or told anything (the empty value empties git's list of helpers), and no `ext::`
 * transport runs a command.
 */
export const HARDENING_ARGS: readonly string[] = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'credential.helper=',
  '-c',
  'protocol.ext.allow=never',
];

/**
 * The credential helper of one operation: it answers `get` only for the exact protocol, host and path
 * the agent meant (so a remote URL or `insteadOf` the worker changed never receives the token), from
 * variables that exist only in that git process's environment. Nothing secret is on a command line
 * (`printf` is a shell builtin), and `store`/`erase` are ignored: git keeps nothing.
 */
const HELPER = [
  '!f() {',
  'test "$1" = get || { cat >/dev/null; return 0; };',
  'p=; h=; q=;',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template.
  'while IFS= read -r l; do case "$l" in protocol=*) p=${l#protocol=};; host=*) h=${l#host=};; path=*) q=${l#path=};; esac; done;',
  'if test "$p" = "$NIGHTSHIFT_GIT_AUTH_PROTOCOL" && test "$h" = "$NIGHTSHIFT_GIT_AUTH_HOST" && test "$q" = "$NIGHTSHIFT_GIT_AUTH_PATH"; then',
  'printf "username=%s\\npassword=%s\\n" "$NIGHTSHIFT_GIT_AUTH_USERNAME" "$NIGHTSHIFT_GIT_AUTH_PASSWORD";',
  'fi; }; f',
].join(' ');

/** The extra `-c` arguments and environment that hand `credential` to git for `remote` alone. */
export function credentialInvocation(
  remote: HttpRemote,
  credential: GitCredential,
): { args: string[]; env: Record<string, string> } {
  return {
    args: ['-c', 'credential.useHttpPath=true', '-c', `credential.helper=${HELPER}`],
    env: {
      NIGHTSHIFT_GIT_AUTH_PROTOCOL: remote.protocol,
      NIGHTSHIFT_GIT_AUTH_HOST: remote.host,
      NIGHTSHIFT_GIT_AUTH_PATH: remote.path,
      NIGHTSHIFT_GIT_AUTH_USERNAME: credential.username,
      NIGHTSHIFT_GIT_AUTH_PASSWORD: credential.password,
    },
  };
}

/**
 * Settings of the repository's own config that could send a credential elsewhere or read it on the way
 * (a proxy, TLS checks off, a rewritten URL, an included file, an SSH or askpass program). A worker
 * can write them; the agent refuses to hand a credential to git while any is there.
 */
const REFUSED_KEYS = [
  /^include\./,
  /^includeif\./,
  /^url\./,
  /^http\./,
  /^credential\./,
  /^core\.(askpass|gitproxy|sshcommand)$/,
  /^extensions\.worktreeconfig$/,
];

/** The keys (as `git config --list --name-only` prints them) that refuse a credentialed operation. */
export function refusedConfigKeys(names: string[]): string[] {
  return [...new Set(names.map((n) => n.toLowerCase()).filter((n) => REFUSED_KEYS.some((r) => r.test(n))))];
}

/** Whether git's message says the remote wanted a credential it did not get or refused the one given. */
export function isAuthFailure(message: string): boolean {
  return /Authentication failed|could not read (Username|Password)|terminal prompts disabled|HTTP Basic: Access denied|Invalid username or password|The requested URL returned error: 40[13]|Permission to .* denied/i.test(
    message,
  );
}

/**
 * Subcommands that neither read the work tree nor the index (no clean, smudge or process filter runs in
 * them), so the agent lists no filter drivers before them. `clone` makes a repository no worker has
 * written yet. Not `write-tree`: reading an index with racily clean entries runs the clean filter.
 */
const NO_FILTER_COMMANDS = new Set([
  'clone',
  'commit-tree',
  'config',
  'fetch',
  'for-each-ref',
  'merge-base',
  'push',
  'rev-list',
  'rev-parse',
  'symbolic-ref',
  'update-ref',
]);

/** Subcommands that run filters but leave HEAD, the work tree and the config as they were. */
const READ_ONLY_FILTER_COMMANDS = new Set(['add', 'diff', 'show', 'status', 'write-tree']);

/** The subcommand of a git argv, past any `-c name=value` before it. */
export function subcommandOf(args: readonly string[]): string {
  return args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-c') ?? args[0] ?? '';
}

/** Whether git may run a filter driver in this subcommand (anything not known not to: the safe side). */
export const runsFilterDrivers = (subcommand: string): boolean => !NO_FILTER_COMMANDS.has(subcommand);

/**
 * Whether a listing of the filter drivers may no longer hold after this subcommand: it moved HEAD or the
 * work tree, and what the config says can depend on both (`includeIf "onbranch:…"`, an included file in
 * the work tree). Anything not known to leave them is taken to have moved them.
 */
export const mayChangeFilterDrivers = (subcommand: string): boolean =>
  runsFilterDrivers(subcommand) && !READ_ONLY_FILTER_COMMANDS.has(subcommand);

/** The scopes whose config a worker can write: the repository's own files and what they include. */
const WORKSPACE_SCOPES = new Set(['local', 'worktree']);

/**
 * Filter drivers (`filter.<name>.clean/smudge/process`) that the workspace's own config defines run
 * during the agent's `add`, `checkout`, `merge` and `reset` once a `.gitattributes` names them: code of
 * the worker's, as the agent's user. From `git config --show-scope --name-only --get-regexp ^filter\.`,
 * the environment (`GIT_CONFIG_COUNT`, which outranks the repository's config and takes any name) that
 * empties each of them. Drivers of the agent's own global config (git-lfs) stay.
 */
export function filterOverridesOf(listing: string): Record<string, string> {
  const drivers = new Set<string>();
  for (const line of listing.split('\n')) {
    const [scope = '', key = ''] = line.split('\t');
    const match = /^filter\.(.+)\.[^.]+$/s.exec(key);
    if (WORKSPACE_SCOPES.has(scope) && match) drivers.add(match[1] as string);
  }
  const env: Record<string, string> = {};
  let n = 0;
  for (const driver of drivers) {
    for (const [name, value] of [
      ['clean', ''],
      ['smudge', ''],
      ['process', ''],
      ['required', 'false'],
    ]) {
      env[`GIT_CONFIG_KEY_${n}`] = `filter.${driver}.${name}`;
      env[`GIT_CONFIG_VALUE_${n}`] = value as string;
      n++;
    }
  }
  if (n > 0) env.GIT_CONFIG_COUNT = String(n);
  return env;
}
