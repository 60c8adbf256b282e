import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildL1Artifacts, buildPredeployArtifacts } from '../../devnet/build-contracts.ts';
import { CONTRACTS_DIR } from '../../contracts/compile.ts';
import { loadL1Artifact } from '../../contracts/l1-artifacts.ts';
import {
  INFERENCE_MARKET_ADDRESS,
  INFERENCE_MARKET_PARAM_SLOTS,
  L1_BLOCK_ADDRESS,
  MESSAGE_PASSER_ADDRESS,
  inferenceMarketStorage,
  loadArtifact,
  predeploys,
} from '../../contracts/predeploys.ts';
import { devGenesis, withPredeploys } from '../../node/chain/genesis.ts';
import { FIXTURE_PATH, bridgeFixtureSource } from '../../contracts/tools/bridge-fixture.ts';

const STALE = 'run `npm run contracts:build` after an edit';

describe('predeploy artifacts', () => {
  it(`the committed runtime code is what solc makes of the sources now (${STALE})`, async () => {
    for (const fresh of await buildPredeployArtifacts()) {
      const committed = loadArtifact(fresh.name);
      expect(committed.solc).toBe(fresh.solc);
      expect(committed.deployedBytecode, `${fresh.name} is stale`).toBe(fresh.deployedBytecode);
      expect(committed.abi).toEqual(fresh.abi);
    }
  }, 120_000);

  it('genesis carries L1Block, L2ToL1MessagePasser and InferenceMarket at their addresses', () => {
    const byName = Object.fromEntries(predeploys().map((p) => [p.name, p.address]));
    expect(byName.L1Block).toBe(L1_BLOCK_ADDRESS);
    expect(byName.L2ToL1MessagePasser).toBe(MESSAGE_PASSER_ADDRESS);
    expect(byName.InferenceMarket).toBe(INFERENCE_MARKET_ADDRESS);
  });

  it('a genesis entry without code at a predeploy address configures it: its storage is kept, the protocol code added', () => {
    const spec = devGenesis(1n, 30_000_000n);
    const storage = inferenceMarketStorage({ claimWindow: 7n, minStake: 10n ** 17n });
    spec.alloc[INFERENCE_MARKET_ADDRESS] = { storage };
    const { spec: out, overridden } = withPredeploys(spec);
    expect(overridden).toEqual([]);
    expect(out.alloc[INFERENCE_MARKET_ADDRESS]).toEqual({ nonce: '0x1', storage, code: loadArtifact('InferenceMarket').deployedBytecode });
    expect(storage).toEqual({
      [`0x${'0'.repeat(63)}2`]: `0x${'0'.repeat(63)}7`,
      [`0x${'0'.repeat(64)}`]: `0x${(10n ** 17n).toString(16).padStart(64, '0')}`,
    });
    // pinned code still wins, with a warning
    spec.alloc[INFERENCE_MARKET_ADDRESS] = { code: '0x00', storage };
    expect(withPredeploys(spec).overridden).toEqual(['InferenceMarket']);
  });

  it('market parameters cannot be set to zero (it reads as the default) or to an unknown name', () => {
    expect(() => inferenceMarketStorage({ claimWindow: 0n })).toThrow(/claimWindow must be in/);
    expect(() => inferenceMarketStorage({ claimWndow: 3n } as never)).toThrow(/unknown inference market parameter claimWndow/);
  });
});

describe('L1 artifacts', () => {
  it(`the committed Rollup and Bridge (ABI, creation and runtime code) are what solc makes now (${STALE})`, async () => {
    for (const fresh of await buildL1Artifacts()) {
      const committed = loadL1Artifact(fresh.name as 'Rollup' | 'Bridge');
      expect(committed.solc).toBe(fresh.solc);
      expect(committed.bytecode, `${fresh.name} is stale`).toBe(fresh.bytecode);
      expect(committed.deployedBytecode, `${fresh.name} is stale`).toBe(fresh.deployedBytecode);
      expect(committed.abi).toEqual(fresh.abi);
      expect((committed.deployedBytecode.length - 2) / 2, 'EIP-170 code size limit').toBeLessThanOrEqual(24_576);
    }
  }, 120_000);

  it(`the committed Foundry bridge fixture is what its generator makes now (${STALE})`, async () => {
    expect(readFileSync(FIXTURE_PATH, 'utf8') === (await bridgeFixtureSource()), `${FIXTURE_PATH} is stale`).toBe(true);
  }, 60_000);
});

interface StorageEntry {
  label: string;
  slot: string;
  offset: number;
  type: string;
}

function storageLayout(source: string, name: string): { label: string; slot: number; offset: number; type: string }[] {
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string, cb: unknown): string };
  const input = {
    language: 'Solidity',
    sources: { [source]: { content: readFileSync(join(CONTRACTS_DIR, source), 'utf8') } },
    settings: { outputSelection: { [source]: { [name]: ['storageLayout'] } } },
  };
  const read = (p: string) => ({ contents: readFileSync(join(CONTRACTS_DIR, p), 'utf8') });
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: read })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { storageLayout: { storage: StorageEntry[]; types: Record<string, { label: string }> } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const layout = out.contracts[source]![name]!.storageLayout;
  return layout.storage.map((e) => ({ label: e.label, slot: Number(e.slot), offset: e.offset, type: layout.types[e.type]!.label }));
}

describe('L2 predeploy storage layouts (protocol constants)', () => {
  it('L1Block: seven full slots, 0 number .. 6 depositHash', () => {
    const names = ['number', 'timestamp', 'basefee', 'hash', 'sequenceNumber', 'depositCount', 'depositHash'];
    const types = ['uint256', 'uint256', 'uint256', 'bytes32', 'uint256', 'uint256', 'bytes32'];
    expect(storageLayout('l2/L1Block.sol', 'L1Block')).toEqual(names.map((label, slot) => ({ label, slot, offset: 0, type: types[slot] })));
  });

  it('InferenceMarket: slots 0..5 are the genesis parameters inferenceMarketStorage writes', () => {
    const layout = storageLayout('l2/InferenceMarket.sol', 'InferenceMarket');
    const want = Object.entries(INFERENCE_MARKET_PARAM_SLOTS).map(([name, slot]) => ({
      label: `cfg${name[0]!.toUpperCase()}${name.slice(1)}`,
      slot: Number(slot),
      offset: 0,
      type: 'uint256',
    }));
    expect(layout.slice(0, want.length)).toEqual(want);
  });

  it('L2ToL1MessagePasser: slot 0 sentMessages, slot 1 messageNonce', () => {
    expect(storageLayout('l2/L2ToL1MessagePasser.sol', 'L2ToL1MessagePasser')).toEqual([
      { label: 'sentMessages', slot: 0, offset: 0, type: 'mapping(bytes32 => bool)' },
      { label: 'messageNonce', slot: 1, offset: 0, type: 'uint256' },
    ]);
  });
});
