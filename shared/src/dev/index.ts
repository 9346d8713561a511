// Local development: the emulators, the Compute stand-in and git fixtures, used by `npm start` and the tests.

export * from './compute-standin.js';
export * from './emulators.js';
export * from './git-fixture.js';
export * from './git-http-server.js';
export * from './github-standin.js';
