import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToBigInt, bytesToHex, hexToBytes, setLengthLeft } from '@ethereumjs/util';
import { decodeFunctionResult, type Hex } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS_DIR } from '../../contracts/compile.ts';
import { serializeModel } from '../../precompiles/model/codec.ts';
import { keccakHex } from '../../precompiles/model/commitment.ts';
import { mulberry32, randomModel } from '../../precompiles/model/random.ts';
import { vkToBytes } from '../../precompiles/groth16/encoding.ts';
import { registrationCommitment } from '../../node/cli/model-register.ts';
import {
  REVEAL_FROM_SLOT,
  ENCODINGS_SLOT,
  IDS_SLOT,
  PACKED_OFFSET,
  RECORD_WORD,
  RECORDS_SLOT,
  REGISTRY_ACCOUNT,
  readBytes,
  readRecord,
  readWord,
  revealFromSlot,
  verifyingKeySlot,
  weightsSlot,
} from '../../precompiles/registry-layout.ts';
import { ALICE, loadFixture, registryAbi, type RegistryVm, registryVm, releaseFixture } from './precompile-fixture.ts';

interface StorageEntry {
  label: string;
  slot: string;
  offset: number;
  type: string;
}
interface StorageLayout {
  storage: StorageEntry[];
  types: Record<string, { label: string; encoding: string; members?: StorageEntry[] }>;
}

function solcStorageLayout(): StorageLayout {
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string, cb: unknown): string };
  const source = 'l2/ModelRegistry.sol';
  const input = {
    language: 'Solidity',
    sources: { [source]: { content: readFileSync(join(CONTRACTS_DIR, source), 'utf8') } },
    settings: { outputSelection: { [source]: { ModelRegistry: ['storageLayout'] } } },
  };
  const read = (p: string) => ({ contents: readFileSync(join(CONTRACTS_DIR, p), 'utf8') });
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: read })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { storageLayout: StorageLayout }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  return out.contracts[source]!.ModelRegistry!.storageLayout;
}

describe('registry storage layout', () => {
  it('matches solc storageLayout', () => {
    const layout = solcStorageLayout();
    const top = Object.fromEntries(layout.storage.map((e) => [e.label, e]));
    expect(BigInt(top.records!.slot)).toBe(RECORDS_SLOT);
    expect(BigInt(top.encodings!.slot)).toBe(ENCODINGS_SLOT);
    expect(BigInt(top.ids!.slot)).toBe(IDS_SLOT);
    expect(BigInt(top.revealFrom!.slot)).toBe(REVEAL_FROM_SLOT);
    expect(layout.types[top.encodings!.type]!.label).toBe('mapping(bytes32 => bytes)');
    expect(layout.types[top.revealFrom!.type]!.label).toBe('mapping(bytes32 => uint256)');
    // new state goes after the slots the precompiles read
    expect(layout.storage.map((e) => e.label)).toEqual(['records', 'encodings', 'ids', 'revealFrom']);
    const mapping = layout.types[top.records!.type]!;
    expect(mapping.encoding).toBe('mapping');
    const recordType = Object.values(layout.types).find((t) => t.label === 'struct ModelRegistry.Record')!;
    const m = Object.fromEntries(recordType.members!.map((e) => [e.label, e]));
    for (const [name, offset] of Object.entries(PACKED_OFFSET)) {
      expect([name, BigInt(m[name]!.slot), m[name]!.offset]).toEqual([name, RECORD_WORD.packed, offset]);
    }
    expect(layout.types[m.registeredAt!.type]!.label).toBe('uint48');
    expect(layout.types[m.version!.type]!.label).toBe('uint32');
    for (const name of ['parent', 'latest', 'metadataURI', 'verifyingKey'] as const) {
      expect([name, BigInt(m[name]!.slot), m[name]!.offset]).toEqual([name, RECORD_WORD[name], 0]);
    }
    expect(layout.types[m.verifyingKey!.type]!.label).toBe('bytes');
  });
});

describe('native registry reads against the real registry code', () => {
  let r: RegistryVm;
  let vk: Uint8Array;
  const encoding = serializeModel(randomModel(mulberry32(7), { maxWidth: 40, spatial: false }));
  const id = keccakHex(encoding);
  const idBytes = hexToBytes(id);

  beforeAll(async () => {
    r = await registryVm();
    vk = vkToBytes((await loadFixture()).vk);
    await releaseFixture();
  });

  it('reads records, keys and weights as getModel and weights() return them', async () => {
    const sm = r.vm.stateManager;
    expect(await readRecord(sm, idBytes)).toBeUndefined();
    await r.register(id, bytesToHex(vk), 'ipfs://x');
    await r.registry('publishWeights', [id, bytesToHex(encoding)]);
    const got = decodeFunctionResult({ abi: registryAbi, functionName: 'getModel', data: await r.registry('getModel', [id]) }) as {
      owner: string;
      version: number;
      deprecated: boolean;
      hasWeights: boolean;
      registeredAt: bigint;
      verifyingKey: Hex;
    };
    const rec = await readRecord(sm, idBytes);
    expect(rec).toEqual({ owner: got.owner.toLowerCase(), version: got.version, deprecated: got.deprecated, hasWeights: got.hasWeights, registeredAt: got.registeredAt });
    expect(rec).toMatchObject({ owner: ALICE, version: 1, hasWeights: true, deprecated: false, registeredAt: 7n });
    expect(bytesToHex(await readBytes(sm, verifyingKeySlot(idBytes)))).toBe(got.verifyingKey);
    expect(bytesToHex(await readBytes(sm, weightsSlot(idBytes)))).toBe(bytesToHex(encoding));
    await r.registry('deprecate', [id]);
    expect((await readRecord(sm, idBytes))?.deprecated).toBe(true);
  });

  it('keeps a registration commitment at revealFromSlot: the block after the commit, cleared by the reveal', async () => {
    const other = keccakHex(Uint8Array.from([1, 2, 3]));
    const salt = keccakHex(Uint8Array.from([4]));
    const c = registrationCommitment(ALICE, other, bytesToHex(vk), '', salt);
    const slot = revealFromSlot(hexToBytes(c));
    await r.registry('commitRegistration', [c], undefined, 40n);
    expect(bytesToBigInt(await readWord(r.vm.stateManager, slot))).toBe(41n);
    await r.registry('register', [other, bytesToHex(vk), '', salt], undefined, 41n);
    expect(bytesToBigInt(await readWord(r.vm.stateManager, slot))).toBe(0n);
  });

  it('reads the short form of a bytes value', async () => {
    const sm = r.vm.stateManager;
    const slot = 12345n;
    const data = Uint8Array.from([1, 2, 3, 0, 5]);
    const word = new Uint8Array(32);
    word.set(data);
    word[31] = data.length * 2;
    await sm.putStorage(REGISTRY_ACCOUNT, setLengthLeft(hexToBytes('0x3039'), 32), word);
    expect(await readBytes(sm, slot)).toEqual(data);
    expect(await readBytes(sm, 99n)).toEqual(new Uint8Array(0));
  });
});
