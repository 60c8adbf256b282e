import { maybeYield } from '../db/yield.ts';

/**
 * Runs the deliveries of chain events to clients (filters, subscriptions) one after another, in
 * event order, off the block commit's call stack. Matching a block's logs against every installed
 * filter is O(filters x logs): thousands of filters and a block of tens of thousands of logs would
 * hold the event loop for seconds if done in the commit's listener, so each delivery yields between
 * the holders it serves once it has worked for a slice (node/db/yield.ts).
 */
export class DeliveryQueue {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Queues `deliver`, which is handed each holder of `holders()` (taken when it starts). */
  push<H>(holders: () => Iterable<H>, deliver: (h: H) => void, after?: () => void): void {
    this.tail = this.tail
      .then(async () => {
        for (const h of [...holders()]) {
          deliver(h);
          const pause = maybeYield();
          if (pause !== undefined) await pause;
        }
        after?.();
      })
      .catch(this.onError);
  }

  /** Resolves once everything queued so far is delivered. */
  drained(): Promise<void> {
    return this.tail;
  }
}
