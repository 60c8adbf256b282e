/**
 * Puts a model's package (manifest, canonical encoding, circuit wasm, proving key, verifying key)
 * in a local directory the proving pool can use, fetching it by content hash from whoever has it.
 *
 * Nothing fetched is trusted: each file must hash to what the manifest lists, the manifest to
 * the hash the job named, the encoding to the model id (a model id is keccak256 of it), and the
 * verifying key to the key the registry holds on chain. The proving key cannot be checked
 * against anything but its use, so the daemon verifies every proof locally before it sends one.
 * A package is written to a temporary directory and renamed into place, so a crash never leaves
 * a half-written model that looks complete.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CodedError } from '../../precompiles/errors.ts';

/** Returns the bytes whose sha256 is `sha256Hex` (the source may lie: callers check). */
export type FetchByHash = (sha256Hex: string) => Promise<Uint8Array>;

export type ModelFetchErrorCode = 'MANIFEST_HASH' | 'MANIFEST_INVALID' | 'WRONG_MODEL' | 'FILE_HASH' | 'MODEL_ID' | 'VK_HASH' | 'FETCH_FAILED';

export class ModelFetchError extends CodedError {
  override name = 'ModelFetchError';
  constructor(
    override readonly code: ModelFetchErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The files a prover needs; the rest of a package (circom source, r1cs) stays with its author. */
export const PROVING_FILES = ['model.bin', 'circuit.wasm', 'circuit.zkey', 'vk.bin'] as const;

const manifestSchema = z.object({
  modelId: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  inputMode: z.enum(['public', 'private']),
  artifacts: z.array(z.object({ name: z.string().regex(/^[\w.-]+$/), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() })),
});

export interface ModelWanted {
  modelId: `0x${string}`;
  /** sha256 (hex) of the package's manifest.json. */
  manifest: string;
  /** keccak256 of the verifying key the registry holds (ai_getModel's vkHash). */
  vkHash: `0x${string}`;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const keccak = (b: Uint8Array) => `0x${bytesToHex(keccak_256(b))}`;

export class ModelFetcher {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly options: { dir: string },
    private readonly deps: { fetch: FetchByHash; logger: Logger },
  ) {}

  /** The directory of a complete, checked package for `want`; fetched on first use. */
  ensure(want: ModelWanted): Promise<string> {
    const key = `${want.modelId.toLowerCase()}-${want.manifest}`;
    let p = this.inFlight.get(key);
    if (p === undefined) {
      p = this.load(want, join(this.options.dir, key)).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async load(want: ModelWanted, dir: string): Promise<string> {
    if (existsSync(join(dir, 'manifest.json'))) {
      // complete by construction (renamed into place), but the chain's key may have changed since
      checkVk(await readFile(join(dir, 'vk.bin')), want);
      return dir;
    }
    const t0 = performance.now();
    const manifestBytes = await this.get(want.manifest, 'manifest.json');
    const manifest = parseManifest(manifestBytes, want);
    const tmp = `${dir}.partial-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    try {
      let bytes = 0;
      for (const name of PROVING_FILES) {
        const entry = manifest.artifacts.find((a) => a.name === name);
        if (entry === undefined) throw new ModelFetchError('MANIFEST_INVALID', `the manifest lists no ${name}`);
        const data = await this.get(entry.sha256, name);
        if (name === 'model.bin' && keccak(data) !== want.modelId.toLowerCase())
          throw new ModelFetchError('MODEL_ID', `model.bin hashes to ${keccak(data)}, not the model id ${want.modelId}`);
        if (name === 'vk.bin') checkVk(data, want);
        await writeFile(join(tmp, name), data);
        bytes += data.length;
      }
      await writeFile(join(tmp, 'manifest.json'), manifestBytes);
      await rename(tmp, dir);
      this.deps.logger.info({ modelId: want.modelId, bytes, ms: Math.round(performance.now() - t0) }, 'model package fetched and checked');
      return dir;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  private async get(hash: string, name: string): Promise<Uint8Array> {
    let data: Uint8Array;
    try {
      data = await this.deps.fetch(hash);
    } catch (err) {
      throw new ModelFetchError('FETCH_FAILED', `could not fetch ${name} (${hash}): ${(err as Error).message}`);
    }
    if (sha256(data) !== hash) throw new ModelFetchError(name === 'manifest.json' ? 'MANIFEST_HASH' : 'FILE_HASH', `${name} hashes to ${sha256(data)}, not ${hash}`);
    return data;
  }
}

function parseManifest(bytes: Uint8Array, want: ModelWanted): z.infer<typeof manifestSchema> {
  let m: z.infer<typeof manifestSchema>;
  try {
    m = manifestSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (err) {
    throw new ModelFetchError('MANIFEST_INVALID', `not a model manifest: ${(err as Error).message}`);
  }
  if (m.modelId.toLowerCase() !== want.modelId.toLowerCase()) throw new ModelFetchError('WRONG_MODEL', `the manifest is for model ${m.modelId}, not ${want.modelId}`);
  return m;
}

function checkVk(vk: Uint8Array, want: ModelWanted): void {
  if (keccak(vk) !== want.vkHash.toLowerCase()) throw new ModelFetchError('VK_HASH', `vk.bin hashes to ${keccak(vk)}, the registry holds ${want.vkHash}`);
}
