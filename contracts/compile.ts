import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Abi, Hex } from 'viem';

const require = createRequire(import.meta.url);
const solc = require('solc') as { compile(input: string, opts?: { import: (p: string) => { contents?: string; error?: string } }): string; version(): string };

export const CONTRACTS_DIR = resolve(import.meta.dirname);
const CACHE_DIR = resolve(import.meta.dirname, '../.cache/solc');

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
 * Compiles Solidity files (paths relative to contracts/) with the npm solc package. solc-js takes
 * seconds per run, so results are cached under .cache/solc by a hash of sources and settings.
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
  const digest = createHash('sha256').update(solc.version()).update(input).digest('hex');
  const cacheFile = join(CACHE_DIR, `${digest}.json`);
  const cached = await readFile(cacheFile, 'utf8').catch(() => undefined);
  if (cached !== undefined) return JSON.parse(cached) as Record<string, CompiledContract>;

  const output = JSON.parse(solc.compile(input, { import: resolveImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const result: Record<string, CompiledContract> = {};
  for (const byName of Object.values(output.contracts ?? {})) {
    for (const [name, c] of Object.entries(byName)) {
      result[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, deployedBytecode: `0x${c.evm.deployedBytecode.object}` };
    }
  }
  await mkdir(dirname(cacheFile), { recursive: true });
  await writeFile(cacheFile, JSON.stringify(result));
  return result;
}

function resolveImport(path: string): { contents?: string; error?: string } {
  try {
    return { contents: require('node:fs').readFileSync(join(CONTRACTS_DIR, path), 'utf8') as string };
  } catch {
    return { error: `file not found: ${path}` };
  }
}
