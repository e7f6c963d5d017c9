/**
 * Every request example of the OpenAPI document works as it is against the e-commerce
 * repository: "Try it out" at /docs sends it unchanged, so none may answer a 4xx.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelSet } from '../../models/model-set.ts';
import { serveRepo, type Served } from './serve-fixture.ts';

interface Operation {
  parameters?: { in: string; name: string; example?: unknown; schema?: { example?: unknown } }[];
  requestBody?: { content: Record<string, { example?: unknown }> };
}

let s: Served;
let doc: { paths: Record<string, Record<string, Operation>> };
beforeAll(async () => {
  s = await serveRepo(resolve(import.meta.dirname, '../../examples/ecommerce/features'));
  // Served as `larder serve` serves it: with its models loaded (as test/models does).
  s.ctx.state.swap({ ...s.ctx.state.current, models: await loadModelSet(s.repo) });
  doc = (await s.app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(() => s.close());

/** Every documented operation with a request body: its URL with the example path params. */
function examples(): { route: string; url: string; body: unknown }[] {
  const out: { route: string; url: string; body: unknown }[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    const op = ops.post;
    if (!op?.requestBody) continue;
    let url = path;
    for (const p of op.parameters ?? []) {
      if (p.in !== 'path') continue;
      const v = p.example ?? p.schema?.example;
      expect(v, `${path}: example of :${p.name}`).toBeTypeOf('string');
      url = url.replace(`{${p.name}}`, encodeURIComponent(v as string));
    }
    const body = op.requestBody.content['application/json']?.example;
    out.push({ route: path, url, body });
  }
  return out;
}

describe('OpenAPI request examples', () => {
  it('every POST route documents an example body and example path names', () => {
    expect(examples().map((e) => e.route)).toEqual(
      expect.arrayContaining([
        '/get-online-features',
        '/push',
        '/v1/models/{name}/predict',
        '/v1/models/{name}/rank',
        '/v1/experiments/{name}/rank',
      ]),
    );
    for (const e of examples()) expect(e.body, e.route).toBeTypeOf('object');
  });

  it('each example, sent as it is, answers 200', async () => {
    for (const e of examples()) {
      const res = await s.app.inject({ method: 'POST', url: e.url, payload: e.body as object });
      expect(res.statusCode, `${e.route}: ${res.body}`).toBe(200);
    }
  });
});
