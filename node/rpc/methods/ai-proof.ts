import { InferenceProofError } from '../../ai/inference-proof.ts';
import { RollupBatchError } from '../../l1/rollup-batches.ts';
import { inferenceProofJson } from '../../rollup/result-proof.ts';
import type { RpcBackend } from '../backend.ts';
import { RpcCode, RpcError } from '../errors.ts';
import { method } from '../method.ts';
import { zRequestId } from '../schemas.ts';

function proofsOf(b: RpcBackend) {
  if (b.inferenceProofs === undefined) throw new RpcError(RpcCode.MethodNotFound, 'ai_getInferenceProof is not served by this node');
  return b.inferenceProofs;
}

export const aiProofMethods = {
  /**
   * Everything needed to prove request `id`'s result on L1 (docs/dapps/results-on-l1.md); null
   * while no block of this chain fulfilled it. Reading a batch's fulfilments is bounded work a
   * caller can trigger, so it takes turns with eth_call under the same per-client limits.
   */
  ai_getInferenceProof: method([zRequestId], async ([id], b, s) => {
    const proofs = proofsOf(b);
    return b.callGate.run(s.client, s.deadline, async () => {
      try {
        const p = await proofs.get(id);
        return p === null ? null : inferenceProofJson(p);
      } catch (err) {
        if (err instanceof InferenceProofError || err instanceof RollupBatchError) throw new RpcError(RpcCode.Server, err.message);
        if (err instanceof RpcError) throw err;
        // L1 unreachable or refusing: say so rather than an internal error
        if (b.rollup !== undefined && err instanceof Error && /HTTP|fetch|timeout|RPC/i.test(err.name + err.message)) {
          throw new RpcError(RpcCode.Server, `cannot read L1: ${err.message.split('\n')[0]}`);
        }
        throw err;
      }
    });
  }),
};
