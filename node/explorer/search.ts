/**
 * The search box: what a query names, as the page to go to. Numbers are blocks, `#N` or
 * `request N` a request, 20 bytes an address; 32 bytes may be a transaction, a block or a model,
 * asked in that order.
 */
import { isAddress, isHash } from 'viem';
import { type ExplorerRpc, NotFound } from './rpc.ts';

export async function searchTarget(rpc: ExplorerRpc, raw: string): Promise<string> {
  const q = raw.trim();
  if (/^\d{1,15}$/.test(q)) return `/block/${BigInt(q)}`;
  const request = /^(?:#|request\s*#?|req\s*#?)(\d{1,30})$/i.exec(q);
  if (request !== null) return `/request/${BigInt(request[1]!)}`;
  if (isAddress(q, { strict: false })) return `/address/${q}`;
  if (isHash(q)) {
    const [tx, block, model] = await Promise.all([
      rpc.call<unknown>('eth_getTransactionByHash', [q]),
      rpc.call<unknown>('eth_getBlockByHash', [q, false]),
      rpc.optional<unknown>('ai_getModel', [q]),
    ]);
    if (tx !== null) return `/tx/${q}`;
    if (block !== null) return `/block/${q}`;
    if (model !== null && model !== undefined) return `/model/${q}`;
  }
  throw new NotFound(q === '' ? 'an empty search' : `"${q.length > 80 ? `${q.slice(0, 80)}…` : q}"`);
}
