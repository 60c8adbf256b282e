import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createPublicClient, createWalletClient, defineChain, http, webSocket } from 'viem';
import type { Chain, PublicClient, WalletClient, Transport, Account } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { processControls } from './wait.ts';

const BIN = resolve(import.meta.dirname, '../../bin/ai-rollup.js');

/** Private keys of the dev mnemonic's first accounts (the ones anvil and Hardhat fund). */
export const DEV_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
] as const;

export interface DevNode {
  url: string;
  wsUrl: string;
  datadir: string;
  proc: ChildProcess;
  chain: Chain;
  /** The p2p multiaddrs from the `node started` line (`.../p2p/<peer id>`); empty when p2p is off. */
  p2p: string[];
  /** Output lines seen so far (JSON logs). */
  logs: string[];
  /** SIGTERM, wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, wait for exit: a crash at an arbitrary instant. */
  kill9(): Promise<void>;
}

export interface DevNodeOptions {
  blockTime?: number;
  /** Reuse a data directory (restart tests); a fresh temporary one otherwise. */
  datadir?: string;
  args?: string[];
  dev?: boolean;
  /** L2 chain id the clients sign for (default 1337, the node's default). */
  chainId?: number;
  /** Extra environment of the node process (e.g. NODE_OPTIONS to lower its heap). */
  env?: Record<string, string>;
}

/** Starts the node exactly as a user does (`ai-rollup node --dev`), on a free port. */
export async function startDevNode(opts: DevNodeOptions = {}): Promise<DevNode> {
  const datadir = opts.datadir ?? (await mkdtemp(join(tmpdir(), 'ai-rollup-test-')));
  const args = [BIN, 'node', '--datadir', datadir, '--rpc.port', '0', '--block-time', String(opts.blockTime ?? 1), '--log-level', 'info'];
  if (opts.dev !== false) args.push('--dev');
  args.push(...(opts.args ?? []));
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  const logs: string[] = [];
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  const started = await new Promise<{ rpc: string; p2p: string[] }>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`node did not start in 30s:\n${logs.join('\n')}`)), 30_000);
    const onLine = (line: string) => {
      logs.push(line);
      if (!line.startsWith('{')) return;
      try {
        const rec = JSON.parse(line) as { msg?: string; rpc?: string; p2p?: string[] };
        if (rec.msg === 'node started' && rec.rpc !== undefined) {
          clearTimeout(timer);
          res({ rpc: rec.rpc, p2p: rec.p2p ?? [] });
        }
      } catch {
        // banner lines are not JSON
      }
    };
    createInterface({ input: proc.stdout! }).on('line', onLine);
    createInterface({ input: proc.stderr! }).on('line', (l) => logs.push(l));
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`node exited with ${code} before starting:\n${logs.join('\n')}`));
    });
  });
  const url = started.rpc;
  const chain = defineChain({
    id: opts.chainId ?? 1337,
    name: 'ai-rollup-dev',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [url], webSocket: [url.replace('http', 'ws')] } },
  });
  return {
    url,
    wsUrl: url.replace('http', 'ws'),
    datadir,
    proc,
    chain,
    p2p: started.p2p,
    logs,
    ...processControls(proc, exited),
  };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function clients(node: DevNode, key: `0x${string}` = DEV_KEYS[0]) {
  const account = privateKeyToAccount(key);
  const publicClient = createPublicClient({ chain: node.chain, transport: http(node.url), pollingInterval: 100 });
  // viem's default 4 s polling would make each SDK write (its receipt wait on this client) cost seconds
  const walletClient = createWalletClient({ chain: node.chain, transport: http(node.url), account, pollingInterval: 100 });
  return { publicClient, walletClient, account };
}

export function wsClient(node: DevNode): PublicClient<Transport, Chain> {
  return createPublicClient({ chain: node.chain, transport: webSocket(node.wsUrl) });
}

/** Raw JSON-RPC over HTTP, for malformed-input tests and methods viem does not wrap. */
export async function rpc(url: string, body: unknown, raw = false): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? (body as string) : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text.length > 0 ? JSON.parse(text) : undefined };
}

export type { WalletClient, Account };
