import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build for every package (graphql-ws,
    // yoga); vite would give our sources the ESM build, and the two copies'
    // GraphQLError classes would not recognise each other.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Every file gets its own Postgres database cloned from a migrated
    // template, so files run in parallel without seeing each other's rows.
    fileParallelism: true,
    // Each file's server holds up to 20 Postgres connections; bounded workers
    // keep a many-core runner under max_connections (100).
    maxWorkers: 4,
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
