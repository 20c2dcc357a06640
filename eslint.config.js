// One tool lints and formats: ESLint with typescript-eslint and @stylistic (`npm run lint`,
// `npm run format` fixes). Pure JavaScript, so `npm ci` needs no platform binary.
import stylistic from '@stylistic/eslint-plugin';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NODE_PROTOCOL = {
  regex: '^(fs|path|http|https|net|tls|crypto|os|url|util|events|child_process|stream|dns|perf_hooks|zlib|readline|timers)$',
  message: 'use the node: protocol',
};

// The layers of docs/design.md ("Layers"), lowest first; within a layer, folders in the order they
// may depend on each other (each on those to its left). A file may import its own folder, the
// folders to its left and every lower layer: anything else fails `npm run lint` with a message
// naming the layering. Each entry is a folder of src/ unless it names its files (and its `target`,
// the path others import it by; the bottom layer has none, as anyone may import it). Paths are matched as written, so
// every relative spelling of a folder (`../x/`, `../../src/x/`, `./x/` from src/*.ts) counts.
// The core rule does not see dynamic `import()`: keep those within a folder or in the CLI.
const LAYERS = [
  { name: 'shared primitives and events', units: [
    { id: 'src/*.ts, src/events', files: ['src/*.ts', 'src/events/**/*.ts'], ignores: ['src/daemon.ts', 'src/log-start.ts'] },
  ] },
  { name: 'probes and connections', units: [
    { id: 'probes', files: ['probes/**/*.ts'], target: 'probes/' },
    { id: 'src/redis' },
  ] },
  { name: 'config', units: [{ id: 'src/config' }] },
  { name: 'what the plan compiles into', units: [
    { id: 'src/results' }, { id: 'src/metrics' }, {
      id: 'src/engine',
      only: {
        of: 'src/config', keep: '(plan|schema|rule-spec)\\.js$',
        why: 'the engine is pure and reads no files: of src/config it takes the plan\'s types and rule specs only',
      },
    },
    { id: 'src/auth' },
  ] },
  { name: 'incidents, stores and queues', units: [
    { id: 'src/store' }, { id: 'src/schedule' }, { id: 'src/queue' }, { id: 'src/notify' }, { id: 'src/incidents' },
    { id: 'src/alerts' }, { id: 'src/lease' }, { id: 'src/worker' }, { id: 'src/import' },
  ] },
  { name: 'what people read', units: [{ id: 'src/status' }, { id: 'src/console' }, { id: 'src/api' }] },
  { name: 'composition', units: [
    { id: 'src/log-start.ts', files: ['src/log-start.ts'], target: 'log-start\\.js$' },
    { id: 'src/daemon.ts', files: ['src/daemon.ts'], target: 'daemon\\.js$' },
    { id: 'src/cli' },
  ] },
];

const UNITS = LAYERS.flatMap((layer, n) => layer.units.map((u) => ({
  ...u,
  layer: n,
  files: u.files ?? [`${u.id}/**/*.ts`],
  // `./x/` (from src/*.ts) or any number of `../`, then `src/` when coming from probes/.
  regex: u.files && !u.target ? undefined : `^(\\./|(\\.\\./)+)${u.target ? '' : '(src/)?'}${u.target ?? `${u.id.slice('src/'.length)}/`}`,
})));

/**
 * The `no-restricted-imports` block of one unit: every unit to its right, each with a message naming
 * both layers, and what a unit takes `only` of one below it.
 */
function layering(unit) {
  const { files, ignores } = unit;
  const above = UNITS.slice(UNITS.indexOf(unit) + 1).filter((u) => u.regex);
  const below = unit.only
    ? [{ regex: `${unitOf(unit.only.of).regex}(?!${unit.only.keep})`, message: `layering (docs/design.md, "Layers"): ${unit.only.why}.` }]
    : [];
  const patterns = above.map((u) => ({
    regex: u.regex,
    message: `layering (docs/design.md, "Layers"): ${unit.id} is layer ${unit.layer} (${LAYERS[unit.layer].name}) and must not import ${u.id} (layer ${u.layer}${u.layer === unit.layer ? ', to its right' : ''}).`,
  }));
  return { files, ...(ignores ? { ignores } : {}), rules: { 'no-restricted-imports': ['error', { patterns: [NODE_PROTOCOL, ...patterns, ...below] }] } };
}
const unitOf = (id) => UNITS.find((u) => u.id === id);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'test-artifacts/', 'test/fixtures/'] },
  ...tseslint.configs.recommended,
  stylistic.configs.customize({ indent: 2, quotes: 'single', semi: true, commaDangle: 'always-multiline', braceStyle: '1tbs' }),
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@stylistic/max-len': ['error', { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true }],
      '@stylistic/arrow-parens': ['error', 'always'],
      '@stylistic/operator-linebreak': 'off',
      '@stylistic/multiline-ternary': 'off',
      '@stylistic/indent-binary-ops': 'off',
      '@stylistic/quote-props': ['error', 'as-needed'],
      'no-restricted-imports': ['error', { patterns: [NODE_PROTOCOL] }],
    },
  },
  // One block per unit but the last (the CLI: nothing is above it).
  ...UNITS.slice(0, -1).map((u) => layering(u)),
);
