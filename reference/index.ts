export {
  referenceFeatures,
  referenceModeTotals,
  type EntityRow,
  type ReferenceOptions,
} from './reference-features.ts';
