import { randomBytes } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { describe, expect, it } from 'vitest';
import { keccakIsNative, nativeKeccak256 } from '../../node/chain/crypto.ts';

describe('nativeKeccak256', () => {
  it('matches noble keccak_256 at every length around the 136-byte rate, and on views into a larger buffer', () => {
    const big = new Uint8Array(randomBytes(2048));
    for (const len of [0, 1, 31, 32, 33, 135, 136, 137, 271, 272, 273, 532, 1500]) {
      const whole = big.slice(0, len);
      const view = big.subarray(7, 7 + len);
      expect(nativeKeccak256(whole)).toEqual(keccak_256(whole));
      expect(nativeKeccak256(view)).toEqual(keccak_256(view));
    }
  });

  it('uses the addon on this platform (the prebuilt linux-x64 binary), not the JS fallback', () => {
    expect(keccakIsNative).toBe(true);
  });

  it('returns a fresh plain Uint8Array (not a Buffer into a shared pool)', () => {
    const a = nativeKeccak256(Uint8Array.of(1));
    expect(Buffer.isBuffer(a)).toBe(false);
    expect(a.byteLength).toBe(32);
    expect(a.buffer.byteLength).toBe(32);
  });
});
