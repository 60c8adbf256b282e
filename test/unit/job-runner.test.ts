import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestStatus } from '../../contracts/abi/market.ts';
import { initMcl } from '../../precompiles/groth16/verify.ts';
import { parseModelSpecText } from '../../precompiles/model/spec.ts';
import type { JobEnd, RunnerChain } from '../../prover/daemon/job-runner.ts';
import { JobRunner } from '../../prover/daemon/job-runner.ts';
import { MarketRevert, NO_CLAIMANT } from '../../prover/daemon/prover-chain.ts';
import type { MarketRequest } from '../../prover/daemon/prover-chain.ts';
import { compileModel } from '../../prover/pipeline/compile-model.ts';
import { loadModelDir, proveInference } from '../../prover/pipeline/prove.ts';
import type { InferenceProof } from '../../prover/pipeline/prove.ts';
import { SHIPPED_PTAU_DIR } from '../../prover/setup/ptau.ts';

const SPEC = parseModelSpecText(readFileSync(new URL('../../precompiles/model/examples/tiny-16-16-4.json', import.meta.url), 'utf8'));
const INPUT = Array.from({ length: 16 }, (_, i) => (i * 31 + 5) % 256);
const ME = '0x00000000000000000000000000000000000000aa' as Hex;

/**
 * The market as the runner sees it, in memory: stake below the minimum refuses claims with
 * NotRegistered, as InferenceMarket._eligible does; a top-up (register) restores it.
 */
class FakeMarket implements RunnerChain {
  readonly address = ME;
  stake = 0n;
  readonly minStake = 10n;
  claims = 0;
  fulfils = 0;
  registers = 0;
  constructor(private readonly req: MarketRequest) {}
  async getRequest(): Promise<MarketRequest> {
    return this.req;
  }
  async latestTimestamp(): Promise<bigint> {
    return 1_000n;
  }
  async modelKey(): Promise<Hex> {
    return '0x01';
  }
  async modelManifest(): Promise<string> {
    return 'manifest';
  }
  async claim(id: bigint): Promise<void> {
    if (this.stake < this.minStake) throw new MarketRevert('NotRegistered', [ME, this.stake, this.minStake], `claim: NotRegistered(${ME}, ${this.stake}, ${this.minStake})`);
    this.claims++;
    this.req.claimant = ME;
    this.req.claimedUntil = 2_000n;
    void id;
  }
  async fulfil() {
    this.fulfils++;
    this.req.status = RequestStatus.Fulfilled;
    return { kind: 'paid' as const, fee: this.req.fee, tx: '0x' as Hex };
  }
}

describe('job runner: a prover slashed below the market minimum', () => {
  let work: string;
  let dir: string;
  let proof: InferenceProof;
  let request: () => MarketRequest;

  beforeAll(async () => {
    await initMcl();
    work = mkdtempSync(join(tmpdir(), 'job-runner-'));
    dir = join(work, 'model');
    const { manifest } = await compileModel(SPEC, { outDir: dir, input: 'public', ptauPath: join(SHIPPED_PTAU_DIR, 'pot11.ptau') });
    proof = await proveInference(loadModelDir(dir), INPUT);
    const signals = proof.publicSignals.map(BigInt);
    const inputSignals = signals.slice(signals.length - INPUT.length);
    request = () => ({
      id: 1n,
      modelId: manifest.modelId as Hex,
      status: RequestStatus.Open,
      deadline: 5_000n,
      claimant: NO_CLAIMANT,
      claimedUntil: 0n,
      outputCount: signals.length - INPUT.length,
      fee: 7n,
      inputSignals,
    });
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const run = (market: FakeMarket, restake?: () => Promise<boolean>) =>
    new Promise<JobEnd>((resolve) => {
      const runner = new JobRunner(
        { minFee: 0n, deadlineMarginS: 10n, retryMs: 10 },
        { chain: market, models: { ensure: async () => dir }, prove: async () => proof, restake, logger: pino({ level: 'silent' }) },
      );
      runner.onJobEnd((_, end) => {
        runner.close();
        resolve(end);
      });
      const r = request();
      runner.offer({ requestId: r.id, modelId: r.modelId, inputSignals: r.inputSignals, input: INPUT });
    });

  it('restakes and goes on: the claim is retried once the stake is back, and the job is fulfilled', async () => {
    const market = new FakeMarket(request());
    market.stake = 9n; // one miss below the minimum
    const end = await run(market, async () => {
      market.registers++;
      market.stake += 10n;
      return true;
    });
    expect(end).toBe('fulfilled');
    expect({ registers: market.registers, claims: market.claims, fulfils: market.fulfils }).toEqual({ registers: 1, claims: 1, fulfils: 1 });
  });

  it('a restake that cannot be made ends the job without looping', async () => {
    const market = new FakeMarket(request());
    let asked = 0;
    const end = await run(market, async () => {
      asked++;
      return false;
    });
    expect(end).toBe('failed');
    expect({ asked, claims: market.claims, fulfils: market.fulfils }).toEqual({ asked: 1, claims: 0, fulfils: 0 });
  });

  it('without a stake to add (no --stake) the job ends as failed, nothing sent', async () => {
    const market = new FakeMarket(request());
    expect(await run(market)).toBe('failed');
    expect(market.fulfils).toBe(0);
  });
});
