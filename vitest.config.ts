import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run the TypeScript sources of the workspace packages, not their build output.
    conditions: ['@weft/source'],
  },
  // Tests run in Vite's server-side environment, which resolves with its own conditions: without
  // these, a test importing `@weft/core` from another package would load the stale `dist/`.
  ssr: { resolve: { conditions: ['@weft/source'], externalConditions: ['@weft/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    // Chaos scenarios that take minutes run in `npm run chaos` (test/chaos-long/vitest.config.ts).
    exclude: ['**/node_modules/**', '**/.git/**', 'test/chaos-long/**'],
    testTimeout: 20_000,
  },
});
