/**
 * The sender-recovery thread (sender-recovery.ts): decodes each transaction from the bytes it was
 * sent and recovers its sender's public key exactly as the main thread would (same Common, same
 * libsecp256k1), so a key it returns is the one the main thread would have computed; and the
 * ordered-trie root of those bytes, the block's transactions root.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createTxFromRLP } from '@ethereumjs/tx';
import { createL2Common } from '../chain/common.ts';
import { nodeCrypto } from '../chain/crypto.ts';
import { DEPOSIT_TX_TYPE } from '../chain/deposit-tx.ts';
import { orderedTrieRoot } from '../chain/ordered-trie.ts';
import type { RecoveryJob, RecoveryResult, RecoveryWorkerData } from './sender-recovery.ts';
import { PUBKEY_BYTES } from './sender-recovery.ts';

const port = parentPort!;
const common = createL2Common({ chainId: (workerData as RecoveryWorkerData).chainId, customCrypto: nodeCrypto });

function recover(job: RecoveryJob): { keys: ArrayBuffer; txRoot: ArrayBuffer } {
  const bytes = new Uint8Array(job.bytes);
  const keys = new Uint8Array(PUBKEY_BYTES * job.ends.length);
  const txs: Uint8Array[] = [];
  let start = 0;
  for (const [i, end] of job.ends.entries()) {
    const raw = bytes.subarray(start, end);
    txs.push(raw);
    start = end;
    if (raw[0] === DEPOSIT_TX_TYPE) continue;
    try {
      const key = createTxFromRLP(raw, { common }).getSenderPublicKey();
      if (key.length === PUBKEY_BYTES) keys.set(key, i * PUBKEY_BYTES);
    } catch {
      // left zero: the main thread recovers it itself and reports the error with the block
    }
  }
  return { keys: keys.buffer, txRoot: job.root ? Uint8Array.from(orderedTrieRoot(txs)).buffer : new ArrayBuffer(0) };
}

port.on('message', (job: RecoveryJob) => {
  const { keys, txRoot } = recover(job);
  port.postMessage({ id: job.id, keys, txRoot } satisfies RecoveryResult, [keys, txRoot]);
});
port.postMessage({ ready: true } satisfies RecoveryResult);
