// placeholder
import { Tally } from './checks.js';
import type { Scenario } from './scenario.js';
export const duplicates: Scenario = { name: 'duplicates', summary: 'todo', run: async () => new Tally() };
