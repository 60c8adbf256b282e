/**
 * The L1 request rate bound: a token bucket every L1 request of the node takes from, waiting
 * (never failing) when it is empty. Waiters are served in arrival order: each one that finds the
 * bucket short books the next token ahead (the level goes negative), so a burst of callers is
 * spread out evenly instead of all waking at once and racing.
 */

export class TokenBucket {
  private level: number;
  private at = Date.now();

  /**
   * @param perSecond tokens added per second; 0 or less: unbounded
   * @param burst most tokens saved up while idle (1 by default: requests are evenly spaced, so any
   *   one-second window sees at most perSecond + 1 of them, whatever the provider's window)
   */
  constructor(
    readonly perSecond: number,
    private readonly burst = 1,
  ) {
    this.level = burst;
  }

  /** Resolves once `n` tokens are taken. */
  async take(n = 1): Promise<void> {
    if (this.perSecond <= 0) return;
    const now = Date.now();
    this.level = Math.min(this.burst, this.level + ((now - this.at) * this.perSecond) / 1000);
    this.at = now;
    this.level -= n;
    if (this.level >= 0) return;
    const waitMs = Math.ceil((-this.level * 1000) / this.perSecond);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
