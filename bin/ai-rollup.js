#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so a fresh clone needs no build step.
// AI_ROLLUP_BUNDLE names a prebuilt bundle of the same sources (bin/bundle.mjs) to run instead.
import { pathToFileURL } from 'node:url';

const bundle = process.env.AI_ROLLUP_BUNDLE;
let main;
if (bundle !== undefined && bundle !== '') {
  ({ main } = await import(pathToFileURL(bundle).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../node/cli/cli.ts'));
}
await main(process.argv);
