// The width text for people is fitted to: --wide, COLUMNS, a terminal's width, or none for a pipe.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { loadEnv } from './config.js';
import { Ctx, type Io, type Out } from './context.js';

/** The Ctx a command gets for `argv` (after the program's name), with this stdout and environment. */
function ctxFor(argv: string[], stdout: Out, env: Record<string, string> = {}): Ctx {
  const io = { stdout, stderr: stdout, env: loadEnv({ HOME: '/h', ...env }), now: () => new Date(0) } as Io;
  let ctx: Ctx | undefined;
  const program = new Command('nightshift').option('--wide').option('--json').exitOverride();
  program.command('ls').action((_options, command: Command) => {
    ctx = new Ctx(io, command);
  });
  program.parse(['ls', ...argv], { from: 'user' });
  if (!ctx) throw new Error('the command did not run');
  return ctx;
}

const terminal = (columns: number): Out => ({ write: () => true, isTTY: true, columns });
const pipe: Out = { write: () => true };

describe('the width', () => {
  it("is a terminal's width, and none for a pipe or a terminal of unknown width", () => {
    expect(ctxFor([], terminal(50)).width).toBe(50);
    expect(ctxFor([], terminal(50)).view().width).toBe(50);
    expect(ctxFor([], pipe).width).toBeUndefined();
    expect(ctxFor([], pipe).view()).not.toHaveProperty('width');
    // `script` and some terminals report 0 columns: unknown, so full width.
    expect(ctxFor([], terminal(0)).width).toBeUndefined();
    expect(ctxFor([], { ...pipe, columns: 50 }).width).toBeUndefined();
  });

  it('is COLUMNS when that is a number, on a terminal or not; anything else in COLUMNS is ignored', () => {
    expect(ctxFor([], pipe, { COLUMNS: '42' }).width).toBe(42);
    expect(ctxFor([], terminal(120), { COLUMNS: '42' }).width).toBe(42);
    expect(ctxFor([], pipe, { COLUMNS: 'wide' }).width).toBeUndefined();
    expect(ctxFor([], pipe, { COLUMNS: '0' }).width).toBeUndefined();
    expect(ctxFor([], pipe, { COLUMNS: '' }).width).toBeUndefined();
    expect(ctxFor([], terminal(60), { COLUMNS: '-5' }).width).toBe(60);
    expect(loadEnv({ HOME: '/h', COLUMNS: ' 80 ' }).columns).toBe(80);
  });

  it('is none under --wide, whatever the terminal or COLUMNS say', () => {
    expect(ctxFor(['--wide'], terminal(40)).width).toBeUndefined();
    expect(ctxFor(['--wide'], pipe, { COLUMNS: '40' }).width).toBeUndefined();
  });
});
