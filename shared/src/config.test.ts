import { describe, expect, it } from 'vitest';
import { ConfigError, ENV, parseEnv } from './config.js';

const shape = {
  GOOGLE_CLOUD_PROJECT: ENV.GOOGLE_CLOUD_PROJECT,
  NIGHTSHIFT_API_TOKENS: ENV.NIGHTSHIFT_API_TOKENS,
  NIGHTSHIFT_MAX_WORKERS: ENV.NIGHTSHIFT_MAX_WORKERS,
  NIGHTSHIFT_WORKER_COMMAND: ENV.NIGHTSHIFT_WORKER_COMMAND,
  PUBSUB_EMULATOR_HOST: ENV.PUBSUB_EMULATOR_HOST,
  GITHUB_WEBHOOK_SECRET: ENV.GITHUB_WEBHOOK_SECRET,
};
const good = {
  GOOGLE_CLOUD_PROJECT: 'my-project',
  NIGHTSHIFT_API_TOKENS: 'aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb',
  GITHUB_WEBHOOK_SECRET: 'ssssssssssssssss',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    parseEnv(shape, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseEnv', () => {
  it('parses values and fills defaults', () => {
    expect(
      parseEnv(shape, { ...good, NIGHTSHIFT_MAX_WORKERS: '3', PUBSUB_EMULATOR_HOST: '127.0.0.1:8085' }),
    ).toEqual({
      GOOGLE_CLOUD_PROJECT: 'my-project',
      NIGHTSHIFT_API_TOKENS: ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb'],
      NIGHTSHIFT_MAX_WORKERS: 3,
      NIGHTSHIFT_WORKER_COMMAND: 'claude',
      PUBSUB_EMULATOR_HOST: '127.0.0.1:8085',
      GITHUB_WEBHOOK_SECRET: 'ssssssssssssssss',
    });
  });

  it('reads NIGHTSHIFT_LOG_FORMAT: json by default, pretty when asked, and names anything else', () => {
    const format = { NIGHTSHIFT_LOG_FORMAT: ENV.NIGHTSHIFT_LOG_FORMAT };
    expect(parseEnv(format, {})).toEqual({ NIGHTSHIFT_LOG_FORMAT: 'json' });
    expect(parseEnv(format, { NIGHTSHIFT_LOG_FORMAT: 'pretty' })).toEqual({
      NIGHTSHIFT_LOG_FORMAT: 'pretty',
    });
    expect(() => parseEnv(format, { NIGHTSHIFT_LOG_FORMAT: 'text' })).toThrow(
      'NIGHTSHIFT_LOG_FORMAT: expected json (Cloud Logging, the default) or pretty (a console); got "text"',
    );
  });

  it('names a missing variable and says it must be set', () => {
    expect(problems({ ...good, GOOGLE_CLOUD_PROJECT: undefined })).toEqual([
      'GOOGLE_CLOUD_PROJECT: expected it to be set; it is not set',
    ]);
  });

  it('treats an empty value as unset', () => {
    expect(problems({ ...good, GOOGLE_CLOUD_PROJECT: '' })).toEqual([
      'GOOGLE_CLOUD_PROJECT: expected it to be set; it is not set',
    ]);
  });

  it('names a bad number and shows what it got', () => {
    expect(problems({ ...good, NIGHTSHIFT_MAX_WORKERS: 'lots' })).toEqual([
      'NIGHTSHIFT_MAX_WORKERS: expected a whole number from 1 to 64; got "lots"',
    ]);
    expect(problems({ ...good, NIGHTSHIFT_MAX_WORKERS: '0' })[0]).toMatch(
      /^NIGHTSHIFT_MAX_WORKERS: .*got "0"$/,
    );
  });

  it('reports every bad variable, one line each, and never echoes secrets', () => {
    const lines = problems({
      GOOGLE_CLOUD_PROJECT: 'X',
      NIGHTSHIFT_API_TOKENS: 'short',
      PUBSUB_EMULATOR_HOST: 'nope',
      GITHUB_WEBHOOK_SECRET: 'tiny',
    });
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^GOOGLE_CLOUD_PROJECT: expected a Google Cloud project id/);
    expect(lines[1]).toBe(
      'NIGHTSHIFT_API_TOKENS: expected each token to be at least 16 characters; got a value that does not fit',
    );
    expect(lines[2]).toBe('PUBSUB_EMULATOR_HOST: expected host:port; got "nope"');
    expect(lines.join('\n')).not.toContain('short');
    expect(lines.join('\n')).not.toContain('tiny');
  });
});
