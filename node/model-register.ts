/**
 * `ai-rollup model register`: sends the registration (and optionally the weights) of a compiled
 * model directory to the ModelRegistry predeploy over JSON-RPC, as any wallet would.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, defineChain, http, keccak256, toHex } from 'viem';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { MODEL_REGISTRY_ADDRESS, loadArtifact } from '../contracts/predeploys.ts';
import { devAccounts } from './chain/genesis.ts';

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
  registerTx: Hex;
  weightsTx?: Hex;
}

export class RegisterError extends Error {}

const registryAbi = loadArtifact('ModelRegistry').abi;

export async function registerModel(o: RegisterOptions): Promise<RegisterResult> {
  const manifest = JSON.parse(await readFile(join(o.modelDir, 'manifest.json'), 'utf8')) as { modelId: Hex };
  const vk = toHex(await readFile(join(o.modelDir, 'vk.bin')));
  const encoding = toHex(await readFile(join(o.modelDir, 'model.bin')));
  if (keccak256(encoding) !== manifest.modelId.toLowerCase()) {
    throw new RegisterError(`model.bin does not hash to the manifest's model id ${manifest.modelId}`);
  }
  const transport = http(o.rpcUrl);
  const pub = createPublicClient({ transport });
  const chain = defineChain({ id: await pub.getChainId(), name: 'ai-rollup', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [o.rpcUrl] } } });
  const account = privateKeyToAccount(o.privateKey);
  const wallet = createWalletClient({ account, chain, transport });
  const send = async (functionName: string, args: unknown[]): Promise<Hex> => {
    const { request } = await pub.simulateContract({ account, address: MODEL_REGISTRY_ADDRESS, abi: registryAbi, functionName, args, chain });
    const hash = await wallet.writeContract(request);
    const receipt = await pub.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new RegisterError(`${functionName} transaction ${hash} reverted`);
    return hash;
  };
  try {
    const registerTx =
      o.parent === undefined
        ? await send('register', [manifest.modelId, vk, o.metadataUri])
        : await send('publishVersion', [o.parent, manifest.modelId, vk, o.metadataUri]);
    const weightsTx = o.weights ? await send('publishWeights', [manifest.modelId, encoding]) : undefined;
    return { modelId: manifest.modelId, owner: account.address, registerTx, weightsTx };
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
    .description('register a compiled model in the ModelRegistry predeploy (sends transactions)')
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
      const r = await registerModel({ modelDir: f.model, rpcUrl: f.rpc, privateKey: key as Hex, metadataUri: f.metadataUri, parent: f.parent as Hex | undefined, weights: f.weights });
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    });
}
