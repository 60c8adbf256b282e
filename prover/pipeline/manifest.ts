/**
 * The manifest of a compiled model package (manifest.json beside its circuit and keys): what
 * `model compile` writes and provers, the node's artifact store and the inference poster read.
 */
import type { Hex } from 'viem';
import type { InputMode } from '../circuit/generate.ts';

export interface ModelManifest {
  format: 'ai-rollup-model/1';
  modelId: `0x${string}`;
  name: string;
  version: number;
  inputMode: InputMode;
  inputSize: number;
  outputSize: number;
  macs: number;
  constraints: number;
  publicInputs: number;
  /** The ptau's power (>= the circuit's need, which is ceil(log2(constraints + publicInputs + 1))). */
  ptauPower: number;
  /** Present when compiled with --aggregate K: the K-inference circuit's shape and key hash. */
  aggregate?: AggregateManifest;
  artifacts: { name: string; sha256: string; size: number }[];
}

/** What a model manifest says of its aggregate circuit. */
export interface AggregateManifest {
  k: number;
  /** 2: the packed outputs, then the input's Poseidon hash (multi.ts). */
  publicSignalsPerSlot: number;
  /** keccak256 of the agg<K>.vk.bin bytes: what the oracle's leaves name. */
  vkHash: Hex;
  constraints: number;
  ptauPower: number;
}
