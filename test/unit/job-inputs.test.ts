import { describe, expect, it } from 'vitest';
import { JobInputs } from '../../node/ai/job-inputs.ts';

const limits = { maxEntries: 2, maxBytes: 10, maxRetainedEntries: 3, maxRetainedBytes: 8 };
const bytes = (n: number, v = 1) => Array.from({ length: n }, () => v);

describe('job inputs: open requests, then fulfilled ones kept for the inference poster', () => {
  it('a fulfilled input stays readable outside the open limits until released', () => {
    const s = new JobInputs(limits);
    expect(s.put(1n, bytes(4, 7))).toBe(true);
    expect(s.put(2n, bytes(4))).toBe(true);
    expect(s.put(3n, bytes(1))).toBe(false); // open store full: refused, never evicted
    s.close(1n);
    expect(s.get(1n)).toEqual(bytes(4, 7));
    expect([s.size, s.retainedSize]).toEqual([1, 1]);
    expect(s.put(3n, bytes(4))).toBe(true); // the retained input no longer counts against the open limits
    s.release([1n, 99n]);
    expect(s.get(1n)).toBeUndefined();
    expect(s.retainedSize).toBe(0);
  });

  it('the retained area evicts its oldest entries (count and bytes) instead of refusing', () => {
    const s = new JobInputs({ ...limits, maxEntries: 10, maxBytes: 100 });
    for (const id of [1n, 2n, 3n, 4n]) {
      s.put(id, bytes(2));
      s.close(id);
    }
    expect([1n, 2n, 3n, 4n].map((id) => s.get(id) !== undefined)).toEqual([false, true, true, true]);
    s.put(5n, bytes(4));
    s.close(5n); // one entry too many again (and 10 bytes > 8): 2 goes
    expect([2n, 3n, 4n, 5n].map((id) => s.get(id) !== undefined)).toEqual([false, true, true, true]);
    s.put(6n, bytes(9));
    s.close(6n); // larger than the whole area: not kept, nothing else evicted for it
    expect(s.get(6n)).toBeUndefined();
    expect(s.retainedSize).toBe(3);
  });

  it('delete forgets an input wherever it is; closing an unknown id does nothing', () => {
    const s = new JobInputs(limits);
    s.put(1n, bytes(2));
    s.put(2n, bytes(2));
    s.close(2n);
    s.close(7n);
    s.delete(1n);
    s.delete(2n);
    expect([s.size, s.retainedSize, s.get(1n), s.get(2n)]).toEqual([0, 0, undefined, undefined]);
  });
});
