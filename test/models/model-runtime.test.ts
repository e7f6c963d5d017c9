import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeInputs, encodedColumnNames, inputWidth } from '../../models/input-encoding.ts';
import { assignArm, fnv1a32 } from '../../models/experiment-router.ts';
import { loadModel } from '../../models/model-runtime.ts';
import { LarderError } from '../../core/errors.ts';
import type { ExperimentSpec, ModelSpec } from '../../definitions/spec.ts';

const FIXTURES = 'test/fixtures/models';
const expected = JSON.parse(readFileSync(`${FIXTURES}/tiny_lr.expected.json`, 'utf8')) as {
  rows: number[][];
  probabilities: number[];
};

const input = (
  feature: string,
  extra: Partial<ModelSpec['inputs'][number]> = {},
): ModelSpec['inputs'][number] => ({
  feature,
  transform: 'float',
  vocabulary: null,
  fill: 0,
  missingIndicator: false,
  ...extra,
});
const tinySpec = (over: Partial<ModelSpec> = {}): ModelSpec => ({
  kind: 'model',
  name: 'tiny',
  version: '1',
  path: 'tiny_lr.onnx',
  service: 'svc',
  inputName: 'input',
  outputName: null,
  inputs: ['a', 'b', 'c', 'd', 'e'].map((f) => input(`v:${f}`)),
  description: '',
  ...over,
});

describe('input encoding', () => {
  const spec = tinySpec({
    inputs: [
      input('v:price', { fill: -1, missingIndicator: true }),
      input('v:match', { transform: 'bool' }),
      input('v:category', { transform: 'one_hot', vocabulary: ['books', 'fashion'] }),
      input('v:platform', { transform: 'index', vocabulary: ['desktop', 'mobile'], fill: -1 }),
    ],
  });

  it('lays out numbers, booleans, one-hot, index and missing indicators in order', () => {
    expect(inputWidth(spec)).toBe(6);
    expect(encodedColumnNames(spec)).toEqual([
      'price',
      'price__missing',
      'match',
      'category=books',
      'category=fashion',
      'platform',
    ]);
    const enc = encodeInputs(
      spec,
      [
        [12.5, null, 3],
        [true, false, null],
        ['fashion', 'toys', null],
        ['mobile', null, 'tv'],
      ],
      3,
    );
    expect([...enc.data]).toEqual([12.5, 0, 1, 0, 1, 1, -1, 1, 0, 0, 0, -1, 3, 0, 0, 0, 0, -1]);
    expect(enc.missing).toEqual([false, true, true]);
  });
});

describe('ONNX model runtime', () => {
  it('scores exactly what the trainer computed', async () => {
    const m = await loadModel(tinySpec(), FIXTURES);
    const columns = [0, 1, 2, 3, 4].map((c) => expected.rows.map((r) => r[c]));
    const { scores, missing } = await m.scoreColumns(columns, expected.rows.length);
    expect(m.output).toBe('probabilities');
    expected.probabilities.forEach((p, i) => expect(scores[i]).toBeCloseTo(p, 6));
    expect(missing).toEqual([false, false, false, false]);
    expect((await m.scoreColumns(columns, 0)).scores).toHaveLength(0);
    await m.close();
  });

  it('refuses a mapping that does not fit the graph, saying which input and why', async () => {
    const wrongWidth = await loadModel(
      tinySpec({ inputs: [input('v:a'), input('v:b', { missingIndicator: true })] }),
      FIXTURES,
    ).catch((e: unknown) => e);
    expect(wrongWidth).toBeInstanceOf(LarderError);
    expect((wrongWidth as LarderError).message).toBe(
      'model "tiny": input "input" takes 5 columns but the mapping produces 3 (2 inputs; one-hot and missing-indicator columns included)',
    );
    const wrongName = await loadModel(tinySpec({ inputName: 'features' }), FIXTURES).catch(
      (e: unknown) => e,
    );
    expect((wrongName as LarderError).message).toBe(
      'model "tiny": input "features" is not an input of the ONNX graph (its inputs: input)',
    );
    const wrongOutput = await loadModel(tinySpec({ outputName: 'score' }), FIXTURES).catch(
      (e: unknown) => e,
    );
    expect((wrongOutput as LarderError).message).toContain(
      'output "score" is not an output of the ONNX graph (its outputs: label, probabilities)',
    );
    const missingFile = await loadModel(tinySpec({ path: 'nope.onnx' }), FIXTURES).catch(
      (e: unknown) => e,
    );
    expect((missingFile as LarderError).message).toMatch(/ONNX file .*nope\.onnx does not exist/);
    const notOnnx = await loadModel(tinySpec({ path: 'tiny_lr.expected.json' }), FIXTURES).catch(
      (e: unknown) => e,
    );
    expect((notOnnx as LarderError).message).toContain('is not a loadable ONNX model');
  });
});

describe('experiment routing', () => {
  const exp: ExperimentSpec = {
    kind: 'experiment',
    name: 'ranker_ab',
    hashKey: 'user_id',
    description: '',
    arms: [
      { name: 'control', model: 'a', percent: 70 },
      { name: 'treatment', model: 'b', percent: 30 },
    ],
  };

  it('hashes with FNV-1a (known vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('is sticky per user and splits traffic by the percentages', () => {
    const counts = { control: 0, treatment: 0 };
    for (let i = 0; i < 20_000; i++) {
      const arm = assignArm(exp, `u${i}`);
      expect(assignArm(exp, `u${i}`).name).toBe(arm.name);
      counts[arm.name as keyof typeof counts]++;
    }
    expect(counts.control / 20_000).toBeGreaterThan(0.68);
    expect(counts.control / 20_000).toBeLessThan(0.72);
    const all = {
      ...exp,
      arms: [
        { name: 'control', model: 'a', percent: 100 },
        { name: 'treatment', model: 'b', percent: 0 },
      ],
    };
    expect(new Set(Array.from({ length: 500 }, (_, i) => assignArm(all, `u${i}`).name))).toEqual(
      new Set(['control']),
    );
  });
});

describe('model validation at apply', () => {
  it('names the model, the input and the reason', async () => {
    const { tempRepo, BASE_REPO } = await import('../support/temp-repo.ts');
    const { copyFileSync } = await import('node:fs');
    const { loadRepository } = await import('../../definitions/load.ts');
    const { validateModels } = await import('../../models/validate-models.ts');
    const { DefinitionError } = await import('../../core/errors.ts');
    const repoDir = tempRepo({
      'repo.ts': BASE_REPO,
      'models.ts': `import { featureService, model } from 'larder';
import { activity } from './repo.ts';
export const svc = featureService({ name: 'svc', features: [activity] });
export const good = model({ name: 'good', version: '1', path: 'tiny_lr.onnx', service: svc, inputs: [
  { feature: 'activity:clicks_1h' }, { feature: 'activity:spend_7d' }, { feature: 'activity:last_kind', transform: 'one_hot', vocabulary: ['click', 'view'] },
  { feature: 'activity:spend_7d', fill: -1 } ] });
export const bad = model({ name: 'bad', version: '1', path: 'tiny_lr.onnx', service: svc, inputs: [
  { feature: 'activity:last_kind' }, { feature: 'activity:spend_7d' } ] });
`,
    });
    try {
      copyFileSync(`${FIXTURES}/tiny_lr.onnx`, `${repoDir.dir}/tiny_lr.onnx`);
      const repo = await loadRepository(repoDir.dir);
      const err = await validateModels(repo).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DefinitionError);
      const problems = (err as InstanceType<typeof DefinitionError>).problems;
      expect(problems.map((p) => [p.object, p.field])).toEqual([
        ['model "bad"', 'inputs[0].transform'],
        ['model "bad"', 'inputs'],
      ]);
      expect(problems[0]!.message).toBe(
        '"activity:last_kind" is string; transform "float" takes int64 or float64 or bool',
      );
      expect(problems[1]!.message).toBe(
        'input "input" takes 5 columns but the mapping produces 2 (2 inputs; one-hot and missing-indicator columns included)',
      );
      expect(problems[0]!.at).toMatch(/models\.ts:7$/);
    } finally {
      repoDir.cleanup();
    }
  });
});
