import type { FastifyInstance } from 'fastify';
import { LarderError } from '../../core/errors.ts';
import type { ApplyObserver } from '../../streaming/apply-records.ts';
import { fieldQuality } from '../../streaming/field-quality.ts';
import { pushableBatchSource } from '../push/default-push-handler.ts';
import { FeastErrorResponse, PushBody, PushResponse, jsonSchema } from '../schemas/api-schemas.ts';
import { zodIssueField, zodIssueReason } from '../schemas/zod-issue-reason.ts';
import type { ServerContext } from '../server-context.ts';

/** `Idempotency-Key`: 1 to 255 printable ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header === 'string' && IDEMPOTENCY_KEY.test(header)) return header;
  throw new LarderError(
    'LARDER_BAD_REQUEST',
    'Idempotency-Key must be one value of 1 to 255 printable ASCII characters (no spaces)',
    {
      field: 'idempotency-key',
      hint: 'e.g. a UUID per logical push, repeated on its retries',
      detail: { reason: 'invalid_value' },
    },
  );
}

/**
 * `POST /push`: Feast's push endpoint; stream sources are pushable too. With an
 * `Idempotency-Key` header, a retry answers the first answer (with `Idempotent-Replayed: true`).
 */
export function pushRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/push',
    {
      config: { scope: 'push' },
      schema: {
        summary: 'Push records of a push or stream source (Feast-compatible)',
        body: jsonSchema(PushBody),
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': {
              type: 'string',
              description:
                'Retry key (1-255 printable ASCII): a repeat within 24 h answers the first answer (Idempotent-Replayed: true) and applies nothing; with another body it is a 422',
            },
          },
        },
        response: {
          200: jsonSchema(PushResponse),
          '4xx': jsonSchema(FeastErrorResponse),
          '5xx': jsonSchema(FeastErrorResponse),
        },
      },
    },
    async (request, reply) => {
      const idempotencyKey = idempotencyKeyOf(request.headers['idempotency-key']);
      const r = PushBody.safeParse(request.body);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        const field = zodIssueField(issue);
        throw new LarderError('LARDER_BAD_REQUEST', `${field}: ${issue.message}`, {
          field,
          hint: 'send {"push_source_name": "...", "df": {"col": [...]}, "to": "online"}',
          detail: { reason: zodIssueReason(issue) },
        });
      }
      const { repo } = ctx.state.current;
      const name = r.data.push_source_name;
      const batch = pushableBatchSource(repo, name);
      const quality = batch ? fieldQuality(batch.spec.schema) : null;
      const observer: ApplyObserver = (event) => {
        ctx.metrics.ingest.observer(event);
        if (!quality) return;
        ctx.metrics.pushRecords.inc({ source: name }, event.records.length);
        const nulls = quality.countNulls(event.records);
        quality.fields.forEach((field, i) => {
          if (nulls[i]! > 0) ctx.metrics.pushFieldNulls.inc({ source: name, field }, nulls[i]!);
        });
      };
      let pushed;
      try {
        pushed = await ctx.pushHandler.push(
          ctx.state.current,
          {
            source: name,
            columns: r.data.df,
            to: r.data.to,
            ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
          },
          observer,
        );
      } catch (e) {
        if (e instanceof LarderError && e.code === 'LARDER_BAD_REQUEST')
          ctx.metrics.pushRejected.inc({
            source: batch ? name : '(unknown)',
            reason: String((e.detail as { reason?: unknown } | undefined)?.reason ?? 'other'),
          });
        throw e;
      }
      const { replayed, ...answer } = pushed;
      if (replayed) reply.header('idempotent-replayed', 'true');
      return answer;
    },
  );
}
