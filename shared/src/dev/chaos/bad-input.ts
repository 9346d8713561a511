// placeholder
import { Tally } from './checks.js';
import type { Scenario } from './scenario.js';
export const badInput: Scenario = { name: 'bad-input', summary: 'todo', run: async () => new Tally() };
