// The agent daemon's entry point: configuration, clients, signals. Run with tsx (npm start, systemd).
import { ConfigError, createFirestore, loadPubSub } from '@nightshift/shared';
import { Agent } from './agent.js';
import { loadConfig } from './config.js';
import { createGitAuth } from './git-auth/credentials.js';
import { createSecretReader } from './git-auth/secrets.js';
import { createLogger } from './log.js';
import { compileAgentOptions } from './options.js';
import { idleStopMsOf } from './timings.js';
import { createTmux } from './tmux.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`nightshift agent: ${problem}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ agent: config.agentId }, undefined, 'info', config.logFormat);
  const db = createFirestore(config.projectId);
  const pubsub = await loadPubSub(config.projectId);
  const clock = { now: () => new Date() };
  const secrets = createSecretReader({
    metadataHost: config.metadataHost,
    apiUrl: config.secretManagerUrl,
    clock,
  });
  const agent = new Agent(
    compileAgentOptions({
      agentId: config.agentId,
      home: config.home,
      workerCommand: config.workerCommand,
      capacity: config.maxWorkers,
      timings: { idleStopMs: idleStopMsOf(config.idleMinutes) },
      projectId: config.projectId,
      vm: config.vm,
      metadataHost: config.metadataHost,
      vmFromMetadata: !config.onEmulators,
      computeApiUrl: config.computeApiUrl,
      db,
      pubsub,
      tmux: createTmux(config.tmuxSocket),
      logger,
      gitAuth: createGitAuth(config.git, { secrets, clock }),
    }),
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping: no more pulling; workers keep running in tmux', { signal });
    await agent.stop().catch(() => {});
    await pubsub.close().catch(() => {});
    await db.terminate().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await agent.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`nightshift agent: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
