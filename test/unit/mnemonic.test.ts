/** mnemonicKeys (Node's PBKDF2, one seed per mnemonic) against viem's mnemonicToAccount, key for key. */
import { mnemonicToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { mnemonicKeys } from '../../node/chain/mnemonic.ts';

describe('mnemonicKeys', () => {
  it("derives m/44'/60'/0'/0/i as viem does, for more accounts on a second call too", () => {
    for (const m of ['test test test test test test test test test test test junk', 'legal winner thank year wave sausage worth useful legal winner thank yellow']) {
      const viem = (i: number) => `0x${Buffer.from(mnemonicToAccount(m, { addressIndex: i }).getHdKey().privateKey!).toString('hex')}`;
      expect(mnemonicKeys(m, 2)).toEqual([viem(0), viem(1)]);
      expect(mnemonicKeys(m, 4)).toEqual([0, 1, 2, 3].map(viem));
    }
  });
});
