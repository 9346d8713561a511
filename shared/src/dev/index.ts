// Local development: the emulators, used by `npm start` and the test harness.
export * from './emulators.js';
export * from './git-fixture.js';
