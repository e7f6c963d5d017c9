/**
 * The operators' dashboard: `GET /ui` (a static page, vanilla JS, no CDN) and the JSON it polls
 * every 2 s under `/ui/api/*` (scope `read`). See `docs/dashboard.md`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { LarderError } from '../../core/errors.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import type { ServerContext } from '../server-context.ts';
import { alertsJson } from '../ui/alerts-json.ts';
import { registrySummary } from '../ui/registry-summary.ts';
import { skewReportsJson } from '../ui/skew-reports.ts';
import { entityExamplesJson, freshnessJson, pipelineJson, servingJson } from '../ui/ui-api.ts';

const STATIC = new URL('../ui/static/', import.meta.url);
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
/** The page may load nothing but its own files and call nothing but this server. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Static files by name, read once at start (the page is a handful of small files). */
function loadStatic(): Map<string, { type: string; body: Buffer }> {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(STATIC)) {
    const type = TYPES[name.slice(name.lastIndexOf('.') + 1)];
    if (type) files.set(name, { type, body: readFileSync(new URL(name, STATIC)) });
  }
  return files;
}

export function uiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const files = loadStatic();
  const send = (reply: FastifyReply, name: string) => {
    const f = files.get(name);
    if (!f)
      throw new LarderError('LARDER_NOT_FOUND', `no dashboard file "${name}"`, {
        hint: 'open /ui',
      });
    return reply
      .type(f.type)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .send(f.body);
  };
  const hide = { schema: { hide: true } };
  app.get('/ui', hide, (_req, reply) => send(reply, 'index.html'));
  app.get('/ui/', hide, (_req, reply) => send(reply, 'index.html'));
  app.get<{ Params: { file: string } }>('/ui/static/:file', hide, (req, reply) =>
    send(reply, req.params.file),
  );

  const api = { config: { scope: 'read' as const }, schema: { hide: true } };
  app.get('/ui/api/registry', api, async () => {
    const file = readRegistry(ctx.home);
    const snap = ctx.state.current;
    return {
      version: file?.version ?? snap.version,
      appliedAt: file?.appliedAt ?? null,
      loadedAt: snap.loadedAt,
      ...registrySummary(snap.repo, file?.watermarks ?? {}),
    };
  });
  app.get('/ui/api/freshness', api, async () => freshnessJson(ctx));
  app.get('/ui/api/serving', api, async () => servingJson(ctx));
  app.get('/ui/api/skew', api, async () => skewReportsJson(ctx.home));
  app.get('/ui/api/alerts', api, async () => alertsJson(ctx.home));
  app.get('/ui/api/entity-examples', api, async () => entityExamplesJson(ctx));
  app.get<{ Querystring: { products?: string; limit?: string } }>(
    '/ui/api/pipeline',
    api,
    async (req) => {
      const products = (req.query.products ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
      const limit = Number(req.query.limit ?? 10);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        throw new LarderError('LARDER_BAD_REQUEST', 'limit: an integer from 1 to 100', {
          field: 'limit',
          detail: { reason: 'invalid_value' },
        });
      return pipelineJson(ctx, products, limit);
    },
  );
}
