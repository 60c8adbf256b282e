import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Hex, PublicClient, TransactionReceipt } from 'viem';
import { commitAndRegister, type Wallet } from '../../node/cli/model-register.ts';

const BIN = resolve(import.meta.dirname, '../../bin/ai-rollup.js');
export const TINY_SPEC = resolve(import.meta.dirname, '../../precompiles/model/examples/tiny-16-16-4.json');

export { execAbi, verifierAbi } from '../../contracts/abi/precompiles.ts';
export { INFERENCE_VERIFIER_ADDRESS as VERIFIER, MODEL_EXEC_ADDRESS as MODEL_EXEC } from '../../contracts/abi/precompiles.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ai-rollup ...args` as a user would. */
export function cli(args: string[], timeoutMs = 600_000): Promise<CliResult> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      res({ code, stdout, stderr });
    });
  });
}

export async function cliOk(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`ai-rollup ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

export interface ProofFile {
  modelId: Hex;
  output: number[];
  publicSignals: string[];
  proofWords: Hex[];
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/**
 * A root registration as a wallet makes it (the CLI's code): commitRegistration, then register in
 * a later block. Throws viem's error, the registry's custom error inside, on a refusal.
 */
export async function registerModelTx(c: { publicClient: PublicClient; walletClient: Wallet }, modelId: Hex, vk: Hex, uri = '', salt?: Hex): Promise<TransactionReceipt> {
  const { registerTx } = await commitAndRegister(c.publicClient, c.walletClient, modelId, vk, uri, salt);
  return c.publicClient.getTransactionReceipt({ hash: registerTx });
}
