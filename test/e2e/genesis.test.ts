import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';

const RICH = '0x1000000000000000000000000000000000000001';
const CONTRACT = '0x2000000000000000000000000000000000000002';

describe('--genesis FILE', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await removeDir(d);
  });

  it('starts from a geth-style genesis: chain id, balances, code, storage, gas limit, base fee', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ai-rollup-genesis-'));
    dirs.push(dir);
    const file = join(dir, 'genesis.json');
    await writeFile(
      file,
      JSON.stringify({
        config: { chainId: 4242 },
        gasLimit: '0x2faf080',
        baseFeePerGas: '0x3b9aca00',
        alloc: {
          [RICH]: { balance: '0xde0b6b3a7640000', nonce: '0x5' },
          [CONTRACT]: { code: '0x602a60005260206000f3', storage: { '0x01': '0x0000000000000000000000000000000000000000000000000000000000000007' } },
        },
      }),
    );
    const node = await startDevNode({ dev: false, datadir: join(dir, 'data'), args: ['--genesis', file] });
    try {
      const call = async (method: string, params: unknown[] = []) => (await rpc(node.url, { jsonrpc: '2.0', id: 1, method, params })).json.result;
      expect(await call('eth_chainId')).toBe('0x1092');
      expect(await call('eth_getBalance', [RICH, 'earliest'])).toBe('0xde0b6b3a7640000');
      expect(await call('eth_getTransactionCount', [RICH, 'latest'])).toBe('0x5');
      expect(await call('eth_getCode', [CONTRACT, 'latest'])).toBe('0x602a60005260206000f3');
      expect(BigInt(await call('eth_getStorageAt', [CONTRACT, '0x1', 'latest']))).toBe(7n);
      // without --dev nothing else is funded
      expect(await call('eth_getBalance', ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 'latest'])).toBe('0x0');
      const genesis = await call('eth_getBlockByNumber', ['0x0', false]);
      expect(genesis.gasLimit).toBe('0x2faf080');
      expect(genesis.baseFeePerGas).toBe('0x3b9aca00');
    } finally {
      await node.stop();
    }
  });

  it('refuses a datadir that holds a different chain, and a genesis that contradicts --chain-id', async () => {
    const node = await startDevNode({ blockTime: 1 });
    dirs.push(node.datadir);
    await node.stop();
    await expect(startDevNode({ datadir: node.datadir, args: ['--chain-id', '5'] })).rejects.toThrow(/datadir holds a different chain/);

    const dir = await mkdtemp(join(tmpdir(), 'ai-rollup-genesis-'));
    dirs.push(dir);
    const file = join(dir, 'genesis.json');
    await writeFile(file, JSON.stringify({ config: { chainId: 7 }, alloc: {} }));
    await expect(startDevNode({ datadir: join(dir, 'data'), args: ['--genesis', file, '--chain-id', '8'] })).rejects.toThrow(/differs from --chain-id 8/);
    await writeFile(file, JSON.stringify({ config: {}, alloc: 'nope' }));
    await expect(startDevNode({ datadir: join(dir, 'data2'), args: ['--genesis', file] })).rejects.toThrow(/invalid genesis file/);
  });
});
