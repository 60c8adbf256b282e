/**
 * Names for what the project's own contracts log and revert with: the predeploys' ABIs (the
 * market, the registry, the message passer, L1 block info) read from their committed artifacts,
 * so a transaction page shows `InferenceFulfilled(id: 3, …)` rather than topics and data.
 */
import { type Abi, type Hex, decodeErrorResult, decodeEventLog } from 'viem';
import { marketAbi } from '../../contracts/abi/market.ts';
import { messagePasserAbi } from '../../contracts/abi/rollup.ts';
import { PREDEPLOY_SOURCES, loadArtifact } from '../../contracts/predeploys.ts';
import type { RpcLog } from './rpc.ts';

const ABIS: Abi[] = [marketAbi, messagePasserAbi, ...PREDEPLOY_SOURCES.map((p) => loadArtifact(p.name).abi)];
/** Which contract logged it: a log's decoding is tried against its own contract's ABI first. */
const BY_ADDRESS = new Map<string, Abi>(PREDEPLOY_SOURCES.map((p) => [p.address.toLowerCase(), loadArtifact(p.name).abi]));

export interface DecodedLog {
  name: string;
  args: [string, string][];
}

const show = (v: unknown): string =>
  typeof v === 'bigint'
    ? v.toString()
    : Array.isArray(v)
      ? `[${v.map(show).join(', ')}]`
      : typeof v === 'object' && v !== null
        ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))
        : String(v);

export function decodeLog(log: RpcLog): DecodedLog | undefined {
  if (log.topics.length === 0) return undefined;
  const own = BY_ADDRESS.get(log.address.toLowerCase());
  for (const abi of own === undefined ? ABIS : [own, ...ABIS]) {
    try {
      const d = decodeEventLog({ abi, topics: log.topics as [Hex, ...Hex[]], data: log.data });
      const args =
        d.args === undefined
          ? []
          : Array.isArray(d.args)
            ? d.args.map((v, i) => [String(i), show(v)] as [string, string])
            : Object.entries(d.args).map(([k, v]) => [k, show(v)] as [string, string]);
      return { name: d.eventName ?? '?', args };
    } catch {
      // not this ABI's event
    }
  }
  return undefined;
}

/** A revert's data as words: Error(string), Panic(uint256), or one of the project's custom errors. */
export function decodeRevert(data: Hex): string | undefined {
  if (data === '0x' || data.length < 10) return undefined;
  for (const abi of ABIS) {
    try {
      const d = decodeErrorResult({ abi, data });
      return `${d.errorName}(${(d.args ?? []).map(show).join(', ')})`;
    } catch {
      // not this ABI's error
    }
  }
  return undefined;
}
