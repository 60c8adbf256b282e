/** Helpers shared by the benches: free ports, node processes, peak memory, JSON-RPC over fetch, tables, quantiles. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import native from 'secp256k1';
import { bytesToHex, hexToBytes, keccak256, serializeTransaction } from 'viem';
import type { Hex, TransactionSerializableEIP1559 } from 'viem';
import type { Model } from '../precompiles/model/format.ts';
import { mulberry32, randomDense } from '../precompiles/model/random.ts';

export const ROOT = resolve(import.meta.dirname, '..');

export interface RpcCall {
  method: string;
  params: unknown[];
}

export interface RpcAnswer {
  result?: any;
  error?: { code?: number; message: string };
}

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status} from ${url}: ${text.slice(0, 200)}`);
  }
}

export async function rpc<T = any>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const body = (await post(url, { jsonrpc: '2.0', id: 1, method, params })) as { result?: T; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** One JSON-RPC batch; answers in request order, errors kept per entry. */
export async function rpcBatch(url: string, calls: RpcCall[]): Promise<RpcAnswer[]> {
  const out = await post(
    url,
    calls.map((c, id) => ({ jsonrpc: '2.0', id, ...c })),
  );
  // A server refusing the whole batch (too large, bad request) answers with one error object, not an array.
  if (!Array.isArray(out)) throw new Error(`batch of ${calls.length} refused: ${JSON.stringify(out).slice(0, 300)}`);
  const byId = new Map((out as ({ id: number } & RpcAnswer)[]).map((a) => [a.id, a]));
  return calls.map((c, id) => byId.get(id) ?? { error: { message: `no answer to ${c.method} in the batch` } });
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export interface Target {
  name: string;
  url: string;
  proc: ChildProcess;
  /** Peak resident memory so far, MiB (VmHWM). */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

// Nodes still running when the bench dies (an exception, Ctrl-C) would otherwise outlive it.
const live = new Set<ChildProcess>();
let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
}

/** SIGKILLs this child (by its own handle) if the bench exits while it still runs; stop it normally in a finally. */
export function killOnExit(proc: ChildProcess): void {
  hookExit();
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
}

/**
 * Starts a node process and waits until it answers eth_chainId; the message of a failure carries its output's tail.
 * `onLine`, if given, sees every complete line of its stdout (e.g. to pick a JSON log record out).
 */
export async function startTarget(name: string, cmd: string, args: string[], port: number, timeoutMs = 60_000, onLine?: (line: string) => void): Promise<Target> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(proc);
  let output = '';
  let partial = '';
  let spawnError: Error | undefined;
  proc.once('error', (err) => (spawnError = err));
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  if (onLine !== undefined) {
    proc.stdout?.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const l of lines) onLine(l);
    });
  }
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError !== undefined) throw new Error(`${name} could not be started (${cmd}): ${spawnError.message}`);
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before answering:\n${output.trim()}`);
    }
    try {
      await rpc(url, 'eth_chainId');
      break;
    } catch {
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`${name} did not answer eth_chainId within ${timeoutMs / 1000} s:\n${output.trim()}`);
      }
      await sleep(200);
    }
  }
  return {
    name,
    url,
    proc,
    peakRssMiB: () => peakRss(proc.pid!),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Peak resident set of a live process in MiB, NaN once it is gone. */
export function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? Number.NaN : Number(m[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** The anvil binary itself, not node_modules/.bin/anvil: that is a node wrapper, whose memory would be measured instead. */
export { anvilBinary } from '../devnet/anvil.ts';

/** Signs with libsecp256k1 (~0.2 ms, viem's pure-JS curve ~1.5 ms); viem's serialisation. */
export function signTx(tx: TransactionSerializableEIP1559, key: Hex): Hex {
  const hash = hexToBytes(keccak256(serializeTransaction(tx)));
  const { signature, recid } = native.ecdsaSign(hash, hexToBytes(key));
  return serializeTransaction(tx, { r: bytesToHex(signature.slice(0, 32)), s: bytesToHex(signature.slice(32)), yParity: recid });
}

/** The JSON log record on `line` (pino's output), or undefined for anything else. */
export function logRecord(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function table(rows: Record<string, string | number>[]): string {
  const cols = Object.keys(rows[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(width[i]!)).join('  ');
  return [line(cols), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n');
}

/** The q-quantile (0..1) of `xs` by the nearest-rank method; NaN for none. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** Cores and load averages, with a warning when something else was already using the cores. */
export function machineNote(startLoad: number): string {
  const cores = availableParallelism();
  const [l1, l5] = loadavg();
  const busy =
    startLoad >= cores / 2
      ? ` LOADED MACHINE: other processes already kept ~${startLoad.toFixed(1)} of ${cores} cores busy when the bench started, so the figures are pessimistic.`
      : '';
  return `${cores} cores; load average ${startLoad.toFixed(2)} at the start, ${l1!.toFixed(2)} (1 min) / ${l5!.toFixed(2)} (5 min) at the end.${busy}`;
}

/** The MNIST-sized 784-32-10 MLP of the AI benches (seeded random weights: the same model id every run). */
export function mnistModel(): Model {
  const rng = mulberry32(784_32_10);
  return { inputShape: [784], layers: [randomDense(rng, 784, 32, 'relu'), randomDense(rng, 32, 10, 'none')] };
}
