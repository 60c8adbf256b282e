/**
 * A view call into a contract of the node's own state (the registry, the market predeploys),
 * ABI-encoded and decoded with viem, run by the CallExecutor: what eth_call does, without JSON-RPC.
 */
import type { Block } from '@ethereumjs/block';
import type { Address } from '@ethereumjs/util';
import { bytesToHex, decodeFunctionResult, encodeFunctionData, hexToBytes } from 'viem';
import type { Abi } from 'viem';
import type { CallExecutor } from './call.ts';

export async function readContractAt(calls: Pick<CallExecutor, 'call'>, block: Block, to: Address, abi: Abi, functionName: string, args: readonly unknown[]): Promise<unknown> {
  const data = encodeFunctionData({ abi, functionName, args });
  const out = await calls.call({ to, data: hexToBytes(data) }, block);
  return decodeFunctionResult({ abi, functionName, data: bytesToHex(out) });
}
