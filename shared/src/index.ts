// The contracts package: everything functions/, agent/ and cli/ agree on.
export * from './agent.js';
export * from './command.js';
export * from './config.js';
export * from './firestore.js';
export * from './grpc.js';
export * from './ids.js';
export * from './names.js';
export * from './problem.js';
export * from './pubsub.js';
export * from './run.js';
export * from './status.js';
export * from './text.js';
export * from './timings.js';
export * from './validation.js';
export * from './worker.js';
