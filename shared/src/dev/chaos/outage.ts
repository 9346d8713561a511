// placeholder
import { Tally } from './checks.js';
import type { Scenario } from './scenario.js';
export const outage: Scenario = { name: 'outage', summary: 'todo', run: async () => new Tally() };
