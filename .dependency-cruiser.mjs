/*
 * npm run lint:deps: the import rules of src/, checked in CI (.ci/run). docs/architecture.md explains them.
 *
 * LAYERS is the one place the order is written, lowest first. A module may import from its own layer
 * or a lower one; importing a higher layer is an error. The top layer is the process and its wiring
 * (src/main.ts, src/compose.ts, src/app.ts) and src/types/. A folder of src/ that is not in the list is
 * an error too, so a new folder has to be given its place here.
 */
const LAYERS = [
  'infra',
  'i18n',
  'config',
  'leaf',
  'raven',
  'jobs',
  'http',
  'webhooks',
  'browser-session',
  'registry',
  'delivery',
  'connect-links',
  'connections',
  'leaf-alerts',
  'consent',
  'sdk',
  'ops',
  'doctor',
  'cli',
  'root',
]

/** The modules of a layer, as a path regex: `root` is the files directly in src/ and src/types/. */
const pathOf = (layer) => (layer === 'root' ? '^src/([^/]+|types/.+)$' : `^src/${layer}/`)

const layerRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layer-${layer}`,
  severity: 'error',
  comment: `src/${layer}/ may import only from itself and lower layers (${LAYERS.slice(0, index).join(', ') || 'none'}): it imports a higher one.`,
  from: { path: pathOf(layer) },
  to: { path: LAYERS.slice(index + 1).map(pathOf) },
}))

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'This import closes a cycle: follow the arrows down the layers instead.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'layer-unknown',
      severity: 'error',
      comment: 'A module of src/ in a folder the layer order does not name: add the folder to LAYERS in .dependency-cruiser.mjs.',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: LAYERS.map(pathOf) },
    },
    {
      name: 'layer-unknown-importer',
      severity: 'error',
      comment: 'A module of src/ in a folder the layer order does not name: add the folder to LAYERS in .dependency-cruiser.mjs.',
      from: { path: '^src/', pathNot: LAYERS.map(pathOf) },
      to: {},
    },
    {
      name: 'no-src-to-outside',
      severity: 'error',
      comment: 'Production code must not import tests, sandboxes or the bench.',
      from: { path: '^src/' },
      to: { path: '^(test|sandboxes|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing: the check cannot see where it points.',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type-only imports count: a type is as much a dependency on its meaning as a value.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: ['node_modules', '^(test|sandboxes|bench)/'] },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
}
