/**
 * The node's libp2p identity. The private key lives in one file (libp2p's protobuf encoding,
 * mode 0600) so the peer id, which other nodes put in their bootstrap lists, survives restarts.
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import type { Logger } from 'pino';
import { P2PError, P2PErrorCode } from './errors.ts';

/** Reads the key at `path`, or creates an Ed25519 key there; without a path, a throwaway key. */
export async function loadOrCreatePeerKey(path: string | undefined, logger: Logger): Promise<PrivateKey> {
  if (path === undefined) return generateKeyPair('Ed25519');
  const existing = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing !== undefined) return decodeKey(existing, path, logger);
  const key = await generateKeyPair('Ed25519');
  await mkdir(dirname(path), { recursive: true });
  // write-then-rename: a crash mid-write must not leave a truncated key that fails every later start
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 });
  await rename(tmp, path);
  logger.info({ keyFile: path }, 'created p2p key');
  return key;
}

async function decodeKey(bytes: Uint8Array, path: string, logger: Logger): Promise<PrivateKey> {
  let key: PrivateKey;
  try {
    key = privateKeyFromProtobuf(bytes);
  } catch (err) {
    throw new P2PError(P2PErrorCode.InvalidKeyFile, `${path} is not a libp2p private key: ${(err as Error).message}`);
  }
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    // as ssh does for its keys: anyone who can read this file can impersonate the node
    logger.warn({ keyFile: path, mode: mode.toString(8) }, 'p2p key file was readable by others; restricting it to 0600');
    await chmod(path, 0o600);
  }
  return key;
}
