/**
 * IL2ToL1MessagePasser's record of a withdrawal, as the L1 Bridge proves it:
 * withdrawalHash = keccak256(abi.encode(nonce, sender, target, value, gasLimit, data)), stored at
 * sentMessages[withdrawalHash], i.e. the slot keccak256(abi.encode(withdrawalHash, 0)).
 */
import { encodeAbiParameters, keccak256 } from 'viem';
import type { Address, Hex } from 'viem';

export interface WithdrawalFields {
  nonce: bigint;
  sender: Address;
  target: Address;
  value: bigint;
  gasLimit: bigint;
  data: Hex;
}

export function withdrawalHash(w: WithdrawalFields): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'uint256' }, { type: 'address' }, { type: 'address' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'bytes' }],
      [w.nonce, w.sender, w.target, w.value, w.gasLimit, w.data],
    ),
  );
}

/** The storage slot of sentMessages[withdrawalHash] in the message passer (mapping at slot 0). */
export function withdrawalSlot(hash: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [hash, 0n]));
}
