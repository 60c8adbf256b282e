import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, posix, resolve } from 'node:path';
import type { Abi, Hex } from 'viem';

// solc-js is CommonJS and ships no ESM entry point.
const require = createRequire(import.meta.url);
const solc = require('solc') as {
  compile(input: string, opts?: { import: (p: string) => { contents?: string; error?: string } }): string;
  version(): string;
};

export const CONTRACTS_DIR = resolve(import.meta.dirname);
const CACHE_DIR = resolve(import.meta.dirname, '../.cache/solc');

export function solcVersion(): string {
  return solc.version();
}

export interface CompiledContract {
  abi: Abi;
  bytecode: Hex;
  deployedBytecode: Hex;
}

export interface CompileOptions {
  evmVersion?: string;
  optimize?: boolean;
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>;
}

/**
 * Compiles Solidity files (paths relative to contracts/) with the npm solc package, keyed by
 * contract name. solc-js takes seconds per run, so results are cached under .cache/solc by a hash
 * of the sources (imports included), the compiler version and the settings.
 */
export async function compileContracts(files: string[], opts: CompileOptions = {}): Promise<Record<string, CompiledContract>> {
  const sources: Record<string, { content: string }> = {};
  for (const f of files) sources[f] = { content: await readFile(join(CONTRACTS_DIR, f), 'utf8') };
  const settings = {
    evmVersion: opts.evmVersion ?? 'cancun',
    optimizer: { enabled: opts.optimize ?? true, runs: 200 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  };
  const input = JSON.stringify({ language: 'Solidity', sources, settings });
  const hash = createHash('sha256').update(solc.version()).update(input);
  // Imported files reach solc through the callback, not `sources`, so an edit to one would
  // otherwise be served stale from the cache.
  for (const [path, content] of importClosure(sources)) hash.update(`\0${path}\0${content}`);
  const cacheFile = join(CACHE_DIR, `${hash.digest('hex')}.json`);
  const cached = await readFile(cacheFile, 'utf8').catch(() => undefined);
  if (cached !== undefined) {
    try {
      return JSON.parse(cached) as Record<string, CompiledContract>;
    } catch {
      // a truncated file from a killed run: recompile and overwrite it
    }
  }

  const output = JSON.parse(solc.compile(input, { import: resolveImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const result: Record<string, CompiledContract> = {};
  for (const byName of Object.values(output.contracts ?? {})) {
    for (const [name, c] of Object.entries(byName)) {
      result[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, deployedBytecode: `0x${c.evm.deployedBytecode.object}` };
    }
  }
  // vitest workers compile the same inputs in parallel: write then rename, so none reads half a file.
  await mkdir(dirname(cacheFile), { recursive: true });
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(result));
  await rename(tmp, cacheFile);
  return result;
}

/** solc hands the callback import paths already normalised against the importing file. */
function resolveImport(path: string): { contents?: string; error?: string } {
  try {
    return { contents: readFileSync(join(CONTRACTS_DIR, path), 'utf8') };
  } catch {
    return { error: `file not found: ${path}` };
  }
}

/** Files reachable through import statements, found the way solc resolves them; unreadable ones are left to solc to report. */
function importClosure(sources: Record<string, { content: string }>): Map<string, string> {
  const seen = new Map<string, string>();
  const queue = Object.entries(sources).map(([path, s]) => [path, s.content] as const);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const [from, content] = next;
    for (const m of content.matchAll(/\bimport\s+(?:[^;'"]*?\sfrom\s+)?["']([^"']+)["']/g)) {
      const spec = m[1]!;
      const path = spec.startsWith('.') ? posix.normalize(posix.join(posix.dirname(from), spec)) : spec;
      if (seen.has(path) || path in sources) continue;
      const text = resolveImport(path).contents ?? '';
      seen.set(path, text);
      queue.push([path, text]);
    }
  }
  return seen;
}
