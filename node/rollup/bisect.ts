/**
 * The last n in [lo, hi] for which `holds` is true, where it is true up to some point and false
 * after (origins along the L2 chain: deep enough, still on L1). `holds(lo)` is taken as true and
 * `holds(hi)` as false without asking: callers check or know the ends.
 */
export async function lastHolding(lo: bigint, hi: bigint, holds: (n: bigint) => Promise<boolean>): Promise<bigint> {
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (await holds(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
