/**
 * The LARDER_BAD_REQUEST reason and field of the first zod issue of a request body: a missing
 * field, a value of the wrong JSON type, an unknown key, or else a refused value.
 */
import type { ZodIssue } from 'zod';
import type { BadRequestReason } from '../../core/errors.ts';

/**
 * @example
 * zodIssueReason({ code: 'invalid_type', expected: 'string', received: 'undefined', path: ['a'], message: 'Required' });
 * // 'missing_field'
 */
export function zodIssueReason(issue: ZodIssue): BadRequestReason {
  switch (issue.code) {
    case 'invalid_type':
      return issue.received === 'undefined' ? 'missing_field' : 'wrong_type';
    case 'unrecognized_keys':
      return 'unknown_field';
    default:
      return 'invalid_value';
  }
}

/**
 * The body field an issue names: its path (`entities.user_id`), for an unknown key the key
 * itself under it (`bogus`, `entities.bogus`), `(body)` for the body as a whole.
 *
 * @example
 * zodIssueField({ code: 'unrecognized_keys', keys: ['bogus'], path: [], message: '' });
 * // 'bogus'
 */
export function zodIssueField(issue: ZodIssue): string {
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  return path.join('.') || '(body)';
}
