#!/usr/bin/env node
// A `solc` executable for forge, backed by the npm solc package (solc-js): native compiler
// downloads are impossible here, so contracts/foundry.toml points `solc` at this file.
// Answers the two invocations forge makes:
//   --version        "Version: <semver>" on the last line (what foundry-compilers parses)
//   --standard-json  standard JSON in on stdin, out on stdout; any other flags forge adds
//                    (--base-path, --include-path, --allow-paths) only matter for imports that
//                    are not in the input, which are read relative to the base and include paths.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const solc = require('solc');
const args = process.argv.slice(2);

if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('solc-wrapper: only --version and --standard-json are supported\n');
  process.exit(1);
}

const roots = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base-path' || args[i] === '--include-path') roots.push(args[++i]);
}
if (roots.length === 0) roots.push(process.cwd());

function findImport(path) {
  const candidates = isAbsolute(path) ? [path] : roots.map((r) => join(resolve(r), path));
  for (const file of candidates) {
    try {
      return { contents: readFileSync(file, 'utf8') };
    } catch {
      // try the next root
    }
  }
  return { error: `file not found: ${path}` };
}

const input = readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImport }));
