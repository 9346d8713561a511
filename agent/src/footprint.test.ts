// The idle agent's footprint: its modules and its queue scan leave ICU alone (Intl's first use maps some 6 MB of ICU's data into RSS).

import { testRun } from '@nightshift/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';

const realIntl = globalThis.Intl;
const realLocaleCompare = String.prototype.localeCompare;

/** Records every use of Intl and of localeCompare (ICU's collation) until restored. */
function watchIcu(): string[] {
  const used: string[] = [];
  globalThis.Intl = new Proxy(realIntl, {
    get(target, key) {
      used.push(`Intl.${String(key)}`);
      return Reflect.get(target, key);
    },
  });
  String.prototype.localeCompare = function (this: string, ...args: Parameters<string['localeCompare']>) {
    used.push('String.prototype.localeCompare');
    return realLocaleCompare.apply(this, args);
  };
  return used;
}

afterEach(() => {
  globalThis.Intl = realIntl;
  String.prototype.localeCompare = realLocaleCompare;
});

describe('the idle footprint', () => {
  it("imports the agent's modules without touching Intl", async () => {
    const used = watchIcu();
    // main.ts starts the daemon on import; these are all it imports, and through them every module.
    await Promise.all([
      import('./agent.js'),
      import('./config.js'),
      import('./git-auth/credentials.js'),
      import('./git-auth/secrets.js'),
      import('./log.js'),
      import('./options.js'),
      import('./timings.js'),
      import('./tmux.js'),
    ]);
    expect(used).toEqual([]);
  });

  it("orders the queue scan's runs by time without ICU's collation", async () => {
    const { queueCandidates } = await import('./claim.js');
    const used = watchIcu();
    const runs = [
      testRun({ id: 'r2', workerId: 'a', createdAt: '2026-01-01T00:00:02.000Z' }),
      testRun({ id: 'r1', workerId: 'b', createdAt: '2026-01-01T00:00:01.000Z' }),
    ];
    expect(queueCandidates(runs, { heldWorkers: new Set() }).map((r) => r.id)).toEqual(['r1', 'r2']);
    expect(used).toEqual([]);
  });
});
