import { describe, expect, it } from 'vitest';
import { bqString } from '../../offline/bigquery/sql/bq-sql.ts';

describe('BigQuery string literals', () => {
  it('escape quotes, backslashes and every control character, so the query text holds none', () => {
    // Found by the BigQuery fuzz test: `paymentMethod IN ('', '\0')` with a raw NUL in the
    // query text failed to parse.
    expect(bqString("it's a\\b")).toBe("'it\\'s a\\\\b'");
    expect(bqString('a\nb\rc')).toBe("'a\\nb\\rc'");
    expect(bqString('\u0000')).toBe("'\\u0000'");
    expect(bqString('a\tb\u001fc\u007f')).toBe("'a\\u0009b\\u001fc\\u007f'");
    expect(bqString('é日本🛒')).toBe("'é日本🛒'");
    // eslint-disable-next-line no-control-regex
    expect(/[\u0000-\u001f\u007f]/.test(bqString('\u0000\u0001\t\n\r\u007f'))).toBe(false);
  });
});
