import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // bench/ imports the package by its own name, as a user would; in tests
    // that name points at the TypeScript sources rather than dist/.
    alias: { birchdb: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Tests spawn the built CLI: rebuild dist/ first if the sources are newer.
    globalSetup: ['test/global-build.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests that substitute the file layer must not have libuv route file
    // calls through io_uring behind their back.
    // BIRCH_STRICT: every batch checks its balanced tree in memory (strict
    // mode, src/btree/sanity.ts); child processes inherit it. The setup file
    // runs check() on every store a test opens before the test ends.
    env: { UV_USE_IO_URING: '0', BIRCH_STRICT: process.env.BIRCH_STRICT ?? '1' },
    setupFiles: ['test/setup/final-check.ts'],
  },
});
