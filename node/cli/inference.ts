/**
 * `ai-rollup inference ...`: fetch the L1 proof of an L2 inference result from a node, and check
 * one against L1 alone (node/l1/result-check.ts), trusting no node.
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createPublicClient, http, isAddress } from 'viem';
import type { Hex, PublicClient } from 'viem';
import { ZodError } from 'zod';
import { checkInferenceProof } from '../l1/result-check.ts';
import type { ResultCheckTarget } from '../l1/result-check.ts';
import { readRollupConfig } from '../rollup-config.ts';
import { parseInferenceProof } from '../rollup/result-proof.ts';
import type { InferenceProof } from '../rollup/result-proof.ts';

const requestId = (v: string) => {
  if (!/^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(v)) throw new InvalidArgumentError('expected a request id (decimal or 0x hex)');
  return BigInt(v);
};
const addr = (v: string) => {
  if (!isAddress(v, { strict: false })) throw new InvalidArgumentError('expected a 0x-prefixed 20-byte address');
  return v as Hex;
};
const chainId = (v: string) => {
  if (!/^[0-9]{1,20}$/.test(v)) throw new InvalidArgumentError('expected a chain id');
  return BigInt(v);
};

async function askNode(rpc: string, id: bigint): Promise<unknown> {
  const client = createPublicClient({ transport: http(rpc, { retryCount: 0 }) });
  return client.request({ method: 'ai_getInferenceProof' as never, params: [`0x${id.toString(16)}`] as never });
}

function parseAnswer(json: unknown, from: string): InferenceProof {
  if (json === null) throw new Error(`${from}: the node has no fulfilment of this request (null)`);
  try {
    return parseInferenceProof(json);
  } catch (err) {
    if (err instanceof ZodError) {
      const i = err.issues[0]!;
      throw new Error(`${from} is not an ai_getInferenceProof answer: ${i.path.join('.') || '(root)'}: ${i.message}`);
    }
    throw err;
  }
}

async function target(f: { rollupConfig?: string; rollup?: Hex; oracle?: Hex; l2ChainId?: bigint }): Promise<ResultCheckTarget> {
  if (f.rollupConfig !== undefined) {
    const c = await readRollupConfig(f.rollupConfig);
    return { l2ChainId: c.l2ChainId, rollup: c.contracts.rollup, oracle: f.oracle ?? c.contracts.inferenceOracle };
  }
  if (f.rollup === undefined || f.l2ChainId === undefined)
    throw new Error('give --rollup-config FILE, or --rollup ADDRESS and --l2-chain-id N (and --oracle ADDRESS for the fast path)');
  return { l2ChainId: f.l2ChainId, rollup: f.rollup, oracle: f.oracle };
}

const json = (v: unknown) => `${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x), 2)}\n`;

export function inferenceCommand(): Command {
  const cmd = new Command('inference').description('prove L2 inference results on L1: fetch a proof from a node, check one against L1');
  cmd
    .command('proof')
    .description('print ai_getInferenceProof(ID) of a node (JSON): the result leaf, its batch, Merkle proofs, oracle and output status')
    .argument('<id>', 'request id (decimal or 0x hex)', requestId)
    .requiredOption('--rpc <url>', 'JSON-RPC URL of a node (sequencer or replica)')
    .action(async (id: bigint, f: { rpc: string }) => {
      const answer = await askNode(f.rpc, id);
      if (answer === null) throw new Error(`request ${id}: the node has no fulfilment of it (null)`);
      process.stdout.write(json(answer));
    });
  cmd
    .command('verify')
    .description('check an ai_getInferenceProof answer against L1 alone (the Rollup and InferenceOracle), trusting no node; exit 1 unless it holds at --require')
    .option('--proof <file>', 'the answer, as a JSON file')
    .option('--rpc <url>', 'or: ask this node for it (with --request)')
    .option('--request <id>', 'request id to ask --rpc for', requestId)
    .requiredOption('--l1-rpc <url>', 'L1 JSON-RPC URL: the only source trusted')
    .option('--rollup-config <file>', 'the rollup config (l2ChainId and L1 addresses)')
    .option('--rollup <address>', 'or: the Rollup contract on L1', addr)
    .option('--oracle <address>', "the InferenceOracle on L1 (default: the rollup config's)", addr)
    .option('--l2-chain-id <n>', 'the L2 chain id (with --rollup)', chainId)
    .addOption(
      new Option(
        '--require <level>',
        'what must hold: the leaf is in a batch on L1, and for fast the oracle verified it or attested its batch, for final an output over it is final (fast also passes when final)',
      )
        .choices(['batched', 'fast', 'final'])
        .default('fast'),
    )
    .action(
      async (f: {
        proof?: string;
        rpc?: string;
        request?: bigint;
        l1Rpc: string;
        rollupConfig?: string;
        rollup?: Hex;
        oracle?: Hex;
        l2ChainId?: bigint;
        require: 'batched' | 'fast' | 'final';
      }) => {
        let answer: InferenceProof;
        if (f.proof !== undefined) {
          let raw: unknown;
          try {
            raw = JSON.parse(await readFile(f.proof, 'utf8'));
          } catch (err) {
            throw new Error(`cannot read ${f.proof}: ${(err as Error).message}`);
          }
          answer = parseAnswer(raw, f.proof);
        } else if (f.rpc !== undefined && f.request !== undefined) {
          answer = parseAnswer(await askNode(f.rpc, f.request), `${f.rpc}'s answer`);
        } else {
          throw new Error('give --proof FILE, or --rpc URL and --request ID');
        }
        const t = await target(f);
        const client = createPublicClient({ transport: http(f.l1Rpc, { retryCount: 1 }) }) as PublicClient;
        const check = await checkInferenceProof(client, t, answer);
        process.stdout.write(json(check));
        const holds = f.require === 'batched' || check.final || (f.require === 'fast' && (check.fast || check.attested));
        if (!holds) throw new Error(`request ${check.requestId}: ${f.require} does not hold yet (${check.notes.join('; ')})`);
      },
    );
  return cmd;
}
