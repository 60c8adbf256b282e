import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
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

/**
 * `ai-rollup model compile SPEC --out OUT ...flags`, run by the CLI once per test run for each
 * (spec content, flags) and copied to OUT for every later file that asks for the same: a compile is
 * seconds of circuit work and a Groth16 setup, and ten e2e files compile the same example model.
 * The cache lives in the run's bundle directory (test/global-setup.ts: made fresh each run, from
 * this run's sources, removed after), so it can never be stale; the first fork to want a model
 * compiles it under a lock directory, the other waits for it. Without the bundle (AI_ROLLUP_BUNDLE
 * =off) every call compiles. Tests of the compile command itself (cli-model) call the CLI directly.
 */
export async function compileModelCached(spec: string, out: string, flags: string[] = []): Promise<void> {
  const bundle = process.env.AI_ROLLUP_BUNDLE;
  if (bundle === undefined || bundle === '') {
    await cliOk(['model', 'compile', spec, '--out', out, ...flags]);
    return;
  }
  const key = createHash('sha256')
    .update(JSON.stringify(flags))
    .update(await readFile(spec))
    .digest('hex');
  const root = resolve(dirname(bundle), 'models');
  const entry = resolve(root, key);
  await mkdir(root, { recursive: true });
  const exists = (p: string) =>
    stat(p).then(
      () => true,
      () => false,
    );
  if (!(await exists(entry))) {
    const lock = `${entry}.lock`;
    const mine = await mkdir(lock).then(
      () => true,
      () => false,
    );
    if (mine) {
      const tmp = `${entry}.${process.pid}.tmp`;
      try {
        await cliOk(['model', 'compile', spec, '--out', tmp, ...flags]);
        await rename(tmp, entry);
      } finally {
        await rm(tmp, { recursive: true, force: true });
        await rm(lock, { recursive: true, force: true });
      }
    } else {
      // another fork compiles it: wait for its entry, or for its lock to go without one (it failed)
      for (const end = Date.now() + 600_000; !(await exists(entry)); await new Promise((r) => setTimeout(r, 200))) {
        if (!(await exists(lock))) return compileModelCached(spec, out, flags);
        if (Date.now() > end) throw new Error(`timed out waiting for another fork's compile of ${spec}`);
      }
    }
  }
  // copied beside OUT, then renamed: a node watching its models directory never sees half a package
  const tmpOut = `${out}.${process.pid}.tmp`;
  await mkdir(dirname(out), { recursive: true });
  await cp(entry, tmpOut, { recursive: true });
  await rename(tmpOut, out);
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
