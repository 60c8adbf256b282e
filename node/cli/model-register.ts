/**
 * `ai-rollup model register`: sends the registration (and optionally the weights) of a compiled
 * model directory to the ModelRegistry predeploy over JSON-RPC, as any wallet would.
 *
 * A root registration is commit-reveal (IModelRegistry): commitRegistration with a random salt,
 * then register from the next block on. The reveal is simulated in the commit's own block with
 * the registry's revealFrom slot overridden to that block (so this works on a chain that seals a
 * block per transaction too: the reveal itself then makes the next block), and sent with the gas
 * that simulation measured; the node includes it in a later block than the commit's.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, encodeAbiParameters, http, keccak256, numberToHex, pad, toHex } from 'viem';
import type { Account, Chain, Hex, PublicClient, StateOverride, Transport, WalletClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { MODEL_REGISTRY_ADDRESS, loadArtifact } from '../../contracts/predeploys.ts';
import { revealFromSlot } from '../../precompiles/registry-layout.ts';
import { devAccounts } from '../chain/genesis.ts';
import { CodedError } from '../../precompiles/errors.ts';
import { chainAt } from '../../contracts/abi/chain.ts';

export interface RegisterOptions {
  modelDir: string;
  rpcUrl: string;
  privateKey: Hex;
  metadataUri: string;
  parent?: Hex;
  weights: boolean;
}

export interface RegisterResult {
  modelId: Hex;
  owner: Hex;
  /** The commitment transaction of a root registration. */
  commitTx?: Hex;
  registerTx: Hex;
  weightsTx?: Hex;
}

export class RegisterError extends CodedError {
  override readonly code = 'REGISTER_ERROR';
}

const registryAbi = loadArtifact('ModelRegistry').abi;

/** IModelRegistry.registrationCommitment: what `owner` commits to before register(modelId, vk, uri, salt). */
export function registrationCommitment(owner: Hex, modelId: Hex, vk: Hex, uri: string, salt: Hex): Hex {
  const types = [{ type: 'address' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }] as const;
  return keccak256(encodeAbiParameters(types, [owner, modelId, keccak256(vk), keccak256(toHex(uri)), salt]));
}

/** State in which `commitment` may be revealed in block `block` (its revealFrom slot set to it). */
export function revealableIn(commitment: Hex, block: bigint): StateOverride {
  const slot = pad(numberToHex(revealFromSlot(Buffer.from(commitment.slice(2), 'hex'))), { size: 32 });
  return [{ address: MODEL_REGISTRY_ADDRESS, stateDiff: [{ slot, value: pad(numberToHex(block), { size: 32 }) }] }];
}

export type Wallet = WalletClient<Transport, Chain, Account>;

/** Simulates (a revert throws with the registry's error), then sends and waits for success. */
async function send(pub: PublicClient, wallet: Wallet, functionName: string, args: unknown[], override?: StateOverride): Promise<Hex> {
  const call = { account: wallet.account, address: MODEL_REGISTRY_ADDRESS, abi: registryAbi, functionName, args, chain: wallet.chain } as const;
  // with an override, the gas is measured under it: the node's own estimate would see the real state
  const gas = override === undefined ? undefined : await pub.estimateContractGas({ ...call, stateOverride: override });
  const { request } = await pub.simulateContract({ ...call, stateOverride: override });
  const hash = await wallet.writeContract({ ...request, gas });
  const receipt = await pub.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new RegisterError(`${functionName} transaction ${hash} reverted`);
  return hash;
}

/**
 * commitRegistration, then register from the next block; a refusal shows before the commit is
 * paid for. Throws viem's error (the registry's custom error inside) on a refusal.
 */
export async function commitAndRegister(
  pub: PublicClient,
  wallet: Wallet,
  modelId: Hex,
  vk: Hex,
  uri: string,
  salt: Hex = toHex(randomBytes(32)),
): Promise<{ commitTx: Hex; registerTx: Hex }> {
  const commitment = registrationCommitment(wallet.account.address, modelId, vk, uri, salt);
  const args = [modelId, vk, uri, salt];
  const latest = await pub.getBlockNumber({ cacheTime: 0 });
  // ModelExists, KeyRefused, ... before anything is paid (block 0 cannot host the override)
  if (latest > 0n)
    await pub.simulateContract({
      account: wallet.account,
      address: MODEL_REGISTRY_ADDRESS,
      abi: registryAbi,
      functionName: 'register',
      args,
      stateOverride: revealableIn(commitment, latest),
    });
  const commitTx = await send(pub, wallet, 'commitRegistration', [commitment]);
  const committedIn = (await pub.getTransactionReceipt({ hash: commitTx })).blockNumber;
  const registerTx = await send(pub, wallet, 'register', args, revealableIn(commitment, committedIn));
  return { commitTx, registerTx };
}

export async function registerModel(o: RegisterOptions): Promise<RegisterResult> {
  const manifest = JSON.parse(await readFile(join(o.modelDir, 'manifest.json'), 'utf8')) as { modelId: Hex };
  const vk = toHex(await readFile(join(o.modelDir, 'vk.bin')));
  const encoding = toHex(await readFile(join(o.modelDir, 'model.bin')));
  if (keccak256(encoding) !== manifest.modelId.toLowerCase()) {
    throw new RegisterError(`model.bin does not hash to the manifest's model id ${manifest.modelId}`);
  }
  const transport = http(o.rpcUrl);
  const pub = createPublicClient({ transport, pollingInterval: 250 });
  const chain = chainAt(await pub.getChainId(), o.rpcUrl, 'ai-rollup');
  const account = privateKeyToAccount(o.privateKey);
  const wallet = createWalletClient({ account, chain, transport });
  try {
    const reg =
      o.parent === undefined
        ? await commitAndRegister(pub, wallet, manifest.modelId, vk, o.metadataUri)
        : { registerTx: await send(pub, wallet, 'publishVersion', [o.parent, manifest.modelId, vk, o.metadataUri]) };
    const weightsTx = o.weights ? await send(pub, wallet, 'publishWeights', [manifest.modelId, encoding]) : undefined;
    return { modelId: manifest.modelId, owner: account.address, ...reg, weightsTx };
  } catch (err) {
    throw new RegisterError(describe(err));
  }
}

/** "ModelExists(0x..)" rather than viem's page of text. */
function describe(err: unknown): string {
  if (err instanceof BaseError) {
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError && revert.data !== undefined) {
      return `registry refused: ${revert.data.errorName}(${(revert.data.args ?? []).map(String).join(', ')})`;
    }
    return err.shortMessage;
  }
  return err instanceof Error ? err.message : String(err);
}

export function registerCommand(): Command {
  return new Command('register')
    .description('register a compiled model in the ModelRegistry predeploy (commit, then reveal a block later; sends transactions)')
    .requiredOption('--model <dir>', 'model directory written by `model compile`')
    .option('--rpc <url>', 'JSON-RPC endpoint of the node', 'http://127.0.0.1:8545')
    .option('--private-key <hex>', 'key of the owner (default: $AI_ROLLUP_PRIVATE_KEY, else dev account 0 with --dev)')
    .option('--dev', 'sign with dev account 0 of the test mnemonic', false)
    .option('--metadata-uri <uri>', 'where the model is described', '')
    .option('--parent <modelId>', 'register as the next version of this model (you must own it)')
    .option('--weights', 'also publish the weights so contracts can run the model (model execution precompile)', false)
    .action(async (f: { model: string; rpc: string; privateKey?: string; dev: boolean; metadataUri: string; parent?: string; weights: boolean }) => {
      const key = f.privateKey ?? process.env.AI_ROLLUP_PRIVATE_KEY ?? (f.dev ? devAccounts(1)[0]!.privateKey : undefined);
      if (key === undefined || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
        throw new RegisterError('a 32-byte 0x-hex --private-key (or $AI_ROLLUP_PRIVATE_KEY, or --dev) is required');
      }
      if (f.parent !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(f.parent)) throw new RegisterError('--parent must be a 32-byte 0x-hex model id');
      const r = await registerModel({
        modelDir: f.model,
        rpcUrl: f.rpc,
        privateKey: key as Hex,
        metadataUri: f.metadataUri,
        parent: f.parent as Hex | undefined,
        weights: f.weights,
      });
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    });
}
