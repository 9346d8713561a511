// functionApp on the trigger apps too: a request id in and out, one Cloud Logging line per request with
// its trace, 404/405 problems. No request reaches Firestore or Pub/Sub.
import { PROBLEM_CONTENT_TYPE } from '@nightshift/shared';
import { describe, expect, it } from 'vitest';
import { createGithubApp } from '../github/app.js';
import { SECRET } from '../github/testing.js';
import { createSchedulerApp } from '../scheduler/app.js';
import { createDeps } from './deps.js';
import { memoryLogger } from './log.js';

const PROJECT = 'unit-test-project';

function setup() {
  const log = memoryLogger();
  const deps = createDeps({ projectId: PROJECT, log });
  return {
    log,
    webhook: createGithubApp(deps, { webhookSecret: SECRET, projectId: PROJECT }),
    scheduler: createSchedulerApp(deps, { projectId: PROJECT }),
  };
}

describe('Answers: every function’s requests', () => {
  it('carry an X-Request-Id in and out, and each is logged once with its id and trace', async () => {
    const { webhook, log } = setup();
    const res = await webhook.request('/', {
      method: 'POST',
      headers: {
        'x-request-id': 'hook-1',
        'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/1;o=1',
        'x-github-event': 'issues',
      },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(res.headers.get('x-request-id')).toBe('hook-1');
    // The warning the handler wrote and the request's line both carry the id and the trace.
    const trace = `projects/${PROJECT}/traces/105445aa7843bc8bf206b12000100000`;
    expect(log.entries).toMatchObject([
      { severity: 'WARNING', message: expect.stringContaining('signature'), requestId: 'hook-1' },
      {
        severity: 'WARNING',
        message: 'POST / 401',
        requestId: 'hook-1',
        'logging.googleapis.com/trace': trace,
        httpRequest: { requestMethod: 'POST', status: 401 },
      },
    ]);
    expect(log.entries[0]).toHaveProperty(['logging.googleapis.com/trace'], trace);
  });

  it('answer another method with 405 and Allow, and an unknown path with 404, as problems', async () => {
    const { webhook, scheduler } = setup();
    for (const app of [webhook, scheduler]) {
      const wrong = await app.request('/', { method: 'GET' });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('POST');
      expect(wrong.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
      const unknown = await app.request('/nope', { method: 'POST' });
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
      expect(unknown.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
