// @ts-check
// ESLint flat config: JavaScript's and typescript-eslint's recommended rules, with type information for
// the TypeScript files (tsconfig.json covers libs, src, test and bench). Formatting is Prettier's job:
// eslint-config-prettier, last, turns off every rule that would argue with it.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const nodeGlobals = {
  require: 'readonly',
  module: 'writable',
  exports: 'writable',
  __dirname: 'readonly',
  __filename: 'readonly',
  process: 'readonly',
  console: 'readonly',
  Buffer: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
};

export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'bench/results/', 'data/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  eslint.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Beyond the recommended set: each guards a defect this code could have and none fires today.
      // A new DatabaseProvider or job outcome must be handled by every switch over it.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // `return promise` inside try/catch/finally skips the catch and runs the finally too early.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // Flags calls of anything marked @deprecated (driver APIs, our own deprecated aliases).
      '@typescript-eslint/no-deprecated': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],

      // Off: an async method without await is how this code meets a Promise-returning interface with
      // synchronous work (better-sqlite3, test fakes), and it turns a throw into a rejection. A missing
      // await on a promise is caught by no-floating-promises instead.
      '@typescript-eslint/require-await': 'off',
      // Off: the enums here (ABP's BackgroundJobPriority, Nest's HttpStatus) name integers that arrive
      // as plain numbers from the database, HTTP and JSON; comparing and range-checking them as numbers
      // is the point.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
    },
  },
  {
    // Plain CommonJS run by Node: the Jest config, the build script, the scale tests' fixture worker.
    files: ['**/*.js'],
    ignores: ['src/web/public/**', 'libs/*/src/public/**'],
    languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
  },
  {
    // The pages' own scripts, served to the browser as they are.
    files: ['src/web/public/**/*.js', 'libs/*/src/public/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        document: 'readonly',
        window: 'readonly',
        fetch: 'readonly',
        Intl: 'readonly',
        setInterval: 'readonly',
      },
    },
  },
  prettier,
);
