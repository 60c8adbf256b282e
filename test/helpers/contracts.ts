import { encodeAbiParameters, keccak256, parseAbi, toEventSelector, toFunctionSelector } from 'viem';
import type { Abi, AbiEvent, AbiFunction, Address, Hex, PublicClient, TransactionReceipt, WalletClient, Account, Chain, Transport } from 'viem';
import { compileContracts } from '../../contracts/compile.ts';
import type { CompiledContract } from '../../contracts/compile.ts';

/** Typed ABIs of contracts/test/*.sol; `loadTestContracts` checks them against what solc emits. */
export const tokenAbi = parseAbi([
  'constructor(string name_, string symbol_, uint256 initialSupply)',
  'function name() view returns (string)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
  'function totalSupply() view returns (uint256)',
  'function balanceOf(address) view returns (uint256)',
  'function allowance(address, address) view returns (uint256)',
  'function mint(address to, uint256 amount)',
  'function transfer(address to, uint256 amount) returns (bool)',
  'function approve(address spender, uint256 amount) returns (bool)',
  'function transferFrom(address from, address to, uint256 amount) returns (bool)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event Approval(address indexed owner, address indexed spender, uint256 value)',
]);

export const reverterAbi = parseAbi([
  'error Custom(uint256 x, address who)',
  'function revertWithReason() pure',
  'function revertWithCustom(uint256 x) view',
  'function revertPanic() pure returns (uint256)',
  'function ok() pure returns (uint256)',
  'function burnGas(uint256 n)',
]);

export const eventsAbi = parseAbi([
  'event Ping(uint256 indexed i, address indexed from, bytes data)',
  'event ValueSet(uint256 indexed v)',
  'function value() view returns (uint256)',
  'function emitMany(uint256 n)',
  'function setValue(uint256 v)',
]);

/** TestToken storage: name 0, symbol 1, totalSupply 2, balanceOf 3, allowance 4 (decimals is a constant). */
export const TOKEN_SLOTS = { totalSupply: 2n, balanceOf: 3n } as const;
/** Events storage: value 0. */
export const EVENTS_VALUE_SLOT = 0n;

/** The storage slot of `mapping[key]` for a mapping declared at `slot`. */
export function mappingSlot(key: Address, slot: bigint): Hex {
  return keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [key, slot]));
}

export interface TestContracts {
  TestToken: CompiledContract;
  Reverter: CompiledContract;
  Events: CompiledContract;
}

/** Compiles contracts/test/*.sol (cached) and fails loudly if the typed ABIs above drifted from the sources. */
export async function loadTestContracts(): Promise<TestContracts> {
  const out = await compileContracts(['test/TestToken.sol', 'test/Reverter.sol', 'test/Events.sol']);
  const pick = (name: keyof TestContracts, typed: Abi): CompiledContract => {
    const c = out[name];
    if (c === undefined) throw new Error(`solc produced no ${name}`);
    const sigs = (abi: Abi) =>
      new Set(
        abi.flatMap((i) => {
          if (i.type === 'function') return [`f${toFunctionSelector(i as AbiFunction)}`];
          if (i.type === 'event') return [`e${toEventSelector(i as AbiEvent)}`];
          if (i.type === 'error') return [`x${toFunctionSelector(i as unknown as AbiFunction)}`];
          return [];
        }),
      );
    const have = sigs(c.abi);
    for (const s of sigs(typed)) if (!have.has(s)) throw new Error(`${name}: typed ABI entry ${s} is not in the compiled ABI`);
    return c;
  };
  return { TestToken: pick('TestToken', tokenAbi), Reverter: pick('Reverter', reverterAbi), Events: pick('Events', eventsAbi) };
}

type Wallet = WalletClient<Transport, Chain, Account>;

/** Deploys bytecode with constructor args and waits for the receipt; returns the contract address. */
export async function deploy(
  wallet: Wallet,
  publicClient: PublicClient<Transport, Chain>,
  contract: CompiledContract,
  args: readonly unknown[] = [],
): Promise<{ address: Address; receipt: TransactionReceipt }> {
  const hash = await wallet.deployContract({ abi: contract.abi, bytecode: contract.bytecode, args } as Parameters<Wallet['deployContract']>[0]);
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || receipt.contractAddress == null) throw new Error(`deployment ${hash} failed`);
  return { address: receipt.contractAddress, receipt };
}
