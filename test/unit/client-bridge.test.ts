/**
 * The SDK's bridge hashes against the node's own code: the L2 hash of a deposit transaction
 * (the node's DepositTx) and a withdrawal's hash (the message passer's formula), over random
 * deposits including the edge values RLP treats specially (0, one byte, creations, empty data).
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, getAddress, keccak256, encodeAbiParameters } from 'viem';
import type { Address, Hex } from 'viem';
import { depositTransactionHash, withdrawalHash } from '../../client/bridge.ts';
import { depositToTx } from '../../node/rollup/l1-attributes.ts';
import { mulberry32 } from '../../precompiles/model/random.ts';

const rng = mulberry32(77);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.int(0, 255));
const address = (): Address => getAddress(bytesToHex(bytes(20)));
const amount = (): bigint => rng.pick([0n, 1n, 127n, 128n, 255n, 256n, 10n ** 18n, BigInt(rng.u32()) << BigInt(rng.int(0, 200))]);

describe('SDK bridge hashes', () => {
  it("a deposit's L2 transaction hash is the node's DepositTx hash (300 random deposits)", () => {
    for (let i = 0; i < 300; i++) {
      const d = {
        index: BigInt(i),
        from: address(),
        to: address(),
        mint: amount(),
        value: amount(),
        gasLimit: BigInt(rng.int(0, 30_000_000)),
        isCreation: rng.chance(0.2),
        data: bytesToHex(bytes(rng.pick([0, 1, 55, 56, 300]))) as Hex,
        depositHash: bytesToHex(bytes(32)) as Hex,
      };
      const node = depositToTx({ ...d, l1Block: 1n });
      expect(depositTransactionHash(d), `deposit ${i}`).toBe(bytesToHex(node.hash()));
    }
  });

  it("a withdrawal's hash is keccak256(abi.encode(nonce, sender, target, value, gasLimit, data))", () => {
    const w = { nonce: (1n << 240n) + 5n, sender: address(), target: address(), value: 10n ** 18n, gasLimit: 100_000n, data: '0x1234' as Hex };
    const expected = keccak256(
      encodeAbiParameters(
        [{ type: 'uint256' }, { type: 'address' }, { type: 'address' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'bytes' }],
        [w.nonce, w.sender, w.target, w.value, w.gasLimit, w.data],
      ),
    );
    expect(withdrawalHash(w)).toBe(expected);
  });
});
