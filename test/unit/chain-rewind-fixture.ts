/** Chains for chain-rewind.test.ts, also run in a child process that is killed with -9. */
import { createFeeMarket1559Tx } from '@ethereumjs/tx';
import { createAddressFromString, hexToBytes } from '@ethereumjs/util';
import type { Block } from '@ethereumjs/block';
import pino from 'pino';
import { BlockAssembler } from '../../node/rollup/block-assembler.ts';
import { Chain } from '../../node/chain/chain.ts';
import { createL2Common } from '../../node/chain/common.ts';
import { devGenesis } from '../../node/chain/genesis.ts';
import { openKV } from '../../node/db/kv.ts';
import type { KV } from '../../node/db/kv.ts';

const KEY = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
const SENDER = createAddressFromString('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
const TO = createAddressFromString('0x' + 'bb'.repeat(20));

export function openChain(kv: KV): Promise<Chain> {
  const common = createL2Common({ chainId: 1337n });
  return Chain.open({ common, genesis: devGenesis(1337n, 30_000_000n) }, { kv, logger: pino({ level: 'silent' }) });
}

/** A block on the head with one transfer of `value` wei (so blocks at one height can differ). */
export async function buildChild(chain: Chain, value: bigint): Promise<Block> {
  const head = chain.head;
  const vm = await chain.builderVm(head.header.stateRoot);
  const nonce = (await vm.stateManager.getAccount(SENDER))?.nonce ?? 0n;
  const asm = await BlockAssembler.start(vm, {
    parentHash: head.hash(),
    number: head.header.number + 1n,
    timestamp: head.header.timestamp + 1n,
    gasLimit: 30_000_000n,
    baseFeePerGas: 7n,
  });
  await asm.add(
    createFeeMarket1559Tx({ to: TO, value, gasLimit: 21_000n, maxFeePerGas: 100n, maxPriorityFeePerGas: 1n, nonce, chainId: 1337n }, { common: chain.common }).sign(KEY),
  );
  const block = await asm.seal();
  await chain.commit(block, [SENDER], asm.receipts);
  return block;
}

/** Forever: extend by 3, rewind by 2; prints a line after each operation. */
export async function loopRewinds(path: string): Promise<never> {
  const chain = await openChain(await openKV(path));
  for (let i = 0n; ; i++) {
    for (let k = 0; k < 3; k++) await buildChild(chain, i + 1n);
    process.stdout.write(`extended ${chain.head.header.number}\n`);
    await chain.rewind(chain.head.header.number - 2n);
    process.stdout.write(`rewound ${chain.head.header.number}\n`);
  }
}
