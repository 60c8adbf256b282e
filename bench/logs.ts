/**
 * eth_getLogs over a 10,000-block chain (npm run bench:logs), then the polling path: log filters
 * and a WebSocket logs subscription fed while blocks are sealed. Prints figures, asserts nothing.
 * Builds the chain in-process (sealing blocks on demand is far faster than waiting on a block
 * timer), then queries over HTTP as a user would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, toHex } from 'viem';
import WebSocket from 'ws';
import { privateKeyToAccount } from 'viem/accounts';
import { createLogger } from '../node/logger.ts';
import { RollupNode } from '../node/assembly/node.ts';
import { defaultNodeOptions } from '../node/assembly/options.ts';

const BLOCKS = Number(process.argv[2] ?? 10_000);
const EVERY = 100; // one logging transaction every EVERY blocks
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const TOPIC = keccak256(toHex('Ping()'));
const FILTERS = 100; // log filters polled in the second part (under the per-client cap)
const FILTER_BLOCKS = 200; // blocks sealed with them installed, each with one logging transaction
// runtime: PUSH32 TOPIC PUSH1 0 PUSH1 0 LOG1 STOP; init code copies it out
const RUNTIME = `7f${TOPIC.slice(2)}60006000a100`;
const INIT = `0x60${(RUNTIME.length / 2).toString(16)}80600b6000396000f3${RUNTIME}` as const;

async function rpc(url: string, method: string, params: unknown[]): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function main(): Promise<void> {
  const datadir = await mkdtemp(join(tmpdir(), 'ai-rollup-bench-logs-'));
  const opts = {
    ...defaultNodeOptions,
    datadir,
    dev: true,
    rpc: { ...defaultNodeOptions.rpc, port: 0 },
    sequencer: { ...defaultNodeOptions.sequencer, blockTime: 3600 },
  };
  const node = await RollupNode.init(opts, createLogger('warn', false));
  try {
    const acct = privateKeyToAccount(KEY);
    const send = async (nonce: number, to?: `0x${string}`, data?: `0x${string}`) => {
      const raw = await acct.signTransaction({ chainId: 1337, nonce, to, data, gas: 100_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n });
      return rpc(node.rpcUrl, 'eth_sendRawTransaction', [raw]);
    };
    await send(0, undefined, INIT);
    await node.producer.mineOne();
    const receipt = await rpc(node.rpcUrl, 'eth_getTransactionReceipt', [
      keccak256(await acct.signTransaction({ chainId: 1337, nonce: 0, data: INIT, gas: 100_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n })),
    ]);
    const emitter = receipt.contractAddress as `0x${string}`;
    const t0 = performance.now();
    let nonce = 1;
    for (let i = 1; i < BLOCKS; i++) {
      if (i % EVERY === 0) await send(nonce++, emitter);
      await node.producer.mineOne();
    }
    const buildMs = performance.now() - t0;
    const head = Number(await rpc(node.rpcUrl, 'eth_blockNumber', []));
    console.log(`chain: ${head} blocks (${nonce - 1} logs) built in ${(buildMs / 1000).toFixed(1)} s (${(BLOCKS / (buildMs / 1000)).toFixed(0)} blocks/s)`);
    const queries: [string, Record<string, unknown>][] = [
      ['all blocks, by address', { fromBlock: '0x0', toBlock: 'latest', address: emitter }],
      ['all blocks, by topic', { fromBlock: '0x0', toBlock: 'latest', topics: [TOPIC] }],
      ['all blocks, no match', { fromBlock: '0x0', toBlock: 'latest', topics: [keccak256(toHex('nothing'))] }],
    ];
    for (const [name, filter] of queries) {
      const t = performance.now();
      const logs = (await rpc(node.rpcUrl, 'eth_getLogs', [filter])) as unknown[];
      console.log(`eth_getLogs ${name}: ${logs.length} logs over ${head + 1} blocks in ${(performance.now() - t).toFixed(1)} ms`);
    }
    await filterBench(node, emitter, (to) => send(nonce++, to));
  } finally {
    await node.close();
    await rm(datadir, { recursive: true, force: true });
  }
}

/** FILTERS log filters and one logs subscription, FILTER_BLOCKS blocks of one log each, then one poll of every filter. */
async function filterBench(node: RollupNode, emitter: `0x${string}`, send: (to: `0x${string}`) => Promise<unknown>): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < FILTERS; i++) ids.push(await rpc(node.rpcUrl, 'eth_newFilter', [{ address: emitter, topics: [TOPIC] }]));
  const ws = new WebSocket(node.rpcUrl.replace('http', 'ws'));
  await new Promise((res) => ws.once('open', res));
  let notified = 0;
  ws.on('message', (d) => {
    if (String(d).includes('eth_subscription')) notified++;
  });
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['logs', { address: emitter }] }));
  await new Promise((res) => ws.once('message', res));
  const t = performance.now();
  for (let i = 0; i < FILTER_BLOCKS; i++) {
    await send(emitter);
    await node.producer.mineOne();
  }
  const sealMs = performance.now() - t;
  while (notified < FILTER_BLOCKS) await new Promise((res) => setTimeout(res, 10));
  const p = performance.now();
  let polled = 0;
  for (const id of ids) polled += ((await rpc(node.rpcUrl, 'eth_getFilterChanges', [id])) as unknown[]).length;
  const pollMs = performance.now() - p;
  ws.close();
  console.log(
    `${FILTERS} log filters + 1 logs subscription: ${FILTER_BLOCKS} blocks with a log each sealed in ${sealMs.toFixed(0)} ms (${(sealMs / FILTER_BLOCKS).toFixed(2)} ms/block), ${notified} notifications`,
  );
  console.log(`eth_getFilterChanges on each of the ${FILTERS} filters: ${polled / FILTERS} logs each, ${(pollMs / FILTERS).toFixed(2)} ms per poll`);
}

await main();
