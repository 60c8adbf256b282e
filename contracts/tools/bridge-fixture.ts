/**
 * Generates contracts/test/foundry/fixtures/BridgeFixture.sol for the Bridge's Foundry tests:
 * deposit hashes computed here with viem (an implementation independent of the Solidity one),
 * and real withdrawals with their storage proofs. The withdrawals are made by running the
 * committed L2ToL1MessagePasser runtime code in @ethereumjs/vm, and the proofs are what
 * eth_getProof would answer for its storage; an independent secure trie built with
 * @ethereumjs/mpt from the documented slots (keccak256(abi.encode(withdrawalHash, 0)) -> RLP(1))
 * must reach the same root, so the fixture also pins the storage layout the Bridge relies on.
 * Written by `npm run contracts:build`; a vitest test checks the committed file is current.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Common, Hardfork, Mainnet } from '@ethereumjs/common';
import { createMPT, createMerkleProof } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { getMerkleStateProof, MerkleStateManager } from '@ethereumjs/statemanager';
import { Account, bytesToHex, createAddressFromString, equalsBytes, hexToBytes } from '@ethereumjs/util';
import { createVM } from '@ethereumjs/vm';
import { encodeAbiParameters, encodeFunctionData, getAddress, keccak256, pad, parseEther, toHex, type Address, type Hex } from 'viem';
import { CONTRACTS_DIR } from '../compile.ts';
import { MESSAGE_PASSER_ADDRESS, loadArtifact } from '../predeploys.ts';
import { withdrawalHash, withdrawalSlot as slotOf } from '../abi/withdrawals.ts';

export const FIXTURE_PATH = join(CONTRACTS_DIR, 'test/foundry/fixtures/BridgeFixture.sol');

// Fixed L1 addresses the tests put code at (vm.etch) or check balances of (lower case: viem
// refuses a mixed-case address with a wrong checksum; the Solidity output is checksummed).
const PAYEE: Address = '0x000000000000000000000000000000000000beef';
const RECEIVER: Address = '0x00000000000000000000000000000000000c0de1';
const TOGGLE: Address = '0x00000000000000000000000000000000000c0de2';
const ALICE: Address = '0x00000000000000000000000000000000000a11ce';
const BOB: Address = '0x0000000000000000000000000000000000000b0b';

interface Withdrawal {
  name: string;
  doc: string;
  nonce: bigint;
  sender: Address;
  target: Address;
  value: bigint;
  gasLimit: bigint;
  data: Hex;
}

/** The named withdrawals the tests finalize, in the order they are sent (so their nonces). */
const NAMED: Omit<Withdrawal, 'nonce'>[] = [
  { name: 'pay', doc: 'ALICE withdraws 1 ether to PAYEE (no code)', sender: ALICE, target: PAYEE, value: parseEther('1'), gasLimit: 100_000n, data: '0x' },
  {
    name: 'callReceiver',
    doc: 'BOB withdraws 0.5 ether to RECEIVER calling onWithdrawal(42)',
    sender: BOB,
    target: RECEIVER,
    value: parseEther('0.5'),
    gasLimit: 200_000n,
    data: encodeFunctionData({ abi: [{ type: 'function', name: 'onWithdrawal', inputs: [{ type: 'uint256' }], outputs: [], stateMutability: 'payable' }], args: [42n] }),
  },
  {
    name: 'toggle',
    doc: 'ALICE withdraws 0.25 ether to TOGGLE, which reverts until switched on',
    sender: ALICE,
    target: TOGGLE,
    value: parseEther('0.25'),
    gasLimit: 100_000n,
    data: '0x',
  },
  { name: 'heavy', doc: 'BOB withdraws 1 wei to PAYEE with a 5,000,000 gas limit', sender: BOB, target: PAYEE, value: 1n, gasLimit: 5_000_000n, data: '0x' },
];
/** Other withdrawals in the same trie, so the proofs go through branch nodes. */
const FILLERS = 28;

const passerAbi = loadArtifact('L2ToL1MessagePasser').abi;

interface Fixture {
  stateRoot: Hex;
  storageRoot: Hex;
  named: { w: Withdrawal; proof: Hex[] }[];
}

async function generate(): Promise<Fixture> {
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun });
  const sm = new MerkleStateManager({ common });
  const vm = await createVM({ common, stateManager: sm });
  const passer = createAddressFromString(MESSAGE_PASSER_ADDRESS);
  await sm.putAccount(passer, new Account(0n, 0n));
  await sm.putCode(passer, hexToBytes(loadArtifact('L2ToL1MessagePasser').deployedBytecode));

  const plan: Omit<Withdrawal, 'nonce'>[] = [...NAMED];
  for (let i = 0; i < FILLERS; i++) {
    const n = BigInt(i + 1);
    const target = `0x${(0xf111e4n * 0x10000n + n).toString(16).padStart(40, '0')}` as Address;
    plan.push({
      name: `filler${i}`,
      doc: '',
      sender: i % 2 === 0 ? ALICE : BOB,
      target,
      value: n * 1000n,
      gasLimit: 50_000n + n,
      data: i % 3 === 0 ? '0x' : `0x${'ab'.repeat(i)}`,
    });
  }
  for (const sender of [ALICE, BOB]) await sm.putAccount(createAddressFromString(sender), new Account(0n, parseEther('100')));
  const withdrawals: Withdrawal[] = [];
  for (const [i, p] of plan.entries()) {
    const caller = createAddressFromString(p.sender);
    const data = encodeFunctionData({ abi: passerAbi, functionName: 'initiateWithdrawal', args: [p.target, p.gasLimit, p.data] });
    const res = await vm.evm.runCall({ caller, origin: caller, to: passer, value: p.value, data: hexToBytes(data), gasLimit: 1_000_000n });
    if (res.execResult.exceptionError !== undefined) throw new Error(`initiateWithdrawal ${p.name} failed: ${res.execResult.exceptionError.error}`);
    withdrawals.push({ ...p, nonce: BigInt(i) });
  }

  const slots = withdrawals.map((w) => hexToBytes(slotOf(withdrawalHash(w))));
  const proof = await getMerkleStateProof(sm, passer, slots);
  const stateRoot = bytesToHex(await sm.getStateRoot());

  // The same storage trie built independently from the documented layout.
  const trie = await createMPT({ useKeyHashing: true });
  for (const slot of slots) await trie.put(slot, RLP.encode(1));
  await trie.put(hexToBytes(pad(toHex(1), { size: 32 })), RLP.encode(withdrawals.length)); // slot 1: messageNonce
  if (!equalsBytes(trie.root(), hexToBytes(proof.storageHash))) {
    throw new Error(`message passer storage root ${proof.storageHash} differs from the documented layout's ${bytesToHex(trie.root())}`);
  }
  const named = NAMED.map((_, i) => {
    const sp = proof.storageProof[i]!;
    if (sp.value !== '0x01') throw new Error(`slot of ${withdrawals[i]!.name} holds ${sp.value}, not 1`);
    return { w: withdrawals[i]!, proof: sp.proof };
  });
  // the proofs the independent trie makes are the ones the state manager gave
  for (const [i, n] of named.entries()) {
    const own = (await createMerkleProof(trie, slots[i]!)).map((b) => bytesToHex(b));
    if (own.join() !== n.proof.join()) throw new Error(`proof of ${n.w.name} differs between the state manager and the trie`);
  }
  return { stateRoot, storageRoot: proof.storageHash, named };
}

function solidity(f: Fixture): string {
  const fns = f.named
    .map(({ w, proof }) => {
      const items = proof.map((p, i) => `        proof[${i}] = hex"${p.slice(2)}";`).join('\n');
      return `    /// @notice ${w.doc} (nonce ${w.nonce})
    function ${w.name}() internal pure returns (IBridge.WithdrawalTransaction memory w, bytes[] memory proof) {
        w = IBridge.WithdrawalTransaction({
            nonce: ${w.nonce},
            sender: ${getAddress(w.sender)},
            target: ${getAddress(w.target)},
            value: ${w.value},
            gasLimit: ${w.gasLimit},
            data: hex"${w.data.slice(2)}"
        });
        proof = new bytes[](${proof.length});
${items}
    }`;
    })
    .join('\n\n');
  return `// SPDX-License-Identifier: MIT
// GENERATED by contracts/tools/bridge-fixture.ts (npm run contracts:build): do not edit.
pragma solidity ^0.8.24;

import { IBridge } from "../../../interfaces/IBridge.sol";

/// @notice Withdrawals made by the real L2ToL1MessagePasser code, with storage proofs of their
/// sentMessages slots against the message passer's storage root (${FILLERS + NAMED.length} withdrawals in the trie).
library WithdrawalFixture {
    address internal constant PAYEE = ${getAddress(PAYEE)};
    address internal constant RECEIVER = ${getAddress(RECEIVER)};
    address internal constant TOGGLE = ${getAddress(TOGGLE)};
    address internal constant ALICE = ${getAddress(ALICE)};
    address internal constant BOB = ${getAddress(BOB)};

    /// @notice L2 state root after the withdrawals (state: the message passer, ALICE, BOB)
    bytes32 internal constant STATE_ROOT = ${f.stateRoot};
    /// @notice storage root of the message passer
    bytes32 internal constant STORAGE_ROOT = ${f.storageRoot};

${fns}
}
`;
}

// Two fixed deposits: an EOA's depositETH, then a contract's creation (its alias wraps at 2^160).
const DEP_EOA: Address = '0x0000000000000000000000000000000000000e0a';
const DEP_TO: Address = '0x00000000000000000000000000000000000000d0';
const DEP_CONTRACT: Address = '0xfffffffffffffffffffffffffffffffffffff000';
const DEP_DATA: Hex = '0x6080604052348015600e575f80fd5b50';
const ALIAS_OFFSET = 0x1111000000000000000000000000000000001111n;

function depositHash(prev: Hex, index: bigint, from: Address, to: Address, mint: bigint, value: bigint, gasLimit: bigint, isCreation: boolean, data: Hex): Hex {
  const types = ['bytes32', 'uint256', 'address', 'address', 'uint256', 'uint256', 'uint64', 'bool', 'bytes32'].map((type) => ({ type }));
  return keccak256(encodeAbiParameters(types, [prev, index, from, to, mint, value, gasLimit, isCreation, keccak256(data)]));
}

function depositVectors(): string {
  const aliased = getAddress(pad(toHex((BigInt(DEP_CONTRACT) + ALIAS_OFFSET) % 2n ** 160n), { size: 20 }));
  const h1 = depositHash(pad('0x', { size: 32 }), 0n, DEP_EOA, DEP_TO, parseEther('1'), parseEther('1'), 100_000n, false, '0x');
  const h2 = depositHash(h1, 1n, aliased, '0x0000000000000000000000000000000000000000', 2n, 5n, 300_000n, true, DEP_DATA);
  return `/// @notice Deposit hashes computed with viem: EOA.depositETH{value: 1 ether}(TO, 100_000, ""), then
/// CONTRACT (called from EOA, so aliased to ${aliased}).depositTransaction{value: 2}(0, 5, 300_000, true, DATA).
library DepositVectors {
    address internal constant EOA = ${getAddress(DEP_EOA)};
    address internal constant TO = ${getAddress(DEP_TO)};
    address internal constant CONTRACT = ${getAddress(DEP_CONTRACT)};
    bytes internal constant DATA = hex"${DEP_DATA.slice(2)}";
    bytes32 internal constant HASH_1 = ${h1};
    bytes32 internal constant HASH_2 = ${h2};
}
`;
}

export async function bridgeFixtureSource(): Promise<string> {
  return `${solidity(await generate())}\n${depositVectors()}`;
}

export async function writeBridgeFixture(): Promise<string> {
  await writeFile(FIXTURE_PATH, await bridgeFixtureSource());
  return `wrote ${FIXTURE_PATH}`;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${await writeBridgeFixture()}\n`);
