/**
 * `datagen`: the deterministic synthetic e-commerce data behind `larder gen-data`: users,
 * a Zipf-popular catalog with changing prices, funnel-shaped sessions on a diurnal traffic
 * curve, and the transactions of their purchases, as files ({@link genData}) or Kafka
 * messages ({@link produceToKafka}) from one record stream ({@link generateRecords}).
 */
export { genData, PART_SIZE } from './gen-data.ts';
export { generateRecords } from './generate-records.ts';
export { produceToKafka } from './produce-to-kafka.ts';
export type { ProduceToKafkaOptions } from './produce-to-kafka.ts';
export { PARQUET_COLUMNS } from './parquet-converter.ts';
export { spanStart, validateGenOptions } from './gen-data-options.ts';
export type {
  GenDataOptions,
  GenDataSummary,
  GeneratedRecord,
  GenRecordsOptions,
  Topic,
} from './gen-data-options.ts';
export { CATEGORIES, CATEGORY_NAMES } from './categories.ts';
export type { CategorySpec } from './categories.ts';
