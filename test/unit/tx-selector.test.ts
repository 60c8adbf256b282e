import { describe, expect, it } from 'vitest';
import { createAddressFromString } from '@ethereumjs/util';
import type { TypedTransaction } from '@ethereumjs/tx';
import { BlockTxSelector } from '../../sequencer/tx-selector.ts';
import type { PoolTx } from '../../node/txpool/pool-tx.ts';

let seq = 0;
function ptx(sender: string, nonce: bigint, maxFee: bigint, maxTip: bigint): PoolTx {
  const addr = createAddressFromString(sender);
  return { tx: {} as TypedTransaction, sender: addr, senderHex: addr.toString(), hash: `${sender}-${nonce}`, nonce, maxFee, maxTip, size: 100, seq: seq++ };
}

const A = '0x00000000000000000000000000000000000000aa';
const B = '0x00000000000000000000000000000000000000bb';
const C = '0x00000000000000000000000000000000000000cc';

function drain(sel: BlockTxSelector): string[] {
  const out: string[] = [];
  for (let p = sel.peek(); p !== undefined; p = sel.peek()) {
    out.push(p.hash);
    sel.shift();
  }
  return out;
}

describe('BlockTxSelector', () => {
  it('orders by effective tip across senders and by nonce within one', () => {
    const txs = [ptx(A, 0n, 100n, 5n), ptx(A, 1n, 100n, 50n), ptx(B, 0n, 100n, 10n), ptx(C, 7n, 100n, 1n)];
    const next = (p: PoolTx) => txs.find((t) => t.senderHex === p.senderHex && t.nonce === p.nonce + 1n);
    const sel = new BlockTxSelector([txs[0]!, txs[2]!, txs[3]!], 10n, next);
    // B pays 10, A's first pays 5 (its second pays more but must wait for nonce 0), C pays 1
    expect(drain(sel)).toEqual([`${B}-0`, `${A}-0`, `${A}-1`, `${C}-7`]);
  });

  it('caps the tip at fee cap minus base fee and leaves out what cannot pay the base fee', () => {
    const rich = ptx(A, 0n, 1000n, 20n); // effective tip 20
    const capped = ptx(B, 0n, 105n, 50n); // effective tip 5 at base fee 100
    const broke = ptx(C, 0n, 99n, 99n); // below the base fee
    const sel = new BlockTxSelector([capped, broke, rich], 100n, () => undefined);
    expect(drain(sel)).toEqual([rich.hash, capped.hash]);
  });

  it('pop() skips the rest of a sender; equal tips keep arrival order', () => {
    const a0 = ptx(A, 0n, 100n, 3n);
    const a1 = ptx(A, 1n, 100n, 3n);
    const b0 = ptx(B, 0n, 100n, 3n);
    const sel = new BlockTxSelector([a0, b0], 0n, (p) => (p === a0 ? a1 : undefined));
    expect(sel.peek()).toBe(a0);
    sel.pop();
    expect(drain(sel)).toEqual([b0.hash]);
  });
});
