// A reporter that says loudly how many tests were skipped for want of the emulators or another tool, and why.
import type { Reporter, TestModule } from 'vitest/node';
import { gcloudAvailable, MISSING_SDK_MESSAGE } from '../dev/emulators.js';
import { MISSING_TAG } from './needs.js';
import { EMULATOR_TAG } from './tag.js';

export default class EmulatorSkipReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    // Groups skipped by describeUnless carry their reason in their name (only when the tool was missing).
    const byReason = new Map<string, number>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const at = test.fullName.indexOf(MISSING_TAG);
        if (at < 0 || test.result().state !== 'skipped') continue;
        const reason = test.fullName.slice(at + MISSING_TAG.length, test.fullName.indexOf(']', at));
        byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
      }
    }
    for (const [reason, skipped] of byReason) {
      process.stdout.write(`\n!!! SKIPPED ${skipped} test${skipped === 1 ? '' : 's'}: ${reason}.\n`);
    }
    // Tests left out by a filter (-t) are skipped too: only a missing SDK is worth the loud line.
    if (gcloudAvailable()) return;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        if (test.fullName.includes(EMULATOR_TAG) && test.result().state === 'skipped') skipped++;
      }
    }
    if (skipped > 0) {
      process.stdout.write(
        `\n!!! SKIPPED ${skipped} test${skipped === 1 ? '' : 's'} that need the emulators, because ${MISSING_SDK_MESSAGE}.\n\n`,
      );
    }
  }
}
