/**
 * Bridge actions, as viem's op-stack actions are for OP chains: deposits from L1 (ETH, or a call),
 * withdrawals out of L2 (initiate, wait until an output over them is final, finalize on L1), and
 * a status for both directions.
 *
 *   const l1 = createWalletClient({ chain: l1Chain, transport: http(l1Url), account }).extend(aiRollupL1Actions({ l2 }));
 *   const l2w = createWalletClient({ chain: devnetChain(), transport: http(), account }).extend(aiRollupActions());
 *   const { withdrawal } = await l2w.initiateWithdrawal({ to, value });
 *   await l1.waitForWithdrawalFinalizable({ withdrawal });   // the challenge window
 *   await l1.finalizeWithdrawal({ withdrawal });
 *
 * The L1 actions need the L2 node (`l2`: any client of it) for the Bridge's address
 * (rollup_getInfo), the output proofs (rollup_outputAtBlock) and the L2 side of a deposit.
 * Protocol: docs/protocol/deposits-withdrawals.md.
 */
import { concatHex, keccak256, parseEventLogs, toRlp } from 'viem';
import type { Account, Address, Chain, Client, Hex, TransactionReceipt, Transport } from 'viem';
import { getTransactionReceipt, readContract, simulateContract, waitForTransactionReceipt, writeContract } from 'viem/actions';
import { bridgeAbi, messagePasserAbi } from '../contracts/abi/rollup.ts';
import { MESSAGE_PASSER_ADDRESS } from '../contracts/predeploys.ts';
import { BridgeWaitError, decodeRevert } from './errors.ts';

type AnyClient = Client<Transport, Chain | undefined, Account | undefined>;

/** A withdrawal as the L2ToL1MessagePasser recorded it (the Bridge's WithdrawalTransaction). */
export interface Withdrawal {
  nonce: bigint;
  sender: Address;
  target: Address;
  value: bigint;
  gasLimit: bigint;
  data: Hex;
  withdrawalHash: Hex;
  /** The L2 block that initiated it. */
  blockNumber: bigint;
}

/** A deposit as the Bridge queued it, and the hash of the L2 transaction it becomes. */
export interface Deposit {
  index: bigint;
  from: Address;
  to: Address;
  mint: bigint;
  value: bigint;
  gasLimit: bigint;
  isCreation: boolean;
  data: Hex;
  depositHash: Hex;
  l2TransactionHash: Hex;
}

export type WithdrawalStatus = 'waiting-for-output' | 'ready-to-finalize' | 'finalized';

/** RLP's minimal big-endian integer: 0 is the empty string. */
function rlpInt(n: bigint): Hex {
  const h = n.toString(16);
  return n === 0n ? '0x' : `0x${h.length % 2 === 1 ? '0' : ''}${h}`;
}

async function rpc<T>(client: AnyClient, method: string, params: unknown[] = []): Promise<T> {
  return (await client.request({ method: method as never, params: params as never })) as T;
}

/**
 * Hash of the L2 deposit transaction (type 0x7E) a Bridge deposit becomes:
 * keccak256(0x7E || rlp([sourceHash, from, to, mint, value, gasLimit, isSystemTx, data])), the
 * source hash being the deposit's rolling hash (node/chain/deposit-tx.ts).
 */
export function depositTransactionHash(d: Omit<Deposit, 'l2TransactionHash' | 'index'>): Hex {
  const fields: Hex[] = [d.depositHash, d.from, d.isCreation ? '0x' : d.to, rlpInt(d.mint), rlpInt(d.value), rlpInt(d.gasLimit), '0x', d.data];
  return keccak256(concatHex(['0x7e', toRlp(fields)]));
}

export { withdrawalHash } from '../contracts/abi/withdrawals.ts';

function depositsOf(receipt: TransactionReceipt): Deposit[] {
  return parseEventLogs({ abi: bridgeAbi, logs: receipt.logs, eventName: 'DepositQueued' }).map(({ args: a }) => {
    const d = { from: a.from, to: a.to, mint: a.mint, value: a.value, gasLimit: a.gasLimit, isCreation: a.isCreation, data: a.data, depositHash: a.depositHash };
    return { ...d, index: a.index, l2TransactionHash: depositTransactionHash(d) };
  });
}

interface WaitOptions {
  timeoutMs?: number;
  pollingIntervalMs?: number;
}

async function poll<T>(what: string, f: () => Promise<T | undefined>, { timeoutMs = 600_000, pollingIntervalMs = 2_000 }: WaitOptions): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() + pollingIntervalMs > end) throw new BridgeWaitError('TIMEOUT', `${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollingIntervalMs));
  }
}

/** L2 actions of the bridge (added to aiRollupActions): initiating a withdrawal, following a deposit. */
export function l2BridgeActions(client: AnyClient) {
  return {
    /** Sends ETH (and optionally a call) to `to` on L1: the L2 half of a withdrawal. Resolves once mined. */
    initiateWithdrawal: async ({ to, value = 0n, gasLimit = 100_000n, data = '0x' }: { to: Address; value?: bigint; gasLimit?: bigint; data?: Hex }) => {
      if (client.account === undefined) throw new Error('initiateWithdrawal needs a client with an account');
      const { request } = await simulateContract(client, {
        account: client.account,
        chain: client.chain,
        address: MESSAGE_PASSER_ADDRESS,
        abi: messagePasserAbi,
        functionName: 'initiateWithdrawal',
        args: [to, gasLimit, data],
        value,
      }).catch(decodeRevert);
      const transactionHash = await writeContract(client, request as never);
      const receipt = await waitForTransactionReceipt(client, { hash: transactionHash });
      if (receipt.status !== 'success') throw new Error(`initiateWithdrawal ${transactionHash} reverted`);
      const a = parseEventLogs({ abi: messagePasserAbi, logs: receipt.logs, eventName: 'MessagePassed' })[0]!.args;
      const withdrawal: Withdrawal = {
        nonce: a.nonce,
        sender: a.sender,
        target: a.target,
        value: a.value,
        gasLimit: a.gasLimit,
        data: a.data,
        withdrawalHash: a.withdrawalHash,
        blockNumber: receipt.blockNumber,
      };
      return { transactionHash, withdrawal };
    },

    /** The L2 receipt of a deposit once the sequencer included it (it mints before it calls: a failed call still mints). */
    waitForDeposit: ({ deposit, ...wait }: { deposit: Pick<Deposit, 'l2TransactionHash'> } & WaitOptions) =>
      poll(`deposit ${deposit.l2TransactionHash} on L2`, () => getTransactionReceipt(client, { hash: deposit.l2TransactionHash }).catch(() => undefined), wait),
  };
}

interface OutputAtBlock {
  blockNumber: string;
  outputRootProof: { version: Hex; stateRoot: Hex; messagePasserStorageRoot: Hex; blockHash: Hex };
  l1Output: { index: string; finalized: boolean; matches: boolean } | null;
  withdrawalProofs: { withdrawalHash: Hex; value: string; proof: Hex[] }[];
}

/** L1 actions of the bridge: `l1Client.extend(aiRollupL1Actions({ l2 }))`, `l2` a client of the rollup's node. */
export function aiRollupL1Actions({ l2, bridge }: { l2: AnyClient; bridge?: Address }) {
  let bridgeAddress: Promise<Address> | undefined = bridge === undefined ? undefined : Promise.resolve(bridge);
  const bridgeOf = () => (bridgeAddress ??= rpc<{ l1Contracts: { bridge: Address } }>(l2, 'rollup_getInfo').then((i) => i.l1Contracts.bridge));

  /** A final output over the withdrawal's block, with the storage proof of its hash; undefined before. */
  const finalProof = async (w: Withdrawal): Promise<{ out: OutputAtBlock; index: bigint } | undefined> => {
    const s = await rpc<{ finalized: { number: string } }>(l2, 'rollup_syncStatus');
    if (BigInt(s.finalized.number) < w.blockNumber) return undefined;
    const out = await rpc<OutputAtBlock>(l2, 'rollup_outputAtBlock', [s.finalized.number, [w.withdrawalHash]]);
    if (out.l1Output === null || !out.l1Output.finalized || !out.l1Output.matches) return undefined;
    return { out, index: BigInt(out.l1Output.index) };
  };

  return (client: AnyClient) => {
    const send = async (functionName: 'depositETH' | 'depositTransaction', args: readonly unknown[], value: bigint) => {
      if (client.account === undefined) throw new Error(`${functionName} needs an L1 client with an account`);
      const { request } = await simulateContract(client, {
        account: client.account,
        chain: client.chain,
        address: await bridgeOf(),
        abi: bridgeAbi,
        functionName,
        args: args as never,
        value,
      }).catch(decodeRevert);
      const transactionHash = await writeContract(client, request as never);
      const receipt = await waitForTransactionReceipt(client, { hash: transactionHash });
      if (receipt.status !== 'success') throw new Error(`${functionName} ${transactionHash} reverted`);
      return { transactionHash, deposit: depositsOf(receipt)[0]! };
    };
    const status = async (w: Withdrawal): Promise<WithdrawalStatus> => {
      const done = await readContract(client, { address: await bridgeOf(), abi: bridgeAbi, functionName: 'finalizedWithdrawals', args: [w.withdrawalHash] });
      if (done) return 'finalized';
      return (await finalProof(w)) === undefined ? 'waiting-for-output' : 'ready-to-finalize';
    };
    return {
      /** The Bridge's address on L1 (from the L2 node's rollup_getInfo unless given). */
      getBridgeAddress: bridgeOf,

      /** Deposits `value` wei to `to` (default: the sender) on L2. `gasLimit` is L2 gas bought on L1 (default 100,000). */
      depositETH: ({ to, value, gasLimit = 100_000n, data = '0x' }: { to?: Address; value: bigint; gasLimit?: bigint; data?: Hex }) =>
        send('depositETH', [to ?? client.account?.address, gasLimit, data], value),

      /** A call from L1 into L2: `mint` wei arrive with it (msg.value on L1), `value` is passed to `to`; `isCreation` deploys `data`. */
      depositTransaction: ({
        to,
        mint = 0n,
        value = 0n,
        gasLimit,
        data = '0x',
        isCreation = false,
      }: {
        to: Address;
        mint?: bigint;
        value?: bigint;
        gasLimit: bigint;
        data?: Hex;
        isCreation?: boolean;
      }) => send('depositTransaction', [to, value, gasLimit, isCreation, data], mint),

      /** The deposits an L1 transaction queued, each with the hash of its L2 transaction. */
      getDeposits: async ({ hash }: { hash: Hex }) => depositsOf(await getTransactionReceipt(client, { hash })),

      /** 'pending' until the sequencer included it on L2, then 'included' with its L2 receipt. */
      getDepositStatus: async ({ deposit }: { deposit: Pick<Deposit, 'l2TransactionHash'> }) => {
        const receipt = await getTransactionReceipt(l2, { hash: deposit.l2TransactionHash }).catch(() => undefined);
        return receipt === undefined ? ({ status: 'pending' } as const) : ({ status: 'included', receipt } as const);
      },

      getWithdrawalStatus: ({ withdrawal }: { withdrawal: Withdrawal }) => status(withdrawal),

      /** Resolves once an output over the withdrawal is final on L1 (the challenge window has passed). */
      waitForWithdrawalFinalizable: ({ withdrawal, ...wait }: { withdrawal: Withdrawal } & WaitOptions) =>
        poll(
          `withdrawal ${withdrawal.withdrawalHash}: a final output over L2 block ${withdrawal.blockNumber}`,
          async () => ((await status(withdrawal)) === 'waiting-for-output' ? undefined : true),
          wait,
        ),

      /** Proves the withdrawal against a final output and executes it on L1; throws BridgeWaitError('NOT_FINALIZABLE') before. */
      finalizeWithdrawal: async ({ withdrawal }: { withdrawal: Withdrawal }) => {
        if (client.account === undefined) throw new Error('finalizeWithdrawal needs an L1 client with an account');
        const p = await finalProof(withdrawal);
        if (p === undefined) throw new BridgeWaitError('NOT_FINALIZABLE', `withdrawal ${withdrawal.withdrawalHash}: no final output over L2 block ${withdrawal.blockNumber} yet`);
        const proof = p.out.withdrawalProofs[0]!;
        if (BigInt(proof.value) !== 1n)
          throw new BridgeWaitError('UNKNOWN_WITHDRAWAL', `withdrawal ${withdrawal.withdrawalHash} is not in the message passer at L2 block ${BigInt(p.out.blockNumber)}`);
        const w = { nonce: withdrawal.nonce, sender: withdrawal.sender, target: withdrawal.target, value: withdrawal.value, gasLimit: withdrawal.gasLimit, data: withdrawal.data };
        const { request } = await simulateContract(client, {
          account: client.account,
          chain: client.chain,
          address: await bridgeOf(),
          abi: bridgeAbi,
          functionName: 'finalizeWithdrawal',
          args: [w, p.index, p.out.outputRootProof, proof.proof],
        }).catch(decodeRevert);
        const transactionHash = await writeContract(client, request as never);
        const receipt = await waitForTransactionReceipt(client, { hash: transactionHash });
        if (receipt.status !== 'success') throw new Error(`finalizeWithdrawal ${transactionHash} reverted`);
        return { transactionHash, receipt };
      },
    };
  };
}
