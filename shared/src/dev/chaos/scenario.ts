// What a chaos scenario is: a name, what it does, and a run that starts its own stack and returns its tally.
import type { Tally } from './checks.js';

export interface ScenarioContext {
  /** Multiplies every count (runs, trials, requests); 1 is the full scenario. */
  scale: number;
  /** Seeds the fuzzers, so a failing run can be replayed. */
  seed: number;
  log: (line: string) => void;
}

export interface Scenario {
  name: string;
  summary: string;
  run(ctx: ScenarioContext): Promise<Tally>;
}
