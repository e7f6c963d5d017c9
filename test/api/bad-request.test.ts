import { describe, expect, it } from 'vitest';
import { badRequest, LarderError } from '../../core/errors.ts';
import { parseOnlineRequest } from '../../api/feature-server/parse-online-request.ts';

describe('badRequest: the one helper for a request field at fault', () => {
  it('is a 400 LARDER_BAD_REQUEST naming the field, with the hint when given', () => {
    const e = badRequest('entities.user_id[3]', 'not a string', 'write "u1"');
    expect(e).toBeInstanceOf(LarderError);
    expect(e).toMatchObject({
      code: 'LARDER_BAD_REQUEST',
      message: 'not a string',
      field: 'entities.user_id[3]',
      hint: 'write "u1"',
    });
    expect(e.info.http).toBe(400);
    expect(badRequest('features', 'missing').hint).toBeUndefined();
  });

  it('is what the online request parser throws', () => {
    let err: unknown;
    try {
      parseOnlineRequest({ features: 'x', entities: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'LARDER_BAD_REQUEST', field: expect.any(String) });
  });
});
