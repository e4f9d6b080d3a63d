// Type-aware lint rules for the TypeScript sources, tests, bench and scripts.
// This code fires and forgets on purpose in many places (announcements,
// timers): each such call says so with `void`, and the promise rules below
// catch the ones that forget by accident.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'src/generated/',
      'client/generated/',
      'client/dist/',
      'drizzle/',
      '.data/',
      'dist/',
      'web/dist/',
      'web/dist-graphiql/',
      'web/.dist-*/',
      'coverage/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // async keeps a synchronous implementation of an async interface honest about its type.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The browser client runs in a page, not in Node.
    files: ['web/**/*.ts'],
    languageOptions: { globals: globals.browser },
  },
  {
    // GraphiQL's page script, loaded after graphql-ws's and GraphiQL's browser builds (their globals).
    files: ['web/graphiql/**/*.js'],
    languageOptions: { globals: { ...globals.browser, graphqlWs: 'readonly', YogaGraphiQL: 'readonly' }, sourceType: 'script' },
  },
  {
    // GraphQL responses in tests are untyped JSON, read field by field.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
