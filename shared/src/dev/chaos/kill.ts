// placeholder
import { Tally } from './checks.js';
import type { Scenario } from './scenario.js';
export const kill: Scenario = { name: 'kill', summary: 'todo', run: async () => new Tally() };
