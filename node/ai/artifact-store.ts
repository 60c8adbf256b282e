/**
 * The compiled models a node offers for download (circuit wasm, zkey, verifying key...), by
 * content hash. It reads the model directories that `ai-rollup model compile` writes (each with
 * a manifest.json) under one root, checks every file against the sha256 its manifest gives, and
 * indexes them; a file whose content differs is left out, so a client that fetches by hash and
 * checks it never gets a wrong file from us.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';

const manifestSchema = z.object({
  modelId: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  inputMode: z.string().optional(),
  constraints: z.number().optional(),
  publicInputs: z.number().optional(),
  /** `model compile --aggregate K`: its agg<K>.* files are among the artifacts (the inference poster proves with them). */
  aggregate: z
    .object({ k: z.number().int().min(2), publicSignalsPerSlot: z.number().int(), vkHash: z.string().regex(/^0x[0-9a-f]{64}$/) })
    .passthrough()
    .optional(),
  artifacts: z.array(z.object({ name: z.string().regex(/^[\w.-]+$/), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number() })),
});
export type ModelManifest = z.infer<typeof manifestSchema>;

export interface ArtifactEntry {
  name: string;
  sha256: string;
  size: number;
  path: string;
}

export interface ModelArtifacts {
  modelId: string;
  manifest: ModelManifest;
  /**
   * manifest.json itself, also served by its hash: one hash then names the whole package, so a
   * prover told only that hash fetches the manifest, then every file it lists, all checked.
   */
  manifestEntry: ArtifactEntry;
  artifacts: ArtifactEntry[];
}

/** Rescans at most this often when asked for something it does not have. */
const RESCAN_MS = 2_000;

export class ArtifactStore {
  private byModel = new Map<string, ModelArtifacts>();
  private byHash = new Map<string, ArtifactEntry>();
  private lastScan = 0;
  private scanning: Promise<void> | undefined;

  constructor(
    readonly root: string | undefined,
    private readonly logger: Logger,
  ) {}

  async model(modelId: string): Promise<ModelArtifacts | undefined> {
    const id = modelId.toLowerCase();
    if (!this.byModel.has(id)) await this.maybeRescan();
    return this.byModel.get(id);
  }

  async file(sha256: string): Promise<ArtifactEntry | undefined> {
    if (!this.byHash.has(sha256)) await this.maybeRescan();
    return this.byHash.get(sha256);
  }

  open(entry: ArtifactEntry): NodeJS.ReadableStream {
    return createReadStream(entry.path);
  }

  private async maybeRescan(): Promise<void> {
    if (this.root === undefined || Date.now() - this.lastScan < RESCAN_MS) return this.scanning;
    this.lastScan = Date.now();
    this.scanning ??= this.scan(this.root).finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  private async scan(root: string): Promise<void> {
    const dirs = await readdir(root, { withFileTypes: true }).catch(() => []);
    for (const d of dirs) {
      if (!d.isDirectory()) continue;
      const dir = join(root, d.name);
      try {
        const m = await this.load(dir);
        if (m !== undefined) this.add(m);
      } catch (err) {
        this.logger.warn({ dir, err: (err as Error).message }, 'skipping model directory');
      }
    }
  }

  private async load(dir: string): Promise<ModelArtifacts | undefined> {
    const manifestPath = join(dir, 'manifest.json');
    const raw = await readFile(manifestPath).catch(() => undefined);
    if (raw === undefined) return undefined;
    const manifest = manifestSchema.parse(JSON.parse(raw.toString('utf8')));
    const manifestEntry = { name: 'manifest.json', sha256: createHash('sha256').update(raw).digest('hex'), size: raw.length, path: manifestPath };
    const id = manifest.modelId.toLowerCase();
    if (this.byModel.has(id)) return undefined;
    const artifacts: ArtifactEntry[] = [];
    for (const a of manifest.artifacts) {
      const path = join(dir, a.name);
      const size = (await stat(path)).size;
      const sha256 = await hashFile(path);
      if (sha256 !== a.sha256 || size !== a.size) throw new Error(`${a.name} does not match its manifest hash`);
      artifacts.push({ name: a.name, sha256, size, path });
    }
    return { modelId: id, manifest, manifestEntry, artifacts };
  }

  private add(m: ModelArtifacts): void {
    this.byModel.set(m.modelId, m);
    for (const a of [m.manifestEntry, ...m.artifacts]) this.byHash.set(a.sha256, a);
    this.logger.info({ modelId: m.modelId, files: m.artifacts.length }, 'serving model artifacts');
  }
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}
