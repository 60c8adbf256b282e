/**
 * prestateTracer on what the anvil comparison (test/e2e/trace-call.test.ts) does not hold: a block
 * with a deposit, which anvil has no notion of, replayed by traceBlock; EIP-7702 authorities and
 * delegates; and the cap on the code an answer carries. A real Chain on LevelDB, one block: a
 * deposit minting to a fresh account and passing the value on, a deployment, a set-code
 * transaction delegating an account to the deployed code, and a call to that account.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEOACode7702Tx, createFeeMarket1559Tx } from '@ethereumjs/tx';
import { bytesToHex, concatBytes, createAddressFromString, createContractAddress, eoaCode7702SignAuthorization, hexToBytes } from '@ethereumjs/util';
import pino from 'pino';
import { keccak256 } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { Chain } from '../../node/chain/chain.ts';
import { createL2Common } from '../../node/chain/common.ts';
import { DepositTx } from '../../node/chain/deposit-tx.ts';
import { devGenesis } from '../../node/chain/genesis.ts';
import { openKV } from '../../node/db/kv.ts';
import { BlockAssembler } from '../../node/rollup/block-assembler.ts';
import { PrestateTracer, TraceTooLargeError } from '../../node/trace/prestate-tracer.ts';
import { traceBlock } from '../../node/trace/replay.ts';

const KEY = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
const SENDER = createAddressFromString('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
const DEPOSITOR = createAddressFromString(`0x${'cc'.repeat(20)}`);
const RECIPIENT = `0x${'dd'.repeat(20)}`;
/** The second dev account, which delegates its code to the deployed contract. */
const AUTHORITY_KEY = hexToBytes('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const AUTHORITY = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';
const common = createL2Common({ chainId: 1337n });
/** 32 bytes of runtime code (STOP, then filler), returned by an initcode that copies them from its own tail. */
const RUNTIME = concatBytes(new Uint8Array(1), new Uint8Array(31).fill(0xfe));
const INITCODE = concatBytes(hexToBytes('0x602080600b6000396000f3'), RUNTIME);

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function chainWithBlock() {
  const dir = await mkdtemp(join(tmpdir(), 'prestate-'));
  dirs.push(dir);
  const kv = await openKV(join(dir, 'chaindata'));
  const chain = await Chain.open({ common, genesis: devGenesis(1337n, 30_000_000n) }, { kv, logger: pino({ level: 'silent' }) });
  const head = chain.head;
  const asm = await BlockAssembler.start(await chain.builderVm(head.header.stateRoot), {
    parentHash: head.hash(),
    number: 1n,
    timestamp: head.header.timestamp + 1n,
    gasLimit: 30_000_000n,
    baseFeePerGas: 7n,
  });
  const to = createAddressFromString(RECIPIENT);
  await asm.addDeposit(
    new DepositTx({ sourceHash: new Uint8Array(32).fill(7), from: DEPOSITOR, to, mint: 5n, value: 5n, gasLimit: 100_000n, isSystemTx: false, data: new Uint8Array() }),
  );
  const fees = { gasLimit: 200_000n, maxFeePerGas: 100n, maxPriorityFeePerGas: 1n, chainId: 1337n };
  await asm.add(createFeeMarket1559Tx({ ...fees, data: INITCODE, nonce: 0n }, { common }).sign(KEY));
  const delegate = createContractAddress(SENDER, 0n).toString();
  const authorization = eoaCode7702SignAuthorization({ chainId: '0x539', address: delegate as `0x${string}`, nonce: '0x0' }, AUTHORITY_KEY);
  const authority = createAddressFromString(AUTHORITY);
  await asm.add(createEOACode7702Tx({ ...fees, to: authority, nonce: 1n, authorizationList: [authorization] }, { common }).sign(KEY));
  await asm.add(createFeeMarket1559Tx({ ...fees, to: authority, nonce: 2n }, { common }).sign(KEY));
  const block = await asm.seal();
  await chain.commit(block, [DEPOSITOR, SENDER, SENDER, SENDER], asm.receipts);
  return { chain, kv, block };
}

describe('prestateTracer', () => {
  it('traces a deposit (minted, passed on, no fee), a deployment, an EIP-7702 authority and delegate; refuses an answer with more code than its cap', async () => {
    const { chain, kv, block } = await chainWithBlock();
    const created = createContractAddress(SENDER, 0n).toString();
    const [deposit, deployment, setCode] = await traceBlock(chain, block, () => new PrestateTracer({ diffMode: true }));
    // the depositor and the recipient did not exist before: only `post` has them; the coinbase got no fee
    expect(deposit!.result).toEqual({ post: { [DEPOSITOR.toString()]: { nonce: 1 }, [RECIPIENT]: { balance: '0x5' } }, pre: {} });
    const diff = deployment!.result as { pre: Record<string, unknown>; post: Record<string, unknown> };
    expect(diff.post[created]).toEqual({ code: bytesToHex(RUNTIME), codeHash: keccak256(RUNTIME), nonce: 1 });
    expect(Object.keys(diff.pre)).not.toContain(created);
    expect(diff.pre[SENDER.toString()]).toMatchObject({ balance: expect.stringMatching(/^0x/) });

    // the authority is touched, and gets its delegation designator: 0xef0100 || the delegate
    const designator = `0xef0100${created.slice(2)}` as const;
    expect((setCode!.result as { post: Record<string, unknown> }).post[AUTHORITY]).toEqual({ code: designator, codeHash: keccak256(designator), nonce: 1 });

    const plain = await traceBlock(chain, block, () => new PrestateTracer());
    expect(plain[0]!.result).toEqual({});
    expect(plain[1]!.result).toEqual({ [SENDER.toString()]: { balance: (diff.pre[SENDER.toString()] as { balance: string }).balance } });
    expect(Object.keys(plain[2]!.result)).toContain(AUTHORITY);
    // a call to a delegated account runs, so touches, its delegate's code
    const called = plain[3]!.result as Record<string, { code?: string }>;
    expect([called[AUTHORITY]?.code, called[created]?.code]).toEqual([designator, bytesToHex(RUNTIME)]);

    const capped = traceBlock(chain, block, () => new PrestateTracer({ diffMode: true }, 31), undefined, new Set([1]));
    await expect(capped).rejects.toBeInstanceOf(TraceTooLargeError);
    const withoutCode = await traceBlock(chain, block, () => new PrestateTracer({ diffMode: true, disableCode: true }, 31), undefined, new Set([1]));
    expect((withoutCode[0]!.result as { post: Record<string, unknown> }).post[created]).toEqual({ codeHash: keccak256(RUNTIME), nonce: 1 });
    await kv.close();
  });
});
