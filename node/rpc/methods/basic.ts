import { bytesToHex } from '@ethereumjs/util';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { z } from 'zod';
import { q } from '../format.ts';
import { method } from '../method.ts';
import { zData } from '../schemas.ts';

export const basicMethods = {
  web3_clientVersion: method([], (_a, b) => b.clientVersion),
  web3_sha3: method([zData], ([data]) => bytesToHex(keccak_256(data))),
  net_version: method([], (_a, b) => b.chain.common.chainId().toString()),
  net_listening: method([], () => true),
  net_peerCount: method([], (_a, b) => q(b.peerCount())),
  eth_chainId: method([], (_a, b) => q(b.chain.common.chainId())),
  eth_syncing: method([], (_a, b) => {
    const s = b.sync?.status() ?? false;
    return s === false ? false : { startingBlock: q(s.startingBlock), currentBlock: q(s.currentBlock), highestBlock: q(s.highestBlock) };
  }),
  eth_accounts: method([], () => []),
  eth_blockNumber: method([], (_a, b) => q(b.head.header.number)),
  eth_coinbase: method([], (_a, b) => b.head.header.coinbase.toString()),
  eth_mining: method([z.unknown().optional()], () => true),
  txpool_status: method([], (_a, b) => {
    const s = b.pool.status();
    return { pending: q(s.pending), queued: q(s.queued) };
  }),
};
