/** `ai-rollup prover`: join the network as a prover, prove requested inferences, get paid. */
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseEther } from 'viem';
import type { Hex } from 'viem';
import { devAccounts } from '../chain/genesis.ts';
import { createLogger } from '../logger.ts';
import type { LogLevel } from '../logger.ts';

const KEY = /^0x[0-9a-fA-F]{64}$/;

const int =
  (name: string, min = 0) =>
  (v: string) => {
    if (!/^[0-9]+$/.test(v) || Number(v) < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return Number(v);
  };
const eth = (v: string) => {
  if (!/^[0-9]+(\.[0-9]{1,18})?$/.test(v)) throw new InvalidArgumentError('--stake must be an amount of ETH, e.g. 1 or 0.5');
  return parseEther(v);
};
const wei = (v: string) => {
  if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError('--min-fee must be an integer amount of wei');
  return BigInt(v);
};
const list = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
];

function proverKey(f: Record<string, unknown>): Hex {
  const given = (f.privateKey as string | undefined) ?? process.env.AI_ROLLUP_PROVER_KEY;
  if (given !== undefined && given !== '') {
    if (!KEY.test(given)) throw new Error('--private-key must be a 0x-prefixed 32-byte hex private key');
    return given as Hex;
  }
  const n = f.devAccount as number | undefined;
  if (n === undefined) throw new Error('a prover needs a key: --private-key KEY (or AI_ROLLUP_PROVER_KEY), or --dev-account N on a devnet');
  const a = devAccounts()[n];
  if (a === undefined) throw new Error(`--dev-account must be 0..${devAccounts().length - 1}`);
  return a.privateKey as Hex;
}

export function proverCommand(): Command {
  return new Command('prover')
    .description('prove inferences requested on the InferenceMarket: jobs over libp2p and from the chain, proofs in a thread pool, paid on chain')
    .option('--rpc <url>', 'L2 JSON-RPC of a node (transactions and reads)', 'http://127.0.0.1:9545')
    .option('--private-key <key>', 'the prover account (or env AI_ROLLUP_PROVER_KEY)')
    .option('--dev-account <n>', 'use dev account N of the test mnemonic (devnets only)', int('--dev-account'))
    .option('--datadir <dir>', 'model packages, p2p key and scan position', './prover-data')
    .addOption(new Option('--concurrency <n>', 'proving threads').argParser(int('--concurrency', 1)).default(availableParallelism(), 'the number of CPU cores'))
    .option('--stake <eth>', 'stake to register with when this account is not registered yet, and to add again whenever slashes take it below the market minimum', eth)
    .addOption(new Option('--min-fee <wei>', 'leave jobs paying less to others').argParser(wei).default(0n, '0'))
    .option('--p2p.bootnodes <multiaddrs>', 'peers to join through, comma-separated /ip4/.../tcp/.../p2p/<id> (a node logs its own)', list, [])
    .option('--p2p.listen <multiaddr>', 'p2p listen address (repeatable)', list)
    .option('--poll-ms <ms>', 'milliseconds between chain scans for requests', int('--poll-ms', 100), 2_000)
    .option('--claim-margin <seconds>', 'do not claim a job ending sooner than this', int('--claim-margin'), 10)
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'))
    .action(async (f: Record<string, unknown>) => runProver(f));
}

async function runProver(f: Record<string, unknown>): Promise<void> {
  const logger = createLogger(f.logLevel as LogLevel);
  const privateKey = proverKey(f);
  // loaded here: --help should not pay for libp2p and snarkjs
  const { ProverNode } = await import('../../prover/daemon/prover-node.ts');
  const prover = await ProverNode.init(
    {
      rpcUrl: f.rpc as string,
      privateKey,
      datadir: f.datadir as string,
      concurrency: f.concurrency as number,
      stake: f.stake as bigint | undefined,
      runner: { minFee: f.minFee as bigint, deadlineMarginS: BigInt(f.claimMargin as number), retryMs: 2_000 },
      pollMs: f.pollMs as number,
      p2p: { listen: (f['p2p.listen'] as string[] | undefined) ?? ['/ip4/0.0.0.0/tcp/0'], bootnodes: f['p2p.bootnodes'] as string[] },
    },
    logger,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1); // a second signal means: now
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void prover.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
