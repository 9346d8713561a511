// Local development: the emulators, the Compute stand-in and git fixtures, used by `npm start` and the tests.

export * from './compute-standin.js';
export * from './emulators.js';
export * from './git-fixture.js';
export { buildCli } from './build.js';
export { type Stack, type StackOptions, startStack } from './local-stack.js';
