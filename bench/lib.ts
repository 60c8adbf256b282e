import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

export interface RpcCall {
  method: string;
  params: unknown[];
}

export async function rpc<T = any>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** One JSON-RPC batch; answers in request order, errors kept per entry. */
export async function rpcBatch(url: string, calls: RpcCall[]): Promise<{ result?: any; error?: { message: string } }[]> {
  const body = calls.map((c, id) => ({ jsonrpc: '2.0', id, ...c }));
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const out = (await res.json()) as { id: number; result?: unknown; error?: { message: string } }[];
  return out.sort((a, b) => a.id - b.id);
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

/** Starts a node process and waits until it answers eth_chainId. */
export async function startTarget(name: string, cmd: string, args: string[], port: number): Promise<Target> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}: ${stderr}`);
    try {
      await rpc(url, 'eth_chainId');
      break;
    } catch {
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`${name} did not answer within 60 s: ${stderr}`);
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

export function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? Number.NaN : Number(m[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** The anvil binary itself (not the npm wrapper), so its own memory is what gets measured. */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const direct = resolve(ROOT, `node_modules/@foundry-rs/anvil-${process.platform}-${arch}/bin/anvil`);
  return existsSync(direct) ? direct : resolve(ROOT, 'node_modules/.bin/anvil');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function table(rows: Record<string, string | number>[]): string {
  const cols = Object.keys(rows[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(width[i]!)).join('  ');
  return [line(cols), ...rows.map((r) => line(cols.map((c) => String(r[c]))))].join('\n');
}
