/**
 * Record schemas of the two raw sources, as zod schemas. They mirror the original pipeline's
 * Avro schemas in `examples/ecommerce/features/avro/` field for field (a test checks that generated records
 * validate against both).
 */
import { z } from 'zod';

export const EVENT_TYPES = ['page_view', 'click', 'purchase', 'add_to_cart', 'search'] as const;

export const UserEventSchema = z
  .object({
    eventId: z.string().min(1),
    userId: z.string().min(1).nullable(),
    sessionId: z.string().min(1),
    eventType: z.enum(EVENT_TYPES),
    timestamp: z.number().int().nonnegative(),
    properties: z.record(z.string(), z.string()),
    context: z
      .object({
        userAgent: z.string(),
        ip: z.string(),
        platform: z.string(),
        referrer: z.string().nullable(),
      })
      .strict(),
  })
  .strict();
export type UserEvent = z.infer<typeof UserEventSchema>;

/**
 * The range of an Avro `int`, the type `transactions.avsc` gives `quantity`: the zod schema
 * states it too, so every ingest path (batch files, `/push`, JSON and Avro on the stream)
 * refuses a quantity a producer of the Avro contract could not write (docs/definitions.md).
 */
export const AVRO_INT_MIN = -(2 ** 31);
export const AVRO_INT_MAX = 2 ** 31 - 1;

export const OrderItemSchema = z
  .object({
    productId: z.string().min(1),
    quantity: z.number().int().min(AVRO_INT_MIN).max(AVRO_INT_MAX),
    price: z.number(),
    category: z.string(),
  })
  .strict();

export const TRANSACTION_STATUSES = ['completed', 'pending', 'failed', 'refunded'] as const;

export const TransactionSchema = z
  .object({
    transactionId: z.string().min(1),
    userId: z.string().min(1),
    orderItems: z.array(OrderItemSchema),
    totalAmount: z.number(),
    currency: z.string(),
    paymentMethod: z.string(),
    status: z.string(),
    timestamp: z.number().int().nonnegative(),
  })
  .strict();
export type Transaction = z.infer<typeof TransactionSchema>;
