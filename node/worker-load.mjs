// Loads a worker thread's TypeScript module. Worker threads do not inherit the parent's tsx loader
// on Node 20, so by default the thread registers tsx itself; a process running the CLI bundle
// (AI_ROLLUP_BUNDLE, written by bin/bundle.mjs with the workers next to it) loads the worker's
// bundled copy instead, as its main thread does: about 0.4 s less CPU per thread start.
import { pathToFileURL } from 'node:url';

/** `bundled`: the worker's name in the bundle's workers/ directory; `source`: its TypeScript file's URL. */
export async function loadWorker(bundled, source) {
  const bundle = process.env.AI_ROLLUP_BUNDLE;
  if (bundle !== undefined && bundle !== '') return import(new URL(`workers/${bundled}.js`, pathToFileURL(bundle)).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(source);
}
