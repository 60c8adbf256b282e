/**
 * Parsing of the node's L1 transport flags (--l1.fallback-rpc, --l1.max-rps, --l1.timeout-ms,
 * --l1.retries), for the sequencer and an L1-deriving replica alike, and their mapping onto
 * L1TransportOptions. Kept apart from cli.ts, which is long enough.
 */
import { InvalidArgumentError } from 'commander';
import type { L1TransportOptions } from '../l1/l1-transport.ts';

export const count = (name: string, min: number) => (v: string) => {
  if (!/^[0-9]+$/.test(v) || Number(v) < min) throw new InvalidArgumentError(`${name} must be an integer of at least ${min}`);
  return Number(v);
};

/** Comma-separated http(s) URLs, repeatable; checked here so a typo fails before anything starts. */
export const fallbackUrls = (v: string, prev: string[] = []) => {
  const given = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const u of given) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new InvalidArgumentError(`--l1.fallback-rpc: ${u} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`--l1.fallback-rpc: ${u} is not an http(s) URL`);
  }
  return [...prev, ...given];
};

export function l1TransportOptions(f: Record<string, unknown>): Partial<L1TransportOptions> {
  return {
    fallbacks: (f['l1.fallbackRpc'] as string[] | undefined) ?? [],
    maxRps: f['l1.maxRps'] as number,
    timeoutMs: f['l1.timeoutMs'] as number,
    retries: f['l1.retries'] as number,
  };
}
