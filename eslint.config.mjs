// Type-aware lint for the TypeScript sources, tests and bench (npm run lint; part of npm test).
// The rules are the ones that catch real bugs here: promises nobody awaits or that land where a
// callback returns void, import cycles, `any` at boundaries, and members in a predictable order.
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'out/**',
      'node_modules/**',
      'bench/.build/**',
      'bench/results/**',
      '.test-artifacts/**',
      'agents/**',
      'examples/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // In classes: fields first, then the constructor, then methods (no field between methods).
      '@typescript-eslint/member-ordering': ['error', { default: 'never', classes: ['signature', 'field', 'constructor', 'method'] }],
      'import-x/no-cycle': 'error',
      // Unused names are TypeScript's job (noUnusedLocals/noUnusedParameters), with `_` for "on purpose".
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
  {
    // Tests read JSON reports and profiles back as plain data (JSON.parse is `any`); the product code may not.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // Tests feed control characters on purpose, and print results as strings in assertions.
      'no-control-regex': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
);
