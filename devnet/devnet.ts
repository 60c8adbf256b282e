import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { createPublicClient, createWalletClient, http, parseEther } from 'viem';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { predeploys } from '../contracts/predeploys.ts';
import { DEFAULT_GAS_LIMIT, devAccounts, devGenesis } from '../node/chain/genesis.ts';
import type { RollupNode } from '../node/assembly/node.ts';
import { defaultNodeOptions } from '../node/assembly/options.ts';
import { DEFAULT_REJOURNAL_MS } from '../sequencer/options.ts';
import type { NodeOptions } from '../node/assembly/options.ts';
import { parseRollupConfig, rollupConfigJson } from '../node/rollup-config.ts';
import type { RollupConfig } from '../node/rollup-config.ts';
import { startAnvil } from './anvil.ts';
import type { Anvil } from './anvil.ts';
import { DEFAULT_RESOURCE_CONFIG, deployL1, resourceConfigFor } from './deploy.ts';
import { chainAt } from '../contracts/abi/chain.ts';

export interface DevnetOptions {
  /** Keeps L1 state (anvil --state), deployment and L2 chain across runs; a temporary directory otherwise. */
  datadir?: string;
  l2ChainId: bigint;
  /** Use this L1 instead of starting anvil; --l1-key deploys and funds fresh batcher/proposer keys. */
  l1Rpc?: string;
  l1Key?: Hex;
  l1Port: number;
  l1BlockTime: number;
  rpcPort: number;
  rpcHost: string;
  blockTime: number;
  challengeWindow: bigint;
  inclusionWindow: bigint;
  logLevel: NodeOptions['logLevel'];
  /** Compile the 16-16-4 example model and register it (with weights) from dev account 0. */
  exampleModels: boolean;
  /** The L2 node's p2p (job announcements, artifacts by hash); off when unset. */
  p2p?: NodeOptions['p2p'];
  /** Serve the explorer at /explorer on the L2 port (default true). */
  explorer?: boolean;
}

export interface ExampleModel {
  name: string;
  modelId: Hex;
  dir: string;
}

/** What a devnet remembers in DATADIR/devnet.json so a restart reuses its L1 deployment. */
interface DevnetState {
  rollup: RollupConfig;
  /** inferencePoster, sequencer: absent in a devnet.json written before they existed. */
  keys: { deployer: Hex; batcher: Hex; proposer: Hex; challenger: Hex; inferencePoster?: Hex; sequencer?: Hex };
}

/**
 * The L2 block key on anvil: dev account 9, fixed, so a devnet's replicas and tests know the
 * signer without reading devnet.json. On an existing L1 (--l1-rpc) the devnet makes a fresh one.
 */
export const DEVNET_SEQUENCER_KEY = devAccounts()[9]!.privateKey as Hex;

export interface Devnet {
  l1Url: string;
  l2Url: string;
  /** The L2 node's p2p multiaddrs (`.../p2p/<peer id>`), for provers' bootnodes; empty when off. */
  p2p: string[];
  state: DevnetState;
  datadir: string;
  models: ExampleModel[];
  /** The explorer is served at `${l2Url}/explorer`. */
  explorer: boolean;
  stop(): Promise<void>;
}

/** ETH sent from --l1-key to each fresh role key on an existing L1. */
const ROLE_FUNDING = parseEther('1');

/**
 * The one-command local rollup: anvil as L1 (or an existing L1), the L1 contracts, a rollup
 * config, and the sequencer with its batcher and proposer, all in this process.
 */
export async function startDevnet(opts: DevnetOptions, logger: Logger): Promise<Devnet> {
  const temp = opts.datadir === undefined;
  const datadir = resolve(opts.datadir ?? (await mkdtemp(join(tmpdir(), 'ai-rollup-devnet-'))));
  await mkdir(datadir, { recursive: true });
  const log = logger.child({ module: 'devnet' });
  let anvil: Anvil | undefined;
  let node: RollupNode | undefined;
  const stop = async () => {
    await node?.close();
    await anvil?.stop();
    if (temp) await rm(datadir, { recursive: true, force: true });
  };
  try {
    let l1Url = opts.l1Rpc;
    if (l1Url === undefined) {
      // the L1 chain persists with the datadir, so a restarted devnet finds its contracts again
      anvil = await startAnvil({ port: opts.l1Port, blockTime: opts.l1BlockTime, statePath: temp ? undefined : join(datadir, 'l1-state.json') });
      l1Url = anvil.url;
      log.info({ l1: l1Url, pid: anvil.pid }, 'anvil started');
    }
    const state = await deployment(datadir, opts, l1Url, anvil, log);
    const modelsDir = join(datadir, 'models');
    const compiled = opts.exampleModels ? await compileExamples(modelsDir, log) : [];
    const { RollupNode } = await import('../node/assembly/node.ts');
    const nodeOptions: NodeOptions = {
      ...defaultNodeOptions,
      datadir: join(datadir, 'l2'),
      modelsDir,
      chainId: state.rollup.l2ChainId,
      dev: true,
      logLevel: opts.logLevel,
      rpc: { ...defaultNodeOptions.rpc, host: opts.rpcHost, port: opts.rpcPort },
      sequencer: {
        ...defaultNodeOptions.sequencer,
        blockTime: opts.blockTime,
        // as `node`: local transactions survive a restart of a devnet kept in a --datadir
        pool: { ...defaultNodeOptions.sequencer.pool, journal: temp ? undefined : { path: join(datadir, 'l2', 'transactions.rlp'), rejournalMs: DEFAULT_REJOURNAL_MS } },
      },
      rollup: {
        config: state.rollup,
        l1Rpc: l1Url,
        batcherKey: state.keys.batcher,
        proposerKey: state.keys.proposer,
        inferencePosterKey: state.keys.inferencePoster,
        l1PollMs: 500,
        batchMaxAgeMs: 4_000,
      },
      p2p: opts.p2p,
      explorer: opts.explorer !== false,
      // blocks are gossiped to replicas only over p2p
      sequencerKey: opts.p2p === undefined ? undefined : state.keys.sequencer,
    };
    node = await RollupNode.init(nodeOptions, logger);
    for (const m of compiled) await registerExample(node.rpcUrl, m, log);
    return { l1Url, l2Url: node.rpcUrl, p2p: node.p2pAddrs, state, datadir, models: compiled, explorer: opts.explorer !== false, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function deployment(datadir: string, opts: DevnetOptions, l1Url: string, anvil: Anvil | undefined, log: Logger): Promise<DevnetState> {
  const file = join(datadir, 'devnet.json');
  if (existsSync(file)) {
    const saved = JSON.parse(await readFile(file, 'utf8')) as DevnetState & { rollup: unknown };
    const rollup = parseRollupConfig(saved.rollup, file);
    const code = await createPublicClient({ transport: http(l1Url) }).getCode({ address: rollup.contracts.rollup });
    if (code === undefined || code === '0x') throw new Error(`${file} names a Rollup at ${rollup.contracts.rollup} that this L1 does not have; use a fresh --datadir`);
    log.info({ rollup: rollup.contracts.rollup }, 'reusing the L1 deployment of this datadir');
    return withBlockSigner(datadir, { ...saved, rollup });
  }
  const keys = anvil !== undefined ? anvilRoles(anvil) : await freshRoles(l1Url, opts.l1Key);
  const addr = (k: Hex) => privateKeyToAccount(k).address;
  const d = await deployL1({
    l1Url,
    deployerKey: keys.deployer,
    batcher: addr(keys.batcher),
    proposer: addr(keys.proposer),
    challenger: addr(keys.challenger),
    challengeWindow: opts.challengeWindow,
    inclusionWindow: opts.inclusionWindow,
    // our anvil's block time sizes the deposit gas cap; an existing L1 is taken to be Ethereum-like
    resourceConfig: anvil !== undefined ? resourceConfigFor(opts.l1BlockTime) : DEFAULT_RESOURCE_CONFIG,
  });
  const rollup: RollupConfig = {
    l2ChainId: opts.l2ChainId,
    l1ChainId: BigInt(d.l1ChainId),
    l1Start: d.deployBlock,
    contracts: { rollup: d.rollup, bridge: d.bridge, inferenceOracle: d.inferenceOracle },
    l1Confirmations: 0,
    challengeWindow: opts.challengeWindow,
    inclusionWindow: opts.inclusionWindow,
    unsafeBlockSigner: privateKeyToAccount(keys.sequencer!).address,
  };
  if (anvil !== undefined) await backGenesisEth(l1Url, d.bridge, opts.l2ChainId, log);
  else log.warn("an existing L1 cannot back the dev accounts' L2 genesis ETH: withdrawing it fails until deposits put as much in the Bridge");
  const state: DevnetState = { rollup, keys };
  await saveState(datadir, state);
  log.info({ rollup: d.rollup, bridge: d.bridge, l1Start: d.deployBlock.number }, 'L1 contracts deployed');
  return state;
}

/**
 * The dev accounts' L2 genesis ETH, put in the L1 Bridge as if it had been deposited: withdrawals
 * are paid from the Bridge's balance, so without it a newcomer's first withdrawal of that ETH
 * fails on L1 (WithdrawalCallFailed). Our own anvil only (anvil_setBalance): no real L1 mints.
 */
async function backGenesisEth(l1Url: string, bridge: Hex, l2ChainId: bigint, log: Logger): Promise<void> {
  const total = Object.values(devGenesis(l2ChainId, DEFAULT_GAS_LIMIT).alloc).reduce((sum, e) => sum + BigInt(e.balance ?? 0), 0n);
  const l1 = createPublicClient({ transport: http(l1Url) });
  const held = await l1.getBalance({ address: bridge });
  await l1.request({ method: 'anvil_setBalance' as never, params: [bridge, `0x${(held + total).toString(16)}`] as never });
  log.info({ bridge, wei: total.toString() }, "the Bridge on L1 backs the dev accounts' L2 genesis ETH");
}

async function saveState(datadir: string, state: DevnetState): Promise<void> {
  await writeFile(join(datadir, 'rollup.json'), rollupConfigJson(state.rollup));
  // holds private keys: readable by the owner only
  await writeFile(
    join(datadir, 'devnet.json'),
    JSON.stringify(state, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2),
    { mode: 0o600 },
  );
}

/** A devnet.json from before block gossip gets the fixed block key, and its rollup.json the signer. */
async function withBlockSigner(datadir: string, state: DevnetState): Promise<DevnetState> {
  if (state.keys.sequencer !== undefined && state.rollup.unsafeBlockSigner !== undefined) return state;
  const sequencer = state.keys.sequencer ?? DEVNET_SEQUENCER_KEY;
  const next: DevnetState = { keys: { ...state.keys, sequencer }, rollup: { ...state.rollup, unsafeBlockSigner: privateKeyToAccount(sequencer).address } };
  await saveState(datadir, next);
  return next;
}

const EXAMPLES = [{ name: 'tiny-16-16-4', spec: new URL('../precompiles/model/examples/tiny-16-16-4.json', import.meta.url) }];
/** The example's 4-inference circuit: the inference poster then pays ~19,000 L1 gas per inference instead of ~59,700. */
const EXAMPLE_AGGREGATE = 4;

/**
 * A datadir's example model from an earlier start is reused when every file still has its
 * manifest hash: compiling again would make new keys, while the registry keeps the first ones.
 * Circuits are cached (.cache/circuits), so only the Groth16 setups cost time on a first start.
 */
async function compileExamples(modelsDir: string, log: Logger): Promise<ExampleModel[]> {
  const { compileModel } = await import('../prover/pipeline/compile-model.ts');
  const { parseModelSpecText } = await import('../precompiles/model/spec.ts');
  const { serializeModel } = await import('../precompiles/model/codec.ts');
  const { keccakHex } = await import('../precompiles/model/commitment.ts');
  const out: ExampleModel[] = [];
  for (const e of EXAMPLES) {
    const dir = join(modelsDir, e.name);
    const spec = parseModelSpecText(await readFile(e.spec, 'utf8'));
    const modelId = keccakHex(serializeModel(spec.model));
    if (await intactPackage(dir, modelId, EXAMPLE_AGGREGATE)) {
      out.push({ name: e.name, modelId, dir });
      continue;
    }
    const c = await compileModel(spec, { outDir: dir, aggregate: EXAMPLE_AGGREGATE });
    out.push({ name: e.name, modelId: c.manifest.modelId as Hex, dir });
    log.info({ model: e.name, modelId: c.manifest.modelId, aggregate: EXAMPLE_AGGREGATE }, 'example model compiled');
  }
  return out;
}

async function intactPackage(dir: string, modelId: Hex, k: number): Promise<boolean> {
  const raw = await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => undefined);
  if (raw === undefined) return false;
  const m = JSON.parse(raw) as { modelId?: string; aggregate?: { k?: number }; artifacts?: { name: string; sha256: string }[] };
  if (m.modelId !== modelId || m.aggregate?.k !== k || !Array.isArray(m.artifacts)) return false;
  for (const a of m.artifacts) {
    const bytes = await readFile(join(dir, a.name)).catch(() => undefined);
    if (bytes === undefined || createHash('sha256').update(bytes).digest('hex') !== a.sha256) return false;
  }
  return true;
}

async function registerExample(rpcUrl: string, m: ExampleModel, log: Logger): Promise<void> {
  const registered = (await (
    await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ai_getModel', params: [m.modelId] }),
    })
  ).json()) as { result: unknown };
  if (registered.result !== null) return; // a restarted devnet keeps its registry
  const { registerModel } = await import('../node/cli/model-register.ts');
  const r = await registerModel({ modelDir: m.dir, rpcUrl, privateKey: devAccounts()[0]!.privateKey as Hex, metadataUri: `devnet://${m.name}`, weights: true });
  log.info({ model: m.name, modelId: r.modelId, owner: r.owner }, 'example model registered');
}

function anvilRoles(anvil: Anvil): DevnetState['keys'] {
  const [deployer, batcher, proposer, challenger, inferencePoster] = anvil.accounts;
  return { deployer: deployer!, batcher: batcher!, proposer: proposer!, challenger: challenger!, inferencePoster: inferencePoster!, sequencer: DEVNET_SEQUENCER_KEY };
}

/** On an existing L1, --l1-key deploys; the batcher, proposer and inference poster get keys of their own so their transactions never race for a nonce. */
async function freshRoles(l1Url: string, l1Key: Hex | undefined): Promise<DevnetState['keys']> {
  if (l1Key === undefined) throw new Error('--l1-rpc needs --l1-key (it deploys the contracts and funds the batcher and proposer)');
  const probe = createPublicClient({ transport: http(l1Url) });
  const chain = chainAt(await probe.getChainId(), l1Url, 'l1');
  const wallet = createWalletClient({ chain, transport: http(l1Url), account: privateKeyToAccount(l1Key) });
  // the block key signs L2 blocks only (no funds); fresh, since a shared L1 is not a private dev setup
  const keys = {
    deployer: l1Key,
    batcher: generatePrivateKey(),
    proposer: generatePrivateKey(),
    challenger: l1Key,
    inferencePoster: generatePrivateKey(),
    sequencer: generatePrivateKey(),
  };
  for (const k of [keys.batcher, keys.proposer, keys.inferencePoster]) {
    const hash = await wallet.sendTransaction({ to: privateKeyToAccount(k).address, value: ROLE_FUNDING });
    await probe.waitForTransactionReceipt({ hash });
  }
  return keys;
}

export function devnetBanner(d: Devnet): string {
  const c = d.state.rollup;
  const who = (k: Hex) => privateKeyToAccount(k).address;
  const lines = [
    '',
    `L1 JSON-RPC:   ${d.l1Url}  (chain ${c.l1ChainId})`,
    `L2 JSON-RPC:   ${d.l2Url}  (chain ${c.l2ChainId}, WebSocket on the same port)`,
    ...(d.explorer ? [`Explorer:      ${d.l2Url}/explorer`] : []),
    ...(d.p2p.length === 0 ? ['L2 P2P:        off'] : d.p2p.map((a, i) => (i === 0 ? 'L2 P2P:' : '').padEnd(15) + a)),
    `Datadir:       ${d.datadir}`,
    '',
    'L1 contracts',
    `  Rollup       ${c.contracts.rollup}`,
    `  Bridge       ${c.contracts.bridge}`,
    ...(c.contracts.inferenceOracle === undefined ? [] : [`  InferenceOracle ${c.contracts.inferenceOracle}  (each batch's inference proofs, checked once)`]),
    `  batcher ${who(d.state.keys.batcher)}, proposer ${who(d.state.keys.proposer)}, challenger ${who(d.state.keys.challenger)}`,
    `  challenge window ${c.challengeWindow} s, deposit inclusion window ${c.inclusionWindow} s`,
    ...(c.unsafeBlockSigner === undefined
      ? []
      : [`  L2 block signer ${c.unsafeBlockSigner} (replicas: ai-rollup node --replica --dev --rollup-config ${join(d.datadir, 'rollup.json')} --p2p.bootnodes <L2 P2P>)`]),
    '',
    'L2 predeploys',
    ...predeploys().map((p) => `  ${p.name.padEnd(20)} ${p.address}`),
    '',
    ...(d.models.length === 0
      ? []
      : [
          'Example models (registered with weights by account 0; artifacts at <L2>/artifacts, ai_modelArtifacts)',
          ...d.models.map((m) => `  ${m.name.padEnd(20)} ${m.modelId}  ${m.dir}`),
          '',
        ]),
    'Dev accounts (10,000 ETH each on L2; the same keys are funded on anvil)',
    ...devAccounts().map((a, i) => `  (${i}) ${a.address}  ${a.privateKey}`),
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  return lines.join('\n');
}
