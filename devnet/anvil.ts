/**
 * The one launcher of a local L1: anvil from the `@foundry-rs/anvil` npm package, used by the
 * devnet, the L1 tests and the benches. It runs the native binary directly (not the
 * node_modules/.bin wrapper) so the PID we hold is anvil's own: stop() signals exactly it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Hex } from 'viem';
import { CodedError } from '../precompiles/errors.ts';
import { mnemonicKeys } from '../node/chain/mnemonic.ts';

const ROOT = resolve(import.meta.dirname, '..');

/**
 * Chain id of the devnet L1. 900 is the OP Stack devnet's L1 id; it differs from anvil's 31337
 * (so a wallet never mistakes the devnet L1 for a stray anvil) and from the L2's 1337.
 */
export const DEFAULT_L1_CHAIN_ID = 900;
/** anvil's (and Hardhat's) default mnemonic: the L2 dev genesis funds the same accounts. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export interface AnvilOptions {
  /** Loopback port; 0 or absent lets anvil pick a free one (no race between probing and binding). */
  port?: number;
  /** Seconds between blocks; absent: automine (one block per transaction, at once). */
  blockTime?: number;
  chainId?: number;
  mnemonic?: string;
  /** Funded accounts derived from the mnemonic (anvil's default: 10). */
  accounts?: number;
  /** `--state PATH`: load the chain from PATH if it exists, dump it there on exit (SIGTERM). */
  statePath?: string;
  gasLimit?: bigint;
  /** Milliseconds to wait for the first eth_chainId answer. */
  startTimeoutMs?: number;
  /** Extra command-line arguments. */
  args?: string[];
}

export interface Anvil {
  readonly url: string;
  readonly port: number;
  /** PID of the current anvil process (a new one after restart()). */
  readonly pid: number;
  readonly chainId: number;
  /** Private keys of the funded accounts, in mnemonic order. */
  readonly accounts: Hex[];
  /** SIGTERM, SIGKILL after `timeoutMs`, and waits for the exit. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
  /**
   * Stops and starts again on the same port. With a statePath the chain survives (anvil dumps on
   * SIGTERM and loads on start); without one the new anvil starts from genesis.
   */
  restart(): Promise<void>;
}

export class AnvilError extends CodedError {
  constructor(
    override readonly code: 'NOT_FOUND' | 'EXITED' | 'TIMEOUT',
    message: string,
  ) {
    super(message);
    this.name = 'AnvilError';
  }
}

/** The native anvil binary of this platform's optional package, else the npm wrapper. */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const direct = resolve(ROOT, `node_modules/@foundry-rs/anvil-${process.platform}-${arch}/bin/anvil`);
  return existsSync(direct) ? direct : resolve(ROOT, 'node_modules/.bin/anvil');
}

// anvil processes still running when this process dies (a failed test, Ctrl-C) would outlive it.
const live = new Set<ChildProcess>();
let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
}

interface Running {
  proc: ChildProcess;
  port: number;
  exited: Promise<void>;
}

async function launch(opts: AnvilOptions, port: number, chainId: number): Promise<Running> {
  hookExit();
  const bin = anvilBinary();
  if (!existsSync(bin)) throw new AnvilError('NOT_FOUND', `anvil not found at ${bin}: run npm install (@foundry-rs/anvil)`);
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId)];
  if (opts.blockTime !== undefined) args.push('--block-time', String(opts.blockTime));
  if (opts.mnemonic !== undefined) args.push('--mnemonic', opts.mnemonic);
  if (opts.accounts !== undefined) args.push('--accounts', String(opts.accounts));
  if (opts.statePath !== undefined) args.push('--state', opts.statePath);
  if (opts.gasLimit !== undefined) args.push('--gas-limit', String(opts.gasLimit));
  args.push(...(opts.args ?? []));

  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  void exited.then(() => live.delete(proc));
  let output = '';
  let spawnError: Error | undefined;
  proc.once('error', (err) => (spawnError = err));
  // Keep draining both pipes (anvil logs every call) so it never blocks on a full pipe; keep a tail for errors.
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  let bound = port;
  for (;;) {
    if (spawnError !== undefined) throw new AnvilError('NOT_FOUND', `anvil could not be started (${bin}): ${spawnError.message}`);
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new AnvilError('EXITED', `anvil exited (${proc.exitCode ?? proc.signalCode}) before answering:\n${output.trim()}`);
    }
    if (bound === 0) {
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m !== null) bound = Number(m[1]);
    }
    if (bound !== 0 && (await answersChainId(`http://127.0.0.1:${bound}`))) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      await exited;
      throw new AnvilError('TIMEOUT', `anvil did not answer eth_chainId in time:\n${output.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, port: bound, exited };
}

async function answersChainId(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await res.json()) as { result?: string };
    return typeof body.result === 'string';
  } catch {
    return false;
  }
}

async function terminate(r: Running, timeoutMs: number): Promise<void> {
  if (r.proc.exitCode !== null || r.proc.signalCode !== null) return;
  r.proc.kill('SIGTERM');
  // anvil writes --state on SIGTERM: give it time, then force it.
  const t = setTimeout(() => r.proc.kill('SIGKILL'), timeoutMs);
  await r.exited;
  clearTimeout(t);
}

/** Starts anvil on loopback and waits until it answers eth_chainId. */
export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const chainId = opts.chainId ?? DEFAULT_L1_CHAIN_ID;
  const accounts = mnemonicKeys(opts.mnemonic ?? ANVIL_MNEMONIC, opts.accounts ?? 10);
  let current = await launch(opts, opts.port ?? 0, chainId);
  const port = current.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get pid() {
      return current.proc.pid!;
    },
    chainId,
    accounts,
    stop: (timeoutMs = 5_000) => terminate(current, timeoutMs),
    async restart() {
      await terminate(current, 5_000);
      current = await launch(opts, port, chainId);
    },
  };
}
