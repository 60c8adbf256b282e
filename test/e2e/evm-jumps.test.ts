/**
 * Jumps, side by side with anvil started by the test. The node keeps one analysis of a contract's
 * code (valid JUMPDESTs, PUSH values) per code array (node/chain/jump-analysis-cache.ts): this
 * sweeps every destination of a contract whose code hides 0x5b bytes inside PUSH data, ends in a
 * truncated PUSH32 and has valid JUMPDESTs before and after them, with JUMP and JUMPI, through
 * eth_call and through transactions sealed several per block (so later calls reuse the analysis),
 * and compares success, return data, status and gas used with anvil's, destination by destination.
 * A second contract with the same bytes at other positions must get its own analysis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concat, getContractAddress, numberToHex, pad, toHex } from 'viem';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { type Anvil, startAnvil } from '../../devnet/anvil.ts';
import { DEV_KEYS, removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';

const KEY = DEV_KEYS[2];
const account = privateKeyToAccount(KEY);
const call = async (url: string, method: string, params: unknown[] = []) => (await rpc(url, { jsonrpc: '2.0', id: 1, method, params })).json;

/** Returns `v` (one byte) as a 32-byte word: JUMPDEST PUSH1 v PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN. */
const returning = (v: number) => `5b60${v.toString(16).padStart(2, '0')}60005260206000f3`;

/**
 * The runtime: `jumpi` false: JUMP to calldata word 0; true: JUMPI to it when word 1 is non-zero
 * (falls through to return 0xee otherwise). Then valid JUMPDESTs, 0x5b inside PUSH2 and PUSH4
 * data, an INVALID-marked region and a PUSH32 cut short by the end of the code, full of 0x5b.
 */
function runtime(jumpi: boolean): Hex {
  const head = jumpi ? '6020356000355760ee60005260206000f3' : '60003556';
  return `0x${head}${returning(1)}615b5b50${returning(2)}635b5b5b5b50fe${returning(3)}007f5b5b5b5b5b5b`;
}

/** Init code that copies the runtime after it and returns it. */
function initCode(code: Hex): Hex {
  const len = (code.length - 2) / 2;
  const prefixLen = 15; // PUSH2 len, PUSH2 offset, PUSH1 0, CODECOPY, PUSH2 len, PUSH1 0, RETURN
  const prefix = `0x61${len.toString(16).padStart(4, '0')}61${prefixLen.toString(16).padStart(4, '0')}60003961${len.toString(16).padStart(4, '0')}6000f3`;
  return concat([prefix as Hex, code]);
}

describe('jumps against anvil', () => {
  let anvil: Anvil;
  let node: DevNode;
  let nonce = 0;
  const contracts: { address: Hex; code: Hex; jumpi: boolean }[] = [];

  async function receipt(url: string, hash: Hex): Promise<{ status: Hex; gasUsed: Hex; blockNumber: Hex }> {
    for (let i = 0; i < 200; i++) {
      const r = await call(url, 'eth_getTransactionReceipt', [hash]);
      if (r.result !== null && r.result !== undefined) return r.result;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`no receipt for ${hash} on ${url}`);
  }

  beforeAll(async () => {
    [anvil, node] = await Promise.all([startAnvil({ chainId: 1337, args: ['--block-time', '1'] }), startDevNode({ blockTime: 1 })]);
    nonce = Number((await call(node.url, 'eth_getTransactionCount', [account.address, 'latest'])).result);
    expect(Number((await call(anvil.url, 'eth_getTransactionCount', [account.address, 'latest'])).result)).toBe(nonce);
    for (const jumpi of [false, true]) {
      const code = runtime(jumpi);
      contracts.push({ address: getContractAddress({ from: account.address, nonce: BigInt(nonce) }), code, jumpi });
      const raw = await account.signTransaction({
        chainId: 1337,
        type: 'eip1559',
        nonce: nonce++,
        data: initCode(code),
        gas: 300_000n,
        maxFeePerGas: 10n ** 11n,
        maxPriorityFeePerGas: 10n ** 9n,
      });
      for (const url of [anvil.url, node.url]) expect((await call(url, 'eth_sendRawTransaction', [raw])).error).toBeUndefined();
    }
    for (const c of contracts) {
      for (const url of [anvil.url, node.url]) {
        for (let i = 0; i < 200 && (await call(url, 'eth_getCode', [c.address, 'latest'])).result === '0x'; i++) await new Promise((r) => setTimeout(r, 50));
        expect((await call(url, 'eth_getCode', [c.address, 'latest'])).result).toBe(c.code);
      }
    }
  }, 60_000);

  afterAll(async () => {
    await anvil?.stop();
    const dir = node?.datadir;
    await node?.stop();
    if (dir !== undefined) await removeDir(dir);
  });

  const destinations = (code: Hex) => Array.from({ length: (code.length - 2) / 2 + 4 }, (_, d) => d);
  const calldata = (dest: number, take: boolean) => concat([pad(toHex(dest)), pad(take ? '0x01' : '0x00')]);

  it('eth_call: every destination, JUMP and JUMPI (taken and not), the same success and return data', async () => {
    for (const c of contracts) {
      for (const take of c.jumpi ? [true, false] : [true]) {
        for (const dest of destinations(c.code)) {
          const req = { from: account.address, to: c.address, data: calldata(dest, take), gas: numberToHex(100_000) };
          const [a, o] = await Promise.all([call(anvil.url, 'eth_call', [req, 'latest']), call(node.url, 'eth_call', [req, 'latest'])]);
          expect(o.error === undefined, `dest ${dest} jumpi ${c.jumpi} take ${take}: anvil ${JSON.stringify(a)} ours ${JSON.stringify(o)}`).toBe(a.error === undefined);
          expect(o.result, `dest ${dest}`).toBe(a.result);
        }
      }
    }
  }, 120_000);

  it('transactions, several per block: the same status and gas used as anvil for every destination', async () => {
    const sent: { hash: Hex; dest: number; jumpi: boolean }[] = [];
    for (const c of contracts) {
      for (const dest of destinations(c.code)) {
        const raw = await account.signTransaction({
          chainId: 1337,
          type: 'eip1559',
          nonce: nonce++,
          to: c.address,
          data: calldata(dest, true),
          gas: 60_000n,
          maxFeePerGas: 10n ** 11n,
          maxPriorityFeePerGas: 10n ** 9n,
        });
        let hash: Hex | undefined;
        for (const url of [anvil.url, node.url]) {
          const r = await call(url, 'eth_sendRawTransaction', [raw]);
          expect(r.error, url).toBeUndefined();
          hash = r.result;
        }
        sent.push({ hash: hash!, dest, jumpi: c.jumpi });
      }
    }
    const blocks = new Set<string>();
    let ok = 0;
    for (const s of sent) {
      const [a, o] = await Promise.all([receipt(anvil.url, s.hash), receipt(node.url, s.hash)]);
      expect({ status: o.status, gasUsed: o.gasUsed }, `dest ${s.dest} jumpi ${s.jumpi}`).toEqual({ status: a.status, gasUsed: a.gasUsed });
      blocks.add(o.blockNumber);
      if (o.status === '0x1') ok++;
    }
    // the sweep hits valid and invalid destinations, and blocks held several calls each
    expect(ok).toBeGreaterThanOrEqual(6);
    expect(ok).toBeLessThan(sent.length);
    expect(blocks.size).toBeLessThan(sent.length / 2);
  }, 120_000);
});
