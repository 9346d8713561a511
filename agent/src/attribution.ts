// Commit attribution (worker setting `attribution`): the settings that keep Claude Code's trailers out, and the commit-msg hook that strips any it still writes.
import { chmod, mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { RunAutopilot } from '@nightshift/shared';
import { git } from './workspace.js';

/** Claude Code's own setting: empty commit and pull-request attribution (reported not honoured on every path). */
export const NO_ATTRIBUTION_SETTINGS = '{"attribution":{"commit":"","pr":""}}';

/** The first line of nightshift's hook: how a later launch tells its own hook from the project's. */
const HOOK_MARK = '# nightshift: attribution none';
/** Where a commit-msg hook the project already had is kept; nightshift's hook runs it after stripping. */
const CHAINED = 'commit-msg.nightshift-chained';

/**
 * The hook: drops `Co-Authored-By: Claude…`, `…Generated with [Claude Code]…` and `Claude-Session:` lines
 * (case-insensitive) and the blank lines they leave at the end, then runs the project's own commit-msg hook.
 * Plain POSIX sh and awk, since it runs as the worker's user with whatever the VM has.
 */
export const COMMIT_MSG_HOOK = `#!/bin/sh
${HOOK_MARK} (written by the nightshift agent; the worker's commits carry no Claude trailers)
msg="$1"
tmp="$msg.nightshift.$$"
awk '{ l = tolower($0) }
  l ~ /^[[:space:]]*co-authored-by:[[:space:]]*claude/ { next }
  l ~ /generated with \\[claude code\\]/ { next }
  l ~ /^[[:space:]]*claude-session:/ { next }
  { lines[n++] = $0 }
  END { while (n > 0 && lines[n - 1] ~ /^[[:space:]]*$/) n--; for (i = 0; i < n; i++) print lines[i] }' "$msg" > "$tmp" && mv "$tmp" "$msg" || { rm -f "$tmp"; exit 1; }
chained="$(dirname "$0")/${CHAINED}"
if [ -x "$chained" ]; then exec "$chained" "$@"; fi
exit 0
`;

/**
 * Where the worker's git looks for hooks: `core.hooksPath` of the config files if set (relative to the work
 * tree), else the common git directory's `hooks`. The agent's own `-c core.hooksPath=/dev/null` is the
 * `command` scope, left out here: the worker's git does not have it.
 */
async function hooksDirOf(dir: string): Promise<string> {
  const listing = await git(dir, ['config', '--show-scope', '--get-all', 'core.hooksPath']).catch(() => '');
  const configured =
    listing
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('command\t'))
      .map((line) => line.slice(line.indexOf('\t') + 1))
      .at(-1) ?? '';
  if (configured !== '') return isAbsolute(configured) ? configured : join(dir, configured);
  const common = await git(dir, ['rev-parse', '--path-format=absolute', '--git-common-dir']);
  return join(common, 'hooks');
}

const isOurs = async (path: string): Promise<boolean> =>
  (await readFile(path, 'utf8').catch(() => '')).includes(HOOK_MARK);
const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Makes the workspace's commit-msg hook match the run's setting: with `none` nightshift's hook is there (a
 * project hook already there is kept and chained), with `claude` it is gone (the project's put back). The
 * agent's own git commands never run it (core.hooksPath=/dev/null on their command line). Returns a note
 * for the run, or null. A workspace that is no git repository gets nothing.
 */
export async function applyAttribution(
  dir: string,
  attribution: RunAutopilot['attribution'],
): Promise<string | null> {
  let hooks: string;
  try {
    hooks = await hooksDirOf(dir);
  } catch {
    return null;
  }
  // The workspace's config is the worker's to write: the agent writes no file outside the workspace.
  const [real, root] = await Promise.all([realpath(hooks).catch(() => resolve(hooks)), realpath(dir)]);
  if (real !== root && !real.startsWith(root + sep))
    return `attribution ${attribution}: core.hooksPath points outside the workspace (${hooks}); no commit-msg hook was installed, only Claude Code's attribution setting applies`;
  const hook = join(real, 'commit-msg');
  const chained = join(real, CHAINED);
  if (attribution === 'claude') {
    if (!(await isOurs(hook))) return null;
    await rm(hook, { force: true });
    if (await exists(chained)) await rename(chained, hook);
    return "attribution claude: nightshift's commit-msg hook was removed from the workspace";
  }
  if (await isOurs(hook)) return null;
  await mkdir(real, { recursive: true });
  const kept = await exists(hook);
  if (kept) await rename(hook, chained);
  await writeFile(hook, COMMIT_MSG_HOOK);
  await chmod(hook, 0o755);
  // Said only when it changes something the project had: the plain install is every run's default.
  return kept
    ? `attribution none: nightshift's commit-msg hook in ${hooks} strips Claude's trailers first, then runs the project's commit-msg hook`
    : null;
}
