import type { FastifyInstance } from 'fastify';
import { LarderError } from '../../registry/errors.ts';
import { ErrorResponse, PushBody, PushResponse, jsonSchema } from '../schemas/api-schemas.ts';
import type { ServerContext } from '../server-context.ts';

/** `POST /push`: Feast's push endpoint; stream sources are pushable too. */
export function pushRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/push',
    {
      config: { scope: 'push' },
      schema: {
        summary: 'Push records of a push or stream source (Feast-compatible)',
        body: jsonSchema(PushBody),
        response: {
          200: jsonSchema(PushResponse),
          '4xx': jsonSchema(ErrorResponse),
          '5xx': jsonSchema(ErrorResponse),
        },
      },
    },
    async (request) => {
      const r = PushBody.safeParse(request.body);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        const field = issue.path.join('.') || '(body)';
        throw new LarderError('LARDER_BAD_REQUEST', `${field}: ${issue.message}`, {
          field,
          hint: 'send {"push_source_name": "...", "df": {"col": [...]}, "to": "online"}',
        });
      }
      return ctx.pushHandler.push(
        ctx.state.current,
        { source: r.data.push_source_name, columns: r.data.df, to: r.data.to },
        ctx.metrics.ingest.observer,
      );
    },
  );
}
