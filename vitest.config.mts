import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real models, real LanceDB and real child processes: generous timeouts, and files run one at
    // a time so onnxruntime's threads do not fight over the two cores of our machines.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    pool: 'forks',
    globalSetup: ['test/globalSetup.ts'],
    setupFiles: ['test/helpers/removeTempDirs.ts'],
  },
});
