import { RLP } from '@ethereumjs/rlp';
import { MerkleStateManager } from '@ethereumjs/statemanager';
import type { Address } from '@ethereumjs/util';
import { unpadBytes } from '@ethereumjs/util';

/**
 * MerkleStateManager whose storage writes stay in the storage cache until `flush()`.
 *
 * In @ethereumjs/statemanager v10 `putStorage` reads `cache.put(...) ?? writeTrie(...)`; `put`
 * returns undefined, so every SSTORE also rewrote and rehashed the storage trie path at once
 * (measured: ~0.5 ms per SSTORE, most of an ERC-20 transfer). `flush()` already writes cached
 * slots into the tries, so skipping the eager write is what the cache was meant to do.
 */
export class L2StateManager extends MerkleStateManager {
  /**
   * Set once state was written that no transaction wrote (eth_call state overrides). Code that
   * caches what it derives from state (the model-execution precompile) must neither fill nor trust
   * its cache from such a view: see precompiles/registry-layout.ts StorageReader.
   */
  foreignWrites = false;

  override async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    const cache = this._caches?.storage;
    if (cache === undefined) return super.putStorage(address, key, value);
    if (key.length !== 32) throw new Error('Storage key must be 32 bytes long');
    if (value.length > 32) throw new Error('Storage value cannot be longer than 32 bytes');
    if ((await this.getAccount(address)) === undefined) throw new Error('putStorage() called on non-existing account');
    cache.put(address, key, RLP.encode(unpadBytes(value)));
  }
}
