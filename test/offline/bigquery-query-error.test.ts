/**
 * Which BigQuery errors are a batch view query's own (its definition error, naming the snapshot)
 * and which are the service's, on the client library's real `ApiError`, built the two ways
 * `@google-cloud/bigquery` builds it: from a failed job's `status` (`Job.poll_`) and from a
 * refused request's error body (`jobs.getQueryResults`, `jobs.insert`). The emulator test
 * (test/offline/bigquery-emulator.services.test.ts, batch view conformance) runs the whole path.
 * `ApiError` comes through `@google-cloud/bigquery`'s own re-export of `@google-cloud/common`
 * (the class its `Job` and `BigQuery` throw), not from `@google-cloud/common`, which the project
 * does not declare.
 */
import { common } from '@google-cloud/bigquery';
import { describe, expect, it } from 'vitest';
import { bqQueryError } from '../../offline/bigquery/batch-snapshots.ts';

const { util } = common;

const jobStatus = (errors: { reason: string; message: string }[]) =>
  new util.ApiError({
    state: 'DONE',
    errorResult: { ...errors[0]!, location: 'query' },
    errors: errors.map((e) => ({ ...e, location: 'query' })),
  } as never);

const refused = (code: number, errors: { reason: string; message: string }[]) =>
  new util.ApiError({
    code,
    message: errors[0]!.message,
    errors: errors.map((e) => ({ ...e, domain: 'global' })),
  } as never);

describe('bqQueryError', () => {
  it("a query's own error: its first message line", () => {
    expect(
      bqQueryError(jobStatus([{ reason: 'invalidQuery', message: 'Bad int64 value: u1' }])),
    ).toBe('Bad int64 value: u1');
    expect(
      bqQueryError(refused(400, [{ reason: 'invalidQuery', message: 'division by zero: 1 / 0' }])),
    ).toBe('division by zero: 1 / 0');
    // Several errors: the library's message starts with "Multiple errors occurred"; the first
    // error is named instead.
    const two = jobStatus([
      { reason: 'invalidQuery', message: 'Bad int64 value: u1\nat [1:8]' },
      { reason: 'invalidQuery', message: 'Bad int64 value: u2' },
    ]);
    expect(two.message).toMatch(/^Multiple errors occurred/);
    expect(bqQueryError(two)).toBe('Bad int64 value: u1');
  });

  it("the service's errors and anything else: null (raised as they are)", () => {
    for (const reason of [
      'rateLimitExceeded',
      'quotaExceeded',
      'backendError',
      'internalError',
      'resourcesExceeded',
      'accessDenied',
      'notFound',
    ])
      expect(bqQueryError(jobStatus([{ reason, message: 'x' }]))).toBeNull();
    // A job with the query's error beside the service's is not the view's alone.
    expect(
      bqQueryError(
        jobStatus([
          { reason: 'invalidQuery', message: 'Bad int64 value: u1' },
          { reason: 'backendError', message: 'try again' },
        ]),
      ),
    ).toBeNull();
    for (const e of [new Error('socket hang up'), new util.ApiError('text only'), null, 'x'])
      expect(bqQueryError(e)).toBeNull();
  });
});
