/**
 * The layer rules of Larder's source tree, checked by `npm run layers` (part of `npm run check`).
 * Paths are relative to the repository root. The rules are generated from the tables below, so
 * the layer order is written once; `test/structure/layers.test.ts` proves each kind of rule reports a
 * forbidden import.
 *
 * Layers, bottom up (a folder imports only its own layer and the layers below it):
 *   core → aggregation → definitions → reference, registry, config → engines → adapters
 */

/** @type {string[][]} */
const LAYERS = [
  ['core'],
  ['aggregation'],
  ['definitions'],
  ['reference', 'registry', 'config'],
  [
    'offline',
    'online',
    'retrieval',
    'streaming',
    'materialize',
    'models',
    'scheduler',
    'quality',
    'monitoring',
  ],
  ['alerts', 'api', 'client', 'store', 'cli', 'bin'],
];

/**
 * Imports between folders of one layer that are the real structure; any other import between
 * two folders of a layer is reported. (`cli → api` because `larder serve` starts the server; `quality → offline` because
 * `larder validate` computes its statistics on the offline store; `store → api` for the push path of
 * `POST /push`; `cli → store` because `export` and `materialize` run through `openFeatureStore`; `monitoring → offline`
 * because feature logs are written and read with DuckDB; `alerts` sits with the adapters because its
 * signals read several engines (validate, skew, drift, Kafka offsets), and `api → alerts` because the
 * dashboard lists the alerts.)
 */
const PEERS = {
  retrieval: ['online'],
  materialize: ['offline', 'online'],
  streaming: ['offline', 'online'],
  models: ['retrieval'],
  quality: ['offline'],
  monitoring: ['offline'],
  store: ['api'],
  api: ['alerts'],
  cli: ['alerts', 'api', 'client', 'store'],
  bin: ['cli'],
};

const PRODUCT = LAYERS.flat();
const under = (folders) => `^(${folders.join('|')})/`;

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.join('-')}`,
  comment: `${layer.join(', ')} must not import a higher layer (${LAYERS.slice(i + 1)
    .flat()
    .join(', ')}): lower layers are used by the ones above and never know them`,
  severity: 'error',
  from: { path: under(layer) },
  to: { path: under(LAYERS.slice(i + 1).flat()) },
}));

const peerRules = LAYERS.flatMap((layer) =>
  layer.map((folder) => {
    const others = layer.filter((f) => f !== folder && !(PEERS[folder] ?? []).includes(f));
    const allowed = PEERS[folder] ?? [];
    return {
      name: `peers-${folder}`,
      comment: `${folder}/ may import ${allowed.length ? allowed.join(', ') : 'no other folder'} of its own layer: an import from ${others.join(', ')} would be a new dependency between engines or adapters (add it to PEERS only if the structure truly changes)`,
      severity: 'error',
      from: { path: `^${folder}/` },
      to: { path: under(others) },
    };
  }),
).filter((rule) => rule.to.path !== '^()/');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    ...peerRules,
    {
      name: 'offline-dialects-apart',
      comment:
        'offline/bigquery/ and offline/duckdb/ never import each other: what both need lives in offline/ above them (an engine that wraps another hides a missing interface)',
      severity: 'error',
      from: { path: '^offline/(bigquery|duckdb)/' },
      to: { path: '^offline/(bigquery|duckdb)/', pathNot: '^offline/$1/' },
    },
    {
      name: 'retrieval-through-index',
      comment:
        'product code outside retrieval/ uses it through retrieval/index.ts, its public surface (tests may reach inside)',
      severity: 'error',
      from: { path: under(PRODUCT), pathNot: '^retrieval/' },
      to: { path: '^retrieval/', pathNot: '^retrieval/index\\.ts$' },
    },
    {
      name: 'client-runtime-standalone',
      comment:
        'client/runtime.ts is copied verbatim next to every generated client (larder codegen), so it imports only Node built-ins',
      severity: 'error',
      from: { path: '^client/runtime\\.ts$' },
      to: { dependencyTypesNot: ['core'] },
    },
    {
      name: 'client-grpc-transport-standalone',
      comment:
        'client/grpc-transport.ts is copied next to a generated client (larder codegen --grpc), so it imports only Node built-ins, client/runtime.ts (copied with it) and @grpc/grpc-js and @grpc/proto-loader (which the client project installs)',
      severity: 'error',
      from: { path: '^client/grpc-transport\\.ts$' },
      to: {
        dependencyTypesNot: ['core'],
        pathNot: '^client/runtime\\.ts$|(^|/)node_modules/@grpc/(grpc-js|proto-loader)/',
      },
    },
    {
      name: 'no-example-in-product',
      comment:
        'the e-commerce example (examples/) uses the product; no product code depends on it, so the product runs on any feature repository',
      severity: 'error',
      from: { path: under(PRODUCT) },
      to: { path: '^examples/' },
    },
    {
      name: 'no-tests-in-product',
      comment: 'test/, bench/ and scripts/ use the product, never the other way round',
      severity: 'error',
      from: { path: under(PRODUCT) },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'every import resolves to a file or an installed package: one that does not would escape the rules above',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular',
      comment:
        'no import cycles (type-only imports included): a cycle makes module load order matter and folders inseparable',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.cache|\\.larder|data|dist)/' },
    // Type-only imports count: they tie folders together as much as value imports.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
