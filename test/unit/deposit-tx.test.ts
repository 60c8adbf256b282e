import { createBlock } from '@ethereumjs/block';
import { MerkleStateManager } from '@ethereumjs/statemanager';
import { createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx';
import { Account, bytesToHex, createAddressFromString, createContractAddress, hexToBytes, randomBytes } from '@ethereumjs/util';
import { describe, expect, it } from 'vitest';
import { createL2Common } from '../../node/chain/common.ts';
import { decodeBlock, decodeLogBlock, BlockDecodeError } from '../../node/chain/block-codec.ts';
import { executeDeposit } from '../../node/chain/deposit-exec.ts';
import { DepositTx, DepositTxError, decodeDepositTx } from '../../node/chain/deposit-tx.ts';
import { VmFactory } from '../../node/chain/vm-factory.ts';
import { BlockAssembler } from '../../node/rollup/block-assembler.ts';
import { DEV_KEYS } from '../helpers/dev-node.ts';

const common = createL2Common({ chainId: 1337n });
const FROM = createAddressFromString('0x' + 'aa'.repeat(20));
const TO = createAddressFromString('0x' + 'bb'.repeat(20));

function dep(over: Partial<ConstructorParameters<typeof DepositTx>[0]> = {}): DepositTx {
  return new DepositTx({ sourceHash: randomBytes(32), from: FROM, to: TO, mint: 10n ** 18n, value: 5n, gasLimit: 100_000n, isSystemTx: false, data: new Uint8Array(), ...over });
}

describe('deposit transactions (type 0x7E)', () => {
  it('encode and decode back to the same fields and hash, creation and system flags included', () => {
    for (const d of [dep(), dep({ to: undefined, data: Uint8Array.of(0x60, 0) }), dep({ isSystemTx: true, mint: 0n })]) {
      const back = decodeDepositTx(d.serialize());
      expect(back.equals(d)).toBe(true);
      expect(bytesToHex(back.hash())).toBe(bytesToHex(d.hash()));
      expect(back.to?.toString()).toBe(d.to?.toString());
      expect(back.isSystemTx).toBe(d.isSystemTx);
    }
  });

  it('refuses malformed encodings with a typed error', () => {
    const good = dep().serialize();
    const bad = [
      Uint8Array.of(0x02, ...good.subarray(1)), // another type
      Uint8Array.of(0x7e, 0xff), // not RLP
      Uint8Array.of(0x7e, 0xc0), // empty list
      good.subarray(0, good.length - 3), // truncated
    ];
    for (const b of bad) expect(() => decodeDepositTx(b)).toThrow(DepositTxError);
    expect(() => dep({ sourceHash: new Uint8Array(31) })).toThrow(DepositTxError);
  });

  it('blocks holding deposits and signed transactions decode to the same block hash', async () => {
    const vm = await new VmFactory({ common }, { getBlockHash: async () => undefined }).create(new MerkleStateManager({ common }));
    const signer = hexToBytes(DEV_KEYS[0]);
    const sender = createAddressFromString('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    const asm = await BlockAssembler.start(vm, { number: 1n, timestamp: 10n, gasLimit: 30_000_000n, baseFeePerGas: 7n });
    // the deposit funds the sender and takes its nonce 0
    await asm.addDeposit(dep({ from: sender, mint: 10n ** 18n, value: 0n }));
    await asm.add(createLegacyTx({ to: TO, value: 1n, gasLimit: 21_000n, gasPrice: 10n, nonce: 1n }, { common }).sign(signer));
    await asm.add(createFeeMarket1559Tx({ to: TO, gasLimit: 21_000n, maxFeePerGas: 10n, maxPriorityFeePerGas: 1n, nonce: 2n, chainId: 1337n }, { common }).sign(signer));
    const block = await asm.seal();
    const back = decodeBlock(block.serialize(), common);
    expect(bytesToHex(back.hash())).toBe(bytesToHex(block.hash()));
    expect(back.transactions.map((t) => t.type)).toEqual([0x7e, 0, 2]);
    expect(await back.transactionsTrieIsValid()).toBe(true);
    // what eth_getLogs reads of a stored block, without decoding it whole: the same hashes
    const light = decodeLogBlock(block.serialize(), block.hash());
    expect([light.number, light.timestamp]).toEqual([1n, 10n]);
    expect(block.transactions.map((_, i) => bytesToHex(light.txHash(i)))).toEqual(block.transactions.map((t) => bytesToHex(t.hash())));
    expect(() => light.txHash(3)).toThrow(BlockDecodeError);
    expect(() => decodeBlock(Uint8Array.of(0xc0), common)).toThrow(BlockDecodeError);
    expect(() => decodeBlock(block.serialize().subarray(0, 50), common)).toThrow(BlockDecodeError);
    // an empty body works as well
    expect(decodeBlock(createBlock({ header: { number: 2n } }, { common }).serialize(), common).transactions).toHaveLength(0);
  });
});

describe('deposit execution', () => {
  async function vmWith(code?: string) {
    const state = new MerkleStateManager({ common });
    if (code !== undefined) {
      await state.putAccount(TO, new Account(1n, 0n));
      await state.putCode(TO, hexToBytes(code as `0x${string}`));
    }
    const vm = await new VmFactory({ common }, { getBlockHash: async () => undefined }).create(state);
    const block = createBlock({ header: { number: 1n, timestamp: 1n, gasLimit: 30_000_000n, baseFeePerGas: 7n } }, { common });
    return { vm, block };
  }

  it('mints, bumps the nonce and pays no fee', async () => {
    const { vm, block } = await vmWith();
    const r = await executeDeposit(vm, dep(), block, 0n);
    expect(r.receipt.status).toBe(1);
    expect(r.gasUsed).toBe(21_000n);
    expect(r.nonce).toBe(0n);
    const from = await vm.stateManager.getAccount(FROM);
    expect(from?.balance).toBe(10n ** 18n - 5n);
    expect(from?.nonce).toBe(1n);
    expect((await vm.stateManager.getAccount(TO))?.balance).toBe(5n);
  });

  it('a call that reverts keeps the mint and the nonce, undoes the value, uses all its gas', async () => {
    const { vm, block } = await vmWith('0x60006000fd'); // REVERT(0, 0)
    const r = await executeDeposit(vm, dep(), block, 1_000n);
    expect(r.receipt.status).toBe(0);
    expect(r.gasUsed).toBe(100_000n);
    expect(r.receipt.cumulativeGasUsed).toBe(101_000n);
    const from = await vm.stateManager.getAccount(FROM);
    expect(from?.balance).toBe(10n ** 18n);
    expect(from?.nonce).toBe(1n);
  });

  it('a gas limit below the intrinsic gas fails but still mints', async () => {
    const { vm, block } = await vmWith();
    const r = await executeDeposit(vm, dep({ gasLimit: 20_000n }), block, 0n);
    expect(r.receipt.status).toBe(0);
    expect((await vm.stateManager.getAccount(FROM))?.balance).toBe(10n ** 18n);
  });

  it('a deposit without a target creates a contract at create(from, nonce)', async () => {
    const { vm, block } = await vmWith();
    // init code copying its last byte (0x00) out as the runtime code
    const r = await executeDeposit(vm, dep({ to: undefined, value: 0n, data: hexToBytes('0x6001600c60003960016000f300') }), block, 0n);
    expect(r.receipt.status).toBe(1);
    const created = createContractAddress(FROM, 0n);
    expect((await vm.stateManager.getCode(created)).length).toBe(1);
  });
});
