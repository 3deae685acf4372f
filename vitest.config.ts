import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Rebuilds dist/ when src/ is newer: integration tests run the compiled `rill` command.
    globalSetup: ['test/global-setup.ts'],
    // Integration tests spawn real processes and SIGKILL them; give each a generous deadline,
    // but every wait inside a test has its own condition and deadline.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two test files at a time. vitest's default is CPUs - 1, i.e. one file at a time on the 2-core
    // CI machine; most integration files spend their time waiting on real processes (gossip,
    // session timeouts, fsync), so a second file overlaps that waiting.
    maxWorkers: 2,
  },
});
