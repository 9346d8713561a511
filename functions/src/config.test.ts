// The functions' configuration: every function, the local server too, reads NIGHTSHIFT_LOG_FORMAT and logs in it.
import { ConfigError } from '@nightshift/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  depsOptionsOf,
  parseApiConfig,
  parseLocalConfig,
  parseReactorConfig,
  parseSchedulerConfig,
  parseWebhookConfig,
} from './config.js';
import { createDeps } from './core/deps.js';

const ENV = {
  GOOGLE_CLOUD_PROJECT: 'nightshift-test',
  NIGHTSHIFT_API_TOKENS: 'test-token-0123456789abcdef',
  GITHUB_WEBHOOK_SECRET: 'test-webhook-secret-0123',
};

const parsers = {
  api: parseApiConfig,
  githubWebhook: parseWebhookConfig,
  scheduler: parseSchedulerConfig,
  reactor: parseReactorConfig,
  local: parseLocalConfig,
};

describe('configuration: NIGHTSHIFT_LOG_FORMAT', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(Object.keys(parsers))(
    '%s reads it: json by default, pretty when set, a bad value named',
    (name) => {
      const parse = parsers[name as keyof typeof parsers];
      expect(parse(ENV).NIGHTSHIFT_LOG_FORMAT).toBe('json');
      expect(parse({ ...ENV, NIGHTSHIFT_LOG_FORMAT: 'pretty' }).NIGHTSHIFT_LOG_FORMAT).toBe('pretty');
      expect(() => parse({ ...ENV, NIGHTSHIFT_LOG_FORMAT: 'colour' })).toThrow(ConfigError);
      expect(() => parse({ ...ENV, NIGHTSHIFT_LOG_FORMAT: 'colour' })).toThrow(/^NIGHTSHIFT_LOG_FORMAT: /);
    },
  );

  it.each([
    ['pretty', /^\d\d:\d\d:\d\d\.\d{3} INFO {4}hello {2}runId=r-1$/],
    ['json', /^\{"severity":"INFO","message":"hello",.*"runId":"r-1"\}$/],
  ])('the logger createDeps makes from a config writes %s lines', (format, line) => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const deps = createDeps(depsOptionsOf(parseApiConfig({ ...ENV, NIGHTSHIFT_LOG_FORMAT: format })));
    deps.log.info('hello', { runId: 'r-1' });
    vi.restoreAllMocks();
    expect(written).toHaveLength(1);
    expect(written[0]?.trimEnd()).toMatch(line);
  });

  it('gives createDeps the project and the VMs too', () => {
    const config = parseSchedulerConfig({ ...ENV, NIGHTSHIFT_VMS: 'us-central1-a/vm-1' });
    expect(depsOptionsOf(config)).toEqual({
      projectId: 'nightshift-test',
      fleet: { vms: [{ zone: 'us-central1-a', name: 'vm-1' }], workersPerVm: 2 },
      logFormat: 'json',
    });
  });
});
