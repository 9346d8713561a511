// The functions' configuration: every function, the local server too, reads NIGHTSHIFT_LOG_FORMAT and logs in
// it; the GitHub App's variables reach the functions that post on GitHub, and only its id the api.
import { ConfigError } from '@nightshift/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  apiGithubOf,
  depsOptionsOf,
  FUNCTION_ENV,
  GITHUB_APP_ENV,
  githubOf,
  notificationsOf,
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

describe('configuration: the GitHub App', () => {
  const KEY = '-----BEGIN RSA PRIVATE KEY-----\\nnot checked here\\n-----END RSA PRIVATE KEY-----';
  const app = { GITHUB_APP_ID: '123456', GITHUB_APP_PRIVATE_KEY: KEY };

  it.each(['githubWebhook', 'scheduler', 'reactor', 'local'] as const)(
    '%s reads GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY as they are, for the GitHub client',
    (name) => {
      expect(githubOf(parsers[name]({ ...ENV, ...app, GITHUB_TOKEN: 'ghp_x' }))).toEqual({
        githubToken: 'ghp_x',
        githubAppId: '123456',
        githubAppPrivateKey: KEY,
      });
      expect(githubOf(parsers[name](ENV))).toEqual({});
    },
  );

  it('the api reads GITHUB_APP_ID only, never the key', () => {
    const config = parseApiConfig({ ...ENV, ...app, GITHUB_API_URL: 'https://ghe.example.com/api/v3' });
    expect(config).not.toHaveProperty('GITHUB_APP_PRIVATE_KEY');
    expect(apiGithubOf(config)).toEqual({
      githubAppConfigured: true,
      githubApiUrl: 'https://ghe.example.com/api/v3',
    });
    expect(apiGithubOf(parseApiConfig(ENV))).toEqual({ githubAppConfigured: false });
  });

  it('a bad App value is no ConfigError (the GitHub client logs it; every request still runs)', () => {
    for (const parse of Object.values(parsers)) {
      expect(() =>
        parse({ ...ENV, GITHUB_APP_ID: 'not an id', GITHUB_APP_PRIVATE_KEY: 'garbage' }),
      ).not.toThrow();
    }
  });

  it('the App variables are optional for terraform: in no FUNCTION_ENV list', () => {
    for (const names of Object.values(FUNCTION_ENV)) {
      for (const name of GITHUB_APP_ENV) expect(names).not.toContain(name);
    }
  });
});

describe('configuration: notifications', () => {
  it.each(['api', 'scheduler', 'reactor', 'local'] as const)(
    '%s: loopback sinks only when NIGHTSHIFT_ALLOW_LOOPBACK_SINKS says so; the public URL for run links',
    (name) => {
      const parse = parsers[name];
      expect(notificationsOf(parse(ENV))).toEqual({ policy: { allowLoopback: false }, publicUrl: null });
      for (const yes of ['1', 'true']) {
        expect(
          notificationsOf(parse({ ...ENV, NIGHTSHIFT_ALLOW_LOOPBACK_SINKS: yes })).policy.allowLoopback,
        ).toBe(true);
      }
      expect(
        notificationsOf(parse({ ...ENV, NIGHTSHIFT_ALLOW_LOOPBACK_SINKS: '0' })).policy.allowLoopback,
      ).toBe(false);
      expect(() => parse({ ...ENV, NIGHTSHIFT_ALLOW_LOOPBACK_SINKS: 'yes' })).toThrow(
        /^NIGHTSHIFT_ALLOW_LOOPBACK_SINKS: /,
      );
      const url = 'https://nightshift.example.com';
      expect(notificationsOf(parse({ ...ENV, NIGHTSHIFT_PUBLIC_URL: url })).publicUrl).toBe(url);
      expect(() => parse({ ...ENV, NIGHTSHIFT_PUBLIC_URL: 'not a url' })).toThrow(/^NIGHTSHIFT_PUBLIC_URL: /);
    },
  );

  it('terraform never allows loopback sinks, and gives the public URL to the functions that notify', () => {
    for (const names of Object.values(FUNCTION_ENV))
      expect(names).not.toContain('NIGHTSHIFT_ALLOW_LOOPBACK_SINKS');
    expect(FUNCTION_ENV.reactor).toContain('NIGHTSHIFT_PUBLIC_URL');
    expect(FUNCTION_ENV.scheduler).toContain('NIGHTSHIFT_PUBLIC_URL');
    // The api sends none: it reads only the loopback policy, for the sinks it checks.
    expect(FUNCTION_ENV.api).not.toContain('NIGHTSHIFT_PUBLIC_URL');
  });
});
