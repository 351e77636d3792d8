import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.ts';

/**
 * `npm run chaos`: the chaos scenarios that take minutes (test/chaos-long/), which the default
 * `npm test` run excludes. The root config's resolution (sources, not dist) is kept; the files
 * run one at a time, because they start processes and measure recovery times, which other tests
 * running beside them would distort.
 */
export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    ...base.test,
    include: ['test/chaos-long/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/.git/**'],
    fileParallelism: false,
    testTimeout: 300_000,
  },
});
