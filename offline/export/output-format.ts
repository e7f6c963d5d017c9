import { extname } from 'node:path';
import { LarderError } from '../../core/errors.ts';
import { OUTPUT_FORMATS, type OutputFormat } from '../offline-store.ts';

const BY_EXTENSION: Record<string, OutputFormat> = {
  '.parquet': 'parquet',
  '.arrow': 'arrow',
  '.feather': 'arrow',
  '.ipc': 'arrow',
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

/** The output format of a path, by extension; throws LARDER_BAD_REQUEST for anything else. */
export function outputFormat(path: string): OutputFormat {
  const f = BY_EXTENSION[extname(path).toLowerCase()];
  if (!f)
    throw new LarderError('LARDER_BAD_REQUEST', `cannot tell the output format of "${path}"`, {
      detail: { reason: 'unsupported_format' },
      hint: `use one of the extensions .parquet, .arrow, .csv, .jsonl (formats: ${OUTPUT_FORMATS.join(', ')})`,
    });
  return f;
}
