/**
 * The signals of the configured project: a `SignalReader` reading the registry file, the
 * reports under `$LARDER_HOME`, the offline store (validation runs), the feature log (drift)
 * and Kafka's offsets (one admin connection, opened on first use and again after a failure).
 */
import { resolve } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { AlertRule } from '../config/alerts-config.ts';
import type { LarderConfig } from '../config/config.ts';
import { LarderError } from '../core/errors.ts';
import type { Repository } from '../definitions/repository.ts';
import { resolveTopic } from '../definitions/dsl/sources.ts';
import { readRegistry } from '../registry/registry-file.ts';
import type { SignalReader } from './alert-types.ts';
import { expectationSignal, type RunValidation } from './signals/expectation-signal.ts';
import { freshnessSignal } from './signals/freshness-signal.ts';
import type { OffsetsAdmin } from './signals/kafka-offsets.ts';
import { consumerLagSignal, dlqRateSignal } from './signals/kafka-signals.ts';
import { driftSignal, skewSignal, type RunDrift } from './signals/serving-signals.ts';

export interface ProjectSignals {
  read: SignalReader;
  close(): Promise<void>;
}

const notFound = (rule: AlertRule, what: string, name: string, known: Iterable<string>) =>
  new LarderError('LARDER_NOT_FOUND', `alert rule ${rule.name}: unknown ${what} "${name}"`, {
    hint: `known ${what}s: ${[...known].join(', ') || 'none'} (alerts.rules in larder.config.ts)`,
  });

/** Every view, service, source and topic the rules name exists in the repository. */
export function checkAlertRules(
  rules: readonly AlertRule[],
  repo: Repository,
  topics: readonly string[],
): void {
  const sources = [
    ...repo.batchSources.keys(),
    ...repo.streamSources.keys(),
    ...repo.pushSources.keys(),
  ];
  for (const r of rules) {
    const services = (names: (string | undefined)[]) => {
      for (const s of names)
        if (s !== undefined && !repo.services.has(s))
          throw notFound(r, 'service', s, repo.services.keys());
    };
    const views = (names: readonly (string | undefined)[]) => {
      for (const v of names)
        if (v !== undefined && !repo.featureViews.has(v))
          throw notFound(r, 'feature view', v, repo.featureViews.keys());
    };
    if (r.signal === 'skew' || r.signal === 'drift') services([r.service]);
    if (r.signal === 'freshness') views(r.views ?? []);
    if (r.signal === 'expectation_failed' && r.run) {
      services([r.run.service]);
      views([r.run.view]);
      if (r.run.source !== undefined && !sources.includes(r.run.source))
        throw notFound(r, 'source', r.run.source, sources);
    }
    if (r.signal === 'consumer_lag' || r.signal === 'dlq_rate')
      for (const t of r.topics ?? [])
        if (!topics.includes(t)) throw notFound(r, 'stream topic', t, topics);
  }
}

export function projectSignals(
  config: LarderConfig,
  repo: Repository,
  opts: { admin?: OffsetsAdmin; runValidation?: RunValidation; runDrift?: RunDrift } = {},
): ProjectSignals {
  const topics = [...repo.streamSources.values()].map((s) =>
    resolveTopic(s.spec, config.stream.topics),
  );
  const onlineViews = [...repo.featureViews.values()]
    .filter((v) => v.spec.online)
    .map((v) => v.spec.name);
  const groupId = `${config.namespace}-stream`;
  let admin: Promise<Admin> | null = null;
  const kafkaAdmin = async (): Promise<OffsetsAdmin> => {
    if (opts.admin) return opts.admin;
    admin ??= (async () => {
      const a = new Kafka({
        clientId: `${config.kafka.clientId}-monitor`,
        brokers: [...config.kafka.brokers],
        logLevel: logLevel.NOTHING,
        retry: { retries: 2 },
      }).admin();
      await a.connect();
      return a;
    })().catch((e: unknown) => {
      admin = null;
      throw e;
    });
    return admin;
  };
  const runValidation: RunValidation =
    opts.runValidation ??
    (async (target, start, end, everyMs) => {
      const [{ createOfflineStore }, { validate }] = await Promise.all([
        import('../offline/create-offline-store.ts'),
        import('../quality/validate.ts'),
      ]);
      const store = createOfflineStore(config);
      await store.init();
      try {
        return await validate(store, repo, { target, start, end, everyMs, failUnder: 1 });
      } finally {
        await store.close();
      }
    });
  const runDrift: RunDrift =
    opts.runDrift ??
    (async (rule, start, end) => {
      const { driftReport } = await import('../monitoring/drift.ts');
      return driftReport({
        config,
        repo,
        service: rule.service,
        reference: { type: 'file', path: resolve(config.root, rule.reference) },
        current: { type: 'logs', start, end },
        thresholds: { psi: rule.psiThreshold, p: rule.pThreshold },
      });
    });
  const read: SignalReader = async (rule, now, memory) => {
    switch (rule.signal) {
      case 'expectation_failed':
        return expectationSignal(rule, config.home, now, memory, runValidation);
      case 'skew':
        return skewSignal(rule, config.home);
      case 'drift':
        return driftSignal(rule, now, runDrift);
      case 'freshness':
        return freshnessSignal(rule, onlineViews, readRegistry(config.home)?.watermarks ?? {}, now);
      case 'consumer_lag':
        return consumerLagSignal(rule, await kafkaAdmin(), groupId, topics);
      case 'dlq_rate':
        return dlqRateSignal(rule, await kafkaAdmin(), topics, now, memory);
    }
  };
  return {
    read,
    async close() {
      const a = admin;
      admin = null;
      if (a) await (await a.catch(() => null))?.disconnect();
    },
  };
}
