// The stand-in `claude` for a whole local stack: the agent's fake worker, its scenario picked from the run's prompt.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './local-stack.js';

const FAKE_CLAUDE = join(REPO_ROOT, 'agent/src/testing/fake-claude.mjs');

/**
 * Writes an executable worker command into `dir` that runs the agent's fake worker (stream-json,
 * PROGRESS.md, real commits) with its folder at `dir/fake`. A test picks the scenario with
 * "scenario: <name> [ms]" in the run's prompt: the fake reads it from a file named after the run id, which
 * a test cannot know before the run exists, so the command writes that file from the prompt first.
 */
export async function writeStandinWorker(dir: string): Promise<string> {
  const fakeDir = join(dir, 'fake');
  await mkdir(fakeDir, { recursive: true });
  const path = join(dir, 'claude.mjs');
  await writeFile(
    path,
    `#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
const args = process.argv.slice(2);
const prompt = args[args.indexOf('-p') + 1] ?? '';
const scenario = /scenario: ([a-z_]+(?: [0-9]+)?)/.exec(prompt);
process.env.FAKE_CLAUDE_DIR = ${JSON.stringify(fakeDir)};
if (scenario) writeFileSync(${JSON.stringify(fakeDir)} + '/' + process.env.NIGHTSHIFT_RUN_ID + '.scenario', scenario[1]);
await import(${JSON.stringify(pathToFileURL(FAKE_CLAUDE).href)});
`,
  );
  await chmod(path, 0o755);
  return path;
}
