/**
 * The sender-recovery thread (sender-recovery.ts): decodes each transaction from the bytes it was
 * sent and recovers its sender's public key exactly as the main thread would (same Common, same
 * libsecp256k1), so a key it returns is the one the main thread would have computed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createTxFromRLP } from '@ethereumjs/tx';
import { createL2Common } from '../chain/common.ts';
import { nodeCrypto } from '../chain/crypto.ts';
import type { RecoveryJob, RecoveryResult, RecoveryWorkerData } from './sender-recovery.ts';
import { PUBKEY_BYTES } from './sender-recovery.ts';

const port = parentPort!;
const common = createL2Common({ chainId: (workerData as RecoveryWorkerData).chainId, customCrypto: nodeCrypto });

function recover(job: RecoveryJob): ArrayBuffer {
  const bytes = new Uint8Array(job.bytes);
  const keys = new Uint8Array(PUBKEY_BYTES * job.ends.length);
  let start = 0;
  for (const [i, end] of job.ends.entries()) {
    try {
      const key = createTxFromRLP(bytes.subarray(start, end), { common }).getSenderPublicKey();
      if (key.length === PUBKEY_BYTES) keys.set(key, i * PUBKEY_BYTES);
    } catch {
      // left zero: the main thread recovers it itself and reports the error with the block
    }
    start = end;
  }
  return keys.buffer;
}

port.on('message', (job: RecoveryJob) => {
  const keys = recover(job);
  port.postMessage({ id: job.id, keys } satisfies RecoveryResult, [keys]);
});
port.postMessage({ ready: true } satisfies RecoveryResult);
