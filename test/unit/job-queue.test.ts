/** The prover's job queue: backoff doubles to its cap, and a job whose attempts keep failing is kept (not dropped) at the cap. */
import { describe, expect, it } from 'vitest';
import { JobQueue, defaultQueueLimits } from '../../prover/daemon/job-queue.ts';

describe('job queue backoff', () => {
  it('doubles from retryMs to maxRetryMs, then keeps the job at maxRetryMs past maxFailures; a success starts over', () => {
    const q = new JobQueue({ ...defaultQueueLimits, maxFailures: 4, maxRetryMs: 5_000 }, 1_000);
    const { queued } = q.offer({ requestId: 1n, modelId: `0x${'11'.repeat(32)}`, inputSignals: [1n], input: [1] });
    expect(queued).toBeDefined();
    const steps = Array.from({ length: 8 }, () => q.failed(queued!));
    expect(steps.map((s) => s.retryInMs)).toEqual([1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 5_000, 5_000]);
    expect(steps.map((s) => s.persistent)).toEqual([false, false, false, true, true, true, true, true]);
    // still open: offering it again finds it
    expect(q.offer({ requestId: 1n, modelId: `0x${'11'.repeat(32)}`, inputSignals: [1n], input: [1] }).result).toBe('known');
    q.succeeded(queued!);
    expect(q.failed(queued!)).toEqual({ retryInMs: 1_000, persistent: false });
  });
});
