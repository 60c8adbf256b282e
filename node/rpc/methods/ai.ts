import { createAddressFromString } from '@ethereumjs/util';
import { keccak256 } from 'viem';
import type { Hex } from 'viem';
import { z } from 'zod';

import { MODEL_REGISTRY_ADDRESS, loadArtifact } from '../../../contracts/predeploys.ts';
import { JobInputError } from '../../ai/job-inputs.ts';
import { ExecutionError } from '../../chain/call.ts';
import { readContractAt } from '../../chain/contract-read.ts';
import type { RpcBackend } from '../backend.ts';
import { RpcCode, RpcError } from '../errors.ts';
import { q } from '../format.ts';
import { method } from '../method.ts';
import { zBlockRef, zHash, zRequestId, zUint } from '../schemas.ts';
import type { BlockRef } from '../schemas.ts';

const registryAbi = loadArtifact('ModelRegistry').abi;
const registry = createAddressFromString(MODEL_REGISTRY_ADDRESS);
const latest = zBlockRef.optional().default('latest');
export const AI_LIST_MAX = 100;
/** Largest job input, values: what a job message may carry (node/ai/jobs/job-message.ts). */
export const AI_JOB_INPUT_MAX = 1 << 16;

const zJobInput = z.array(z.number().int().min(0).max(255)).min(1).max(AI_JOB_INPUT_MAX);

interface ModelRecord {
  owner: string;
  version: number;
  deprecated: boolean;
  hasWeights: boolean;
  registeredAt: bigint;
  parent: Hex;
  latest: Hex;
  metadataURI: string;
  verifyingKey: Hex;
}

async function registryCall(b: RpcBackend, ref: BlockRef, functionName: string, args: unknown[]): Promise<unknown> {
  return readContractAt(b.calls, await b.blockByRef(ref), registry, registryAbi, functionName, args);
}

/** The registry's record as JSON, or null when the id is not registered. */
async function getModel(b: RpcBackend, id: Hex, ref: BlockRef): Promise<Record<string, unknown> | null> {
  let m: ModelRecord;
  try {
    m = (await registryCall(b, ref, 'getModel', [id])) as ModelRecord;
  } catch (err) {
    if (err instanceof ExecutionError && err.reverted) return null; // UnknownModel
    throw err;
  }
  const vkWords = (m.verifyingKey.length - 2) / 64;
  return {
    modelId: id,
    owner: m.owner,
    version: q(BigInt(m.version)),
    deprecated: m.deprecated,
    hasWeights: m.hasWeights,
    registeredAt: q(m.registeredAt),
    parent: m.parent,
    latest: m.latest,
    metadataURI: m.metadataURI,
    publicInputs: q(BigInt(Math.max(0, (vkWords - 17) / 2))),
    verifyingKeyHash: keccak256(m.verifyingKey),
  };
}

export const aiMethods = {
  ai_getModel: method([zHash, latest], ([id, ref], b) => getModel(b, id as Hex, ref)),

  ai_listModels: method(
    [
      zUint.optional().default(0),
      zUint
        .refine((n) => n >= 1 && n <= AI_LIST_MAX, `limit must be 1..${AI_LIST_MAX}`)
        .optional()
        .default(AI_LIST_MAX),
      latest,
    ],
    async ([offset, limit, ref], b) => {
      const total = (await registryCall(b, ref, 'modelCount', [])) as bigint;
      const ids = (await registryCall(b, ref, 'listModels', [BigInt(offset), BigInt(limit)])) as Hex[];
      const models = await Promise.all(ids.map((id) => getModel(b, id, ref)));
      const next = offset + ids.length;
      return { total: q(total), offset: q(BigInt(offset)), models, nextOffset: BigInt(next) < total ? q(BigInt(next)) : null };
    },
  ),

  ai_modelArtifacts: method([zHash], async ([id], b) => {
    const m = await b.artifacts?.model(id);
    if (m === undefined) return null;
    return {
      modelId: m.modelId,
      inputMode: m.manifest.inputMode ?? null,
      constraints: m.manifest.constraints ?? null,
      manifest: { sha256: m.manifestEntry.sha256, size: q(BigInt(m.manifestEntry.size)), url: `/artifacts/${m.manifestEntry.sha256}` },
      artifacts: m.artifacts.map((a) => ({ name: a.name, sha256: a.sha256, size: q(BigInt(a.size)), url: `/artifacts/${a.sha256}` })),
    };
  }),

  /**
   * The input of an open market request (uint8 values), checked against the request's input
   * signals (its Poseidon hash for a private-input model); the node keeps it and announces the
   * job with it. Returns the number of peers the announcement reached now.
   */
  ai_submitJobInput: method([zRequestId, zJobInput], async ([id, input], b) => {
    if (b.jobs === undefined) throw new RpcError(RpcCode.Server, 'this node does not announce proof jobs (p2p is off)');
    try {
      const peers = await b.jobs.submitInput(id, input);
      return { requestId: q(id), peers: q(BigInt(peers)) };
    } catch (err) {
      if (err instanceof JobInputError) throw new RpcError(err.code === 'FULL' ? RpcCode.LimitExceeded : RpcCode.Server, err.message);
      throw err;
    }
  }),
};
