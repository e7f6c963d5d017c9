import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.ts';

const config = (env: NodeJS.ProcessEnv, file: unknown = {}) => resolveConfig(file, '/proj', env);

describe('scheduler config', () => {
  it('webhookUrl from larder.config.ts or LARDER_SCHEDULER_WEBHOOK_URL (env wins), retries 3', () => {
    expect(config({}).scheduler).toEqual({ webhookUrl: null, webhookRetries: 3 });
    const file = { scheduler: { webhookUrl: 'https://hooks.example/a', webhookRetries: 1 } };
    expect(config({}, file).scheduler).toEqual({
      webhookUrl: 'https://hooks.example/a',
      webhookRetries: 1,
    });
    expect(
      config({ LARDER_SCHEDULER_WEBHOOK_URL: 'https://hooks.example/b' }, file).scheduler,
    ).toEqual({ webhookUrl: 'https://hooks.example/b', webhookRetries: 1 });
  });

  it('refuses a webhook that is not a URL, and unknown keys', () => {
    expect(() => config({ LARDER_SCHEDULER_WEBHOOK_URL: 'not a url' })).toThrow(
      /scheduler\.webhookUrl: Invalid url/,
    );
    expect(() => config({}, { scheduler: { hook: 'x' } })).toThrow(/scheduler: Unrecognized key/);
  });
});
