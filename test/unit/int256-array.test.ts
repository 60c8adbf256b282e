import { encodeAbiParameters, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { encodeInt256Array } from '../../precompiles/int256-array.ts';
import { mulberry32 } from '../../precompiles/model/random.ts';

describe('encodeInt256Array', () => {
  it('writes the bytes viem writes for int256[], for random arrays and the int32 extremes', () => {
    const rng = mulberry32(7);
    const arrays: number[][] = [[], [0], [-1], [-(2 ** 31), 2 ** 31 - 1, -128, 127, 255]];
    for (let i = 0; i < 200; i++) arrays.push(Array.from({ length: rng.int(0, 300) }, () => rng.int(-(2 ** 31), 2 ** 31 - 1)));
    for (const a of arrays) expect(toHex(encodeInt256Array(a))).toBe(encodeAbiParameters([{ type: 'int256[]' }], [a.map(BigInt)]));
  });

  it('refuses what does not fit an int32 rather than encode it wrongly', () => {
    expect(() => encodeInt256Array([2 ** 31])).toThrow(RangeError);
    expect(() => encodeInt256Array([0.5])).toThrow(RangeError);
  });
});
