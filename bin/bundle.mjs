// Bundles the CLI's TypeScript into plain ESM under a directory (npm packages stay external), so
// a node starts without tsx's loader: about 2 s less per start, which the test suite (over a
// hundred node and CLI processes) feels. Each module keeps its own import.meta.url and
// import.meta.dirname (the paths it reads files by: artifacts, caches, worker entries).
// `node bin/bundle.mjs [dir]` writes it (default .cache/bin); `AI_ROLLUP_BUNDLE=<dir>/cli.js`
// makes bin/ai-rollup.js run it. The sources stay what runs by default: a bundle can go stale.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const keepImportMeta = {
  name: 'keep-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const src = (await readFile(args.path, 'utf8'))
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)));
      return { contents: src, loader: 'ts' };
    });
  },
};

/** Writes `<outDir>/cli.js` (and its lazily loaded chunks); answers its path. */
export async function bundleCli(outDir) {
  await mkdir(outDir, { recursive: true });
  await build({
    // the worker threads' modules too (node/worker-load.mjs loads them from here), so no thread of
    // the process needs tsx
    entryPoints: {
      cli: join(ROOT, 'node/cli/cli.ts'),
      'workers/sender-recovery': join(ROOT, 'node/sync/sender-recovery-worker.ts'),
      'workers/prove': join(ROOT, 'prover/worker/prove-worker.ts'),
    },
    outdir: outDir,
    bundle: true,
    // chunks keep the CLI's lazy imports lazy: `--help` does not load the node
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    plugins: [keepImportMeta],
  });
  await writeFile(join(outDir, 'package.json'), '{ "type": "module" }\n');
  return join(outDir, 'cli.js');
}

/** Where `npm run build:client` writes the SDK: package.json's "./client" export points here. */
export const CLIENT_DIST = join(ROOT, 'dist/client');

/**
 * Writes the dApp SDK (client/index.ts, `ai-rollup/client`) as one ESM file, `<outDir>/index.js`,
 * its npm dependencies (viem, zod, poseidon-lite) left as imports. Answers its path.
 */
export async function bundleClient(outDir) {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: { index: join(ROOT, 'client/index.ts') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  return join(outDir, 'index.js');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const client = process.argv[2] === '--client';
  const dir = process.argv[client ? 3 : 2];
  const out = client ? await bundleClient(resolve(dir ?? CLIENT_DIST)) : await bundleCli(resolve(dir ?? join(ROOT, '.cache/bin')));
  process.stdout.write(`${out}\n`);
}
