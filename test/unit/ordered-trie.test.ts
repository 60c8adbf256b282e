import { describe, expect, it } from 'vitest';
import { MerklePatriciaTrie } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { bytesToHex } from '@ethereumjs/util';
import { randomBytes } from 'node:crypto';
import { orderedTrieRoot } from '../../node/chain/ordered-trie.ts';

async function reference(values: Uint8Array[]): Promise<string> {
  const trie = new MerklePatriciaTrie();
  for (const [i, v] of values.entries()) await trie.put(RLP.encode(i), v);
  return bytesToHex(trie.root());
}

describe('orderedTrieRoot', () => {
  it('matches @ethereumjs/mpt for lists of every size class, short and long values', async () => {
    for (const n of [0, 1, 2, 3, 15, 16, 17, 127, 128, 129, 300, 1000]) {
      const values = Array.from({ length: n }, (_, i) => new Uint8Array(randomBytes(i % 3 === 0 ? 3 : 40 + (i % 90))));
      expect(bytesToHex(orderedTrieRoot(values)), `n=${n}`).toBe(await reference(values));
    }
  });

  it('gives the empty-trie root for no entries', () => {
    expect(bytesToHex(orderedTrieRoot([]))).toBe('0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421');
  });
});
