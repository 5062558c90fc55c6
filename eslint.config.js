import js from '@eslint/js';
import { readdirSync } from 'node:fs';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

// The import rules of src/ (docs/architecture.md, "Import rules"). Each entry of src/ names the entries it may
// import from; anything else in src/ is forbidden to it. A folder may import from rows below it, never above and
// never sideways unless listed here. Files inside the same folder may import each other (no cycles, see below).
//   row 6   main.ts                      the process
//   row 5   start.ts                     the composition root
//   row 4   servers/                     the Fastify instances
//   row 3   routes/ proxy/ token-api/    HTTP adapters, independent of each other
//   row 2   login/ access/               flows, independent of each other
//   row 1b  session/
//   row 1a  oidc/
//   row 0c  request/ cookies/
//   row 0b  config/ observability/       independent of each other
//   row 0a  errors/ crypto/ paths/ tracing/   leaves
const leaves = ['errors', 'crypto', 'paths', 'tracing'];
const row0b = [...leaves, 'config', 'observability'];
const row0c = [...row0b, 'request', 'cookies'];
const row1a = [...row0c, 'oidc'];
const row1b = [...row1a, 'session'];
const row2 = [...row1b, 'login', 'access'];
const row3 = [...row2, 'routes', 'proxy', 'token-api'];
const row4 = [...row3, 'servers'];
const row5 = [...row4, 'start.ts'];
const layers = {
  errors: [],
  crypto: [],
  paths: [],
  tracing: [],
  config: leaves,
  observability: leaves,
  request: row0b,
  cookies: row0b,
  oidc: row0c,
  session: row1a,
  login: row1b,
  access: row1b,
  routes: row2,
  proxy: row2,
  'token-api': row2,
  servers: row3,
  'start.ts': row4,
  'main.ts': row5,
};
const srcEntries = readdirSync(new URL('./src', import.meta.url)).filter((name) => !name.endsWith('.test.ts'));
const unlisted = srcEntries.filter((name) => !(name in layers));
if (unlisted.length > 0) {
  throw new Error(
    `eslint.config.js: src/${unlisted.join(', src/')} has no row in the import rules; add it to "layers"`,
  );
}
const layerZones = Object.entries(layers)
  .map(([entry, allowed]) => ({
    target: `./src/${entry}`,
    from: srcEntries.filter((other) => other !== entry && !allowed.includes(other)).map((other) => `./src/${other}`),
    message: allowed.length
      ? `src/${entry} may import only from ${allowed.join(', ')} (docs/architecture.md, Import rules).`
      : `src/${entry} is a leaf: it imports nothing else from src/ (docs/architecture.md, Import rules).`,
  }))
  .filter((zone) => zone.from.length > 0);

export default defineConfig(
  globalIgnores(['dist/**', 'node_modules/**', 'coverage/**', 'charts/**']),
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      '@typescript-eslint/consistent-type-definitions': 'off',
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // src/ never imports the mock IdP, tests, scripts, benchmarks or the demo: the product ships without them.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/mock-entra/**', '**/test/**', '**/scripts/**', '**/bench/**', '**/demo/**'] },
      ],
    },
  },
  {
    // The layers of src/ and no import cycles between its files. The resolver maps our `.js` specifiers to
    // the `.ts` sources the way tsc does (NodeNext).
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Without these import-x treats .ts files as foreign and skips them when it follows imports for no-cycle.
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: layerZones }],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      // node:test's describe/it return promises that the runner awaits itself.
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' } },
  },
);
