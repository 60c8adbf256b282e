import { defineConfig } from 'vitest/config';
import { SpreadProvingSequencer } from './test/sequencer.ts';

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e files start real node processes; two at a time fit the 2-core CI machine
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // a fork runs file after file without re-importing the module graph (viem, ethereumjs, snarkjs:
    // seconds per file); no test mocks modules or stubs globals, so nothing leaks between files
    isolate: false,
    sequence: { sequencer: SpreadProvingSequencer },
    // `vitest run --project unit` runs in-process tests of one module each; `e2e` starts real
    // nodes, anvil, provers and browsers and talks to them as users do
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
    ],
  },
});
