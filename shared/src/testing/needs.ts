// Test groups that need a tool this machine may lack (terraform, systemd-analyze, the provider schema): skipped loudly.
import { describe } from 'vitest';

/** Marks the name of a group skipped for a missing tool; the skip reporter counts these and prints the reason. */
export const MISSING_TAG = '[skipped: ';

/**
 * A describe block that runs when `missing` is null. Otherwise its tests are skipped and their names carry
 * the reason, so the skip reporter prints one loud line per reason at the end of the run.
 */
export function describeUnless(missing: string | null, name: string, fn: () => void): void {
  if (missing === null) describe(name, fn);
  // The reporter reads the reason up to the closing bracket: none may appear inside it.
  else describe.skip(`${name} ${MISSING_TAG}${missing.replaceAll(']', ')')}]`, fn);
}
