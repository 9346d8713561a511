// Local development: the emulators, the Compute and GitHub stand-ins (with signed webhook deliveries), git fixtures, the local stack and the CLI build, used by `npm start` and the tests.

export { buildCli } from './build.js';
export * from './compute-standin.js';
export * from './emulators.js';
export * from './git-fixture.js';
export * from './git-http-server.js';
export * from './github-deliveries.js';
export * from './github-standin.js';
export { type LocalGitHub, startLocalGitHub } from './local-github.js';
export { type Stack, type StackOptions, startStack } from './local-stack.js';
export { writeStandinWorker } from './standin-worker.js';
