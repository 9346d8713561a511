// `nightshift login`: checks an API address and token, then keeps them as a profile (mode 0600).
import type { Command } from 'commander';
import { apiClient, unwrap } from '../api.js';
import { Ctx, type Io } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { readProfiles, saveProfile } from '../profiles.js';

/** Where `npm start` serves the API. */
export const LOCAL_URL = 'http://127.0.0.1:8080';

/** A line from stdin: typed without echo on a terminal, else read from a pipe. */
async function readToken(io: Io): Promise<string> {
  const { stdin } = io;
  if (stdin.isTTY && stdin.setRawMode) {
    io.stderr.write('token: ');
    stdin.setRawMode(true);
    try {
      let token = '';
      for await (const chunk of stdin) {
        for (const ch of chunk.toString()) {
          if (ch === '\r' || ch === '\n') return token;
          if (ch === '\u0003') throw new CliError('login cancelled', EXIT.usage);
          if (ch === '\u007f') token = token.slice(0, -1);
          else token += ch;
        }
      }
      return token;
    } finally {
      stdin.setRawMode(false);
      io.stderr.write('\n');
    }
  }
  let text = '';
  for await (const chunk of stdin) text += chunk.toString();
  return text.split('\n')[0]?.trim() ?? '';
}

export function registerLogin(program: Command, io: Io): void {
  program
    .command('login')
    .description('keep an API address and token as a profile (--profile NAME picks one of several)')
    .option('--url <url>', `the API's address (default: the profile's, else ${LOCAL_URL})`)
    .option(
      '--token <token>',
      'a bearer token of NIGHTSHIFT_API_TOKENS (default: NIGHTSHIFT_TOKEN, else read from stdin)',
    )
    .action(async (flags: { url?: string; token?: string }, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const name = ctx.profileName();
      const existing = (await readProfiles(io.env.configDir)).profiles[name];
      const url = (flags.url ?? io.env.url ?? existing?.url ?? LOCAL_URL).replace(/\/+$/, '');
      try {
        new URL(url);
      } catch {
        throw new CliError(
          `--url: expected an http(s) address such as ${LOCAL_URL}, got "${url}"`,
          EXIT.usage,
        );
      }
      const token = (flags.token ?? io.env.token ?? (await readToken(io))).trim();
      if (!token) throw new CliError('no token given: --token, NIGHTSHIFT_TOKEN or stdin', EXIT.usage);
      // Checked before it is kept: a wrong address or token fails here, not at the next command.
      await unwrap(apiClient({ url, token }, io.fetch).GET('/v1/agents'));
      const path = await saveProfile(io.env.configDir, name, { url, token });
      if (ctx.json) return ctx.printJson({ profile: name, url, path });
      ctx.print(`logged in to ${url} as profile "${name}" (${path})`);
    });
}
