import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { method } from '../../node/rpc/method.ts';

describe('positional params', () => {
  const m = method([z.string(), z.number().optional().default(7), z.string().nullable().optional()], (args) => args);

  it('take a JSON null in an optional position as the argument left out, as geth does', () => {
    expect(m.parse(['a', null])).toEqual(['a', 7, undefined]);
    expect(m.parse(['a'])).toEqual(['a', 7, undefined]);
  });

  it('keep a null the schema itself accepts, and refuse one in a required position', () => {
    expect(m.parse(['a', 1, null])).toEqual(['a', 1, null]);
    expect(() => m.parse([null])).toThrow(/invalid argument 0/);
    expect(() => m.parse(['a', 'x'])).toThrow(/invalid argument 1/);
  });
});
