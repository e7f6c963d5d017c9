export { referenceFeatures, type EntityRow, type ReferenceOptions } from './reference-features.ts';
