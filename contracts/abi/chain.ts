/**
 * The viem chain definition of an Ethereum-style chain at an endpoint (L1, or this L2): its id,
 * ether as the currency, one HTTP URL. Wallet clients need one to sign; every place that makes
 * one uses this.
 */
import { defineChain } from 'viem';
import type { Chain } from 'viem';

export function chainAt(id: number | bigint, url: string, name = `chain-${id}`): Chain {
  return defineChain({ id: Number(id), name, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [url] } } });
}
