/**
 * The `alerts` section of `larder.config.ts` (docs/monitoring.md "Alerts"): rules over the
 * monitoring signals, where alerts go, and how often `larder monitor` (or `larder stream
 * --alerts`) evaluates them. One schema per rule `signal` and per destination `type`, no
 * unknown keys; durations are whole seconds, minutes, hours or days (`'30s'`, `'5m'`, `'1h'`,
 * `'1d'`).
 */
import { z } from 'zod';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `'30s'` / `'5m'` / `'2h'` / `'1d'` (or `'0s'` when `zero`) in ms, or an error message. */
export function parseAlertDuration(text: string, zero = false): number | { error: string } {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (!m) return { error: `"${text}" is not a duration; write e.g. "30s", "5m", "2h", "1d"` };
  const ms = Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  if (ms === 0 && !zero) return { error: `"${text}" must be positive` };
  return ms;
}

const duration = (zero = false) =>
  z.string().superRefine((v, c) => {
    const d = parseAlertDuration(v, zero);
    if (typeof d !== 'number') c.addIssue({ code: 'custom', message: d.error });
  });

const NAME = /^[a-zA-Z][a-zA-Z0-9_-]*$/;

const common = {
  /** Unique among the rules; part of every alert's fingerprint. */
  name: z.string().regex(NAME, 'a letter, then letters, digits, "_" or "-"'),
  severity: z.enum(['critical', 'warning', 'info']).default('warning'),
  /** How long the condition must hold before the alert fires (default `'0s'`: at once). */
  for: duration(true).default('0s'),
  /** A line of your own, copied into every message of the rule. */
  description: z.string().optional(),
};

/** Expectations: the newest `larder validate` report, or a validation run of its own. */
const ExpectationRule = z
  .object({
    ...common,
    signal: z.literal('expectation_failed'),
    /**
     * Validate on each evaluation over `[now − window, now)` on the configured offline store
     * (one of `source`, `view`, `service`; none = everything that declares `expect`).
     * Without `run`, the rule reads `$LARDER_HOME/validation/validation.json`.
     */
    run: z
      .object({
        source: z.string().min(1).optional(),
        view: z.string().min(1).optional(),
        service: z.string().min(1).optional(),
        window: duration().default('1d'),
        every: duration().default('1h'),
      })
      .strict()
      .refine((r) => [r.source, r.view, r.service].filter(Boolean).length <= 1, {
        message: 'give at most one of source, view, service',
      })
      .optional(),
  })
  .strict();

const SkewRule = z
  .object({
    ...common,
    signal: z.literal('skew'),
    /** The service whose newest `larder skew` report is read (`$LARDER_HOME/skew/<service>.json`). */
    service: z.string().min(1),
    /** Fires per feature whose differing share is above this (0..1). */
    maxShare: z.number().min(0).max(1),
  })
  .strict();

const DriftRule = z
  .object({
    ...common,
    signal: z.literal('drift'),
    service: z.string().min(1),
    /** A training export (`larder export` output: .parquet, .csv, .jsonl), from the project root. */
    reference: z.string().min(1),
    /** The served values compared: the feature log of `[now − window, now)` (default 1h). */
    window: duration().default('1h'),
    psiThreshold: z.number().positive().default(0.2),
    pThreshold: z.number().positive().max(1).default(0.01),
  })
  .strict();

const FreshnessRule = z
  .object({
    ...common,
    signal: z.literal('freshness'),
    /** Views checked (default: every online feature view). */
    views: z.array(z.string().min(1)).min(1).optional(),
    /** Fires per view whose newest value's event time is older than this. */
    maxAge: duration(),
  })
  .strict();

const ConsumerLagRule = z
  .object({
    ...common,
    signal: z.literal('consumer_lag'),
    /** Source topics checked (default: every stream source's topic). */
    topics: z.array(z.string().min(1)).min(1).optional(),
    /** Fires per topic whose lag (records, summed over partitions) is above this. */
    max: z.number().int().nonnegative(),
  })
  .strict();

const DlqRateRule = z
  .object({
    ...common,
    signal: z.literal('dlq_rate'),
    /** Source topics whose `<topic>.dlq` is watched (default: every stream source's topic). */
    topics: z.array(z.string().min(1)).min(1).optional(),
    /** Fires per DLQ topic receiving more records per minute than this since the last evaluation. */
    maxPerMinute: z.number().nonnegative(),
  })
  .strict();

export const AlertRuleConfig = z.discriminatedUnion('signal', [
  ExpectationRule,
  SkewRule,
  DriftRule,
  FreshnessRule,
  ConsumerLagRule,
  DlqRateRule,
]);
export type AlertRuleInput = z.input<typeof AlertRuleConfig>;
type ParsedRule = z.infer<typeof AlertRuleConfig>;

const KafkaDestination = z
  .object({
    type: z.literal('kafka'),
    /** Created with 1 partition when missing. */
    topic: z.string().min(1).default('alerts'),
  })
  .strict();

const WebhookDestination = z
  .object({
    type: z.literal('webhook'),
    url: z.string().url(),
    /** `json` (default): the alert message; `slack`: Slack's `{ text, blocks }`. */
    format: z.enum(['json', 'slack']).default('json'),
    /** Further POSTs after a failed one (1 s, 2 s, 4 s … apart; default 3). */
    retries: z.number().int().min(0).max(10).default(3),
    headers: z.record(z.string()).optional(),
  })
  .strict();

export const AlertDestinationConfig = z.discriminatedUnion('type', [
  KafkaDestination,
  WebhookDestination,
]);

export const AlertsConfigSchema = z
  .object({
    rules: z.array(AlertRuleConfig).min(1),
    destinations: z.array(AlertDestinationConfig).default([]),
    /** Time between evaluations of `larder monitor` (default `'1m'`). */
    every: duration().default('1m'),
    /** How long resolved alerts stay listed (state file, dashboard; default `'1d'`). */
    keepResolved: duration().default('1d'),
  })
  .strict()
  .superRefine((a, c) => {
    const seen = new Set<string>();
    a.rules.forEach((r, i) => {
      if (seen.has(r.name))
        c.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `"${r.name}" is the name of another rule`,
        });
      seen.add(r.name);
    });
  });

/** A rule after validation: durations in ms. */
export type AlertRule = ParsedRule extends infer R
  ? R extends unknown
    ? Omit<R, 'for'> & { forMs: number }
    : never
  : never;
export type AlertRuleOf<S extends AlertRule['signal']> = Extract<AlertRule, { signal: S }>;
export type AlertDestination = z.infer<typeof AlertDestinationConfig>;

export interface AlertsConfig {
  readonly rules: readonly AlertRule[];
  readonly destinations: readonly AlertDestination[];
  readonly everyMs: number;
  readonly keepResolvedMs: number;
}

const ms = (text: string): number => parseAlertDuration(text, true) as number;

/** The validated section with its durations in ms. */
export function resolveAlerts(a: z.infer<typeof AlertsConfigSchema>): AlertsConfig {
  return {
    rules: a.rules.map(({ for: f, ...r }) => ({ ...r, forMs: ms(f) }) as AlertRule),
    destinations: a.destinations,
    everyMs: ms(a.every),
    keepResolvedMs: ms(a.keepResolved),
  };
}
