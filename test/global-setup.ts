/**
 * Once per `vitest run`: bundles the CLI (bin/bundle.mjs) into a fresh directory and points every
 * process the tests start at it (AI_ROLLUP_BUNDLE, inherited by the test workers and their
 * children), so each node and CLI process starts without tsx's loader. Built from the sources of
 * this run, so it cannot be stale.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleCli } from '../bin/bundle.mjs';

let dir: string | undefined;

export async function setup(): Promise<void> {
  if (process.env.AI_ROLLUP_BUNDLE === 'off') {
    delete process.env.AI_ROLLUP_BUNDLE;
    return;
  }
  const cache = join(import.meta.dirname, '../.cache');
  await mkdir(cache, { recursive: true }); // a fresh clone has none yet
  dir = await mkdtemp(join(cache, 'bin-test-'));
  process.env.AI_ROLLUP_BUNDLE = await bundleCli(dir);
}

export async function teardown(): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}
