// `npm run dev:webhook -- …`: act on `npm start`'s GitHub stand-in as its people and send the signed delivery GitHub would send.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { callGitHub, commentAndDeliver, type GitHubCaller, openLabeledIssue } from './github-deliveries.js';
import { REPO_ROOT, standinInfoPath } from './local-stack.js';

const USAGE = `usage:
  npm run dev:webhook -- issue "<title>" [--body <text>] [--label nightshift]   open a labelled issue
  npm run dev:webhook -- comment <number> "<text>" [--as stranger]             comment on an issue or pull request
  npm run dev:webhook -- show <number>                                         its comments (and head, for a pull request)
Each acts on the stand-in as its owner (octocat, OWNER) or --as stranger (NONE), then posts the signed
delivery to the local webhook. Needs a running \`npm start\` (it reads <NIGHTSHIFT_HOME>/github/standin.json).`;

interface Info {
  webhookUrl: string;
  secret: string;
  apiUrl: string;
  repo: string;
  installationId: number;
  owner: { login: string; token: string };
  stranger: { login: string; token: string };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      body: { type: 'string' },
      label: { type: 'string', default: 'nightshift' },
      as: { type: 'string', default: 'owner' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, first, second] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const home = process.env.NIGHTSHIFT_HOME || join(REPO_ROOT, '.nightshift');
  const info = JSON.parse(
    await readFile(standinInfoPath(home), 'utf8').catch(() => {
      throw new Error(`no ${standinInfoPath(home)}: start the local stack first (npm start)`);
    }),
  ) as Info;
  if (values.as !== 'owner' && values.as !== 'stranger')
    throw new Error(`--as must be owner or stranger, got "${values.as}"`);
  const person = values.as === 'stranger' ? info.stranger : info.owner;
  const caller: GitHubCaller = { apiUrl: info.apiUrl, token: person.token };
  const target = { webhookUrl: info.webhookUrl, secret: info.secret, installationId: info.installationId };
  const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  const numberOf = (text: string | undefined) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`expected an issue or pull request number, got "${text}"`);
    return n;
  };
  if (command === 'issue') {
    if (!first) throw new Error(`issue needs a title\n${USAGE}`);
    const { issue, delivery } = await openLabeledIssue(caller, target, info.repo, {
      title: first,
      ...(values.body ? { body: values.body } : {}),
      label: values.label as string,
    });
    print({ issue: issue.html_url, number: issue.number, webhook: delivery });
  } else if (command === 'comment') {
    if (!second) throw new Error(`comment needs a number and a text\n${USAGE}`);
    const { comment, delivery } = await commentAndDeliver(caller, target, info.repo, numberOf(first), second);
    print({ comment: comment.html_url, as: person.login, webhook: delivery });
  } else if (command === 'show') {
    const n = numberOf(first);
    const issue = await callGitHub(caller, 'GET', `/repos/${info.repo}/issues/${n}`);
    const pull = issue.pull_request
      ? await callGitHub(caller, 'GET', `/repos/${info.repo}/pulls/${n}`)
      : null;
    const comments = await callGitHub(caller, 'GET', `/repos/${info.repo}/issues/${n}/comments?per_page=100`);
    print({
      title: issue.title,
      ...(pull ? { head: `${pull.head.ref} @ ${pull.head.sha}`, base: pull.base.ref } : {}),
      comments: (comments as unknown as Array<{ user: { login: string }; body: string }>).map(
        (c) => `${c.user.login}: ${c.body}`,
      ),
    });
  } else throw new Error(`unknown command "${command}"\n${USAGE}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`dev:webhook: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
