import { experiment, model } from 'larder';
import inputs from '../models/ranker_v1.inputs.json' with { type: 'json' };
import { recommendationV1 } from './services.ts';

/**
 * The ranking model: P(cart-add or purchase within the hour | a product page view), trained by
 * `npm run train:ranker` on `recommendation_v1` (model card: docs/models/ranker_v1.md). The
 * input mapping is a JSON file shared with the Python trainer, so both encode identically.
 */
export const rankerV1 = model({
  name: 'ranker_v1',
  version: '1',
  path: '../models/ranker_v1.onnx',
  service: recommendationV1,
  inputs: inputs as Parameters<typeof model>[0]['inputs'],
  description: 'Gradient-boosted trees over the 26 recommendation_v1 features (50 columns).',
});

/** A logistic-regression challenger on the same inputs (docs/models/ranker_lr.md). */
export const rankerLr = model({
  name: 'ranker_lr',
  version: '1',
  path: '../models/ranker_lr.onnx',
  service: recommendationV1,
  inputs: inputs as Parameters<typeof model>[0]['inputs'],
  description: 'Scaled logistic regression over the same inputs as ranker_v1.',
});

/** 90/10 split by a stable hash of user_id: the A/B test the original pipeline fed. */
export const rankerAb = experiment({
  name: 'ranker_ab',
  arms: [
    { name: 'control', model: rankerV1, percent: 90 },
    { name: 'treatment', model: rankerLr, percent: 10 },
  ],
  hashKey: 'user_id',
  description: 'ranker_v1 (control) against ranker_lr (treatment).',
});
