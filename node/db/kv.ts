import { Level } from 'level';

/**
 * The node's single LevelDB. Keys and values are raw bytes; each kind of record owns a
 * one-byte prefix (see keys.ts), so one `batch` can write a whole block atomically.
 */
export type KV = Level<Uint8Array, Uint8Array>;

export type KVOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

export async function openKV(path: string): Promise<KV> {
  const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return db;
}

export async function kvGet(db: KV, key: Uint8Array): Promise<Uint8Array | undefined> {
  // level v10 resolves undefined for a missing key instead of throwing NotFound
  return (await db.get(key)) ?? undefined;
}
