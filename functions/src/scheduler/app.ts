// The scheduler function: Cloud Scheduler ticks queue due cron slots, and post owed GitHub run summaries.
//
// Auth: in the cloud only Cloud Scheduler's service account may call this function. That is enforced by
// Cloud Run IAM, not here: the function is deployed without allUsers, the scheduler job sends an OIDC
// token of its service account, and that account alone has roles/run.invoker on it (terraform). Locally
// (`npm start`) POST /scheduler/tick is open, on 127.0.0.1 only.
import { Hono } from 'hono';
import { functionApp } from '../core/app.js';
import type { Deps } from '../core/deps.js';
import type { AppEnv } from '../core/request-context.js';
import { createGithub, type GithubConfig } from '../github/client.js';
import { processRunSummaries, type SummaryOutcome } from '../github/feedback.js';
import type { NotifyOptions } from '../notifications/send.js';
import { runTick } from './tick.js';

/** With a GitHub App or token, each tick also posts the summaries of finished GitHub-triggered runs. */
export interface SchedulerAppConfig extends GithubConfig {
  /** The Google Cloud project, for trace links in the logs. */
  projectId?: string;
  /** How the daily digest is sent; default: https to public addresses only, no dashboard links. */
  notifications?: NotifyOptions;
}

export function createSchedulerApp(deps: Deps, config: SchedulerAppConfig = {}): Hono<AppEnv> {
  const app = functionApp(new Hono<AppEnv>(), {
    log: deps.log,
    ...(config.projectId ? { projectId: config.projectId } : {}),
  });
  const github = createGithub(config, deps.log);

  app.post('/', async (c) => {
    const result = await runTick(deps, {
      notifications: config.notifications ?? { policy: { allowLoopback: false }, publicUrl: null },
    });
    let summaries: SummaryOutcome | { skipped: string } | { error: string } = {
      skipped: 'no GitHub App or GITHUB_TOKEN configured',
    };
    if (github) {
      try {
        summaries = await processRunSummaries(deps, github);
      } catch (error) {
        const message = (error as Error).message;
        deps.log.error('scheduler: could not post GitHub run summaries', { error: message });
        summaries = { error: message };
      }
    }
    deps.log.info('scheduler tick', {
      queued: result.queued.length,
      skipped: result.skipped.length,
      failed: result.failed.length,
    });
    return c.json({ ...result, summaries }, 200);
  });

  return app;
}
