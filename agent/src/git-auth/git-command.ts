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
