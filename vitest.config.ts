// One test run over every package, on one pair of real emulators.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{shared,functions,agent,cli}/src/**/*.test.ts'],
    globalSetup: ['shared/src/testing/global-setup.ts'],
    setupFiles: ['shared/src/testing/setup.ts'],
    reporters: ['default', './shared/src/testing/skip-reporter.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
