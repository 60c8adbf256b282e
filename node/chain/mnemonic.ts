/**
 * Keys of a BIP-39 mnemonic's accounts on Ethereum's BIP-44 path m/44'/60'/0'/0/i (as anvil,
 * Hardhat and geth's dev mode derive them). The seed's PBKDF2 (2,048 rounds of HMAC-SHA512) runs
 * in Node's crypto, once per mnemonic: viem's mnemonicToAccount redoes it in JavaScript for every
 * account, which was most of a dev node's start-up CPU (~0.8 s for ten accounts, twice).
 */
import { pbkdf2Sync } from 'node:crypto';
import type { Hex } from 'viem';
import { HDKey } from 'viem/accounts';

const derived = new Map<string, { root: HDKey; keys: Hex[] }>();

/** Private keys of the first `count` accounts of `mnemonic` (no passphrase). */
export function mnemonicKeys(mnemonic: string, count: number): Hex[] {
  let entry = derived.get(mnemonic);
  if (entry === undefined) {
    const seed = pbkdf2Sync(mnemonic.normalize('NFKD'), 'mnemonic', 2048, 64, 'sha512');
    entry = { root: HDKey.fromMasterSeed(seed), keys: [] };
    derived.set(mnemonic, entry);
  }
  for (let i = entry.keys.length; i < count; i++) {
    const pk = entry.root.derive(`m/44'/60'/0'/0/${i}`).privateKey;
    if (pk === null) throw new Error('mnemonic derivation gave no private key');
    entry.keys.push(`0x${Buffer.from(pk).toString('hex')}`);
  }
  return entry.keys.slice(0, count);
}
