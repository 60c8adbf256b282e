/**
 * Typed ABI of contracts/interfaces/IInferenceMarket.sol for viem's type inference (the
 * committed artifact carries an untyped `Abi`); test/unit/market-abi.test.ts checks it against
 * what solc emits.
 */
import { type ContractFunctionReturnType, parseAbi } from 'viem';

export const marketAbi = parseAbi([
  'struct Request { address requester; uint64 deadline; uint8 status; address callback; uint32 callbackGas; uint32 outputCount; address claimant; uint64 claimedUntil; address prover; bytes32 modelId; uint256 fee; uint256 claimLock; uint256[] inputSignals; uint256[] outputs; }',
  'struct Prover { uint256 stake; uint256 locked; uint32 fulfilled; uint32 missed; uint32 rejected; }',
  'struct Parameters { uint256 minStake; uint256 claimStake; uint256 claimWindow; uint256 missSlashBps; uint256 rejectSlashBps; uint256 maxCallbackGas; }',
  'event ProverStaked(address indexed prover, uint256 amount, uint256 stake)',
  'event StakeWithdrawn(address indexed prover, uint256 amount, uint256 stake)',
  'event InferenceRequested(uint256 indexed id, bytes32 indexed modelId, address indexed requester, uint256 fee, uint64 deadline, uint32 outputCount, uint32 callbackGas, uint256[] inputSignals)',
  'event Claimed(uint256 indexed id, address indexed prover, uint64 until)',
  'event ClaimMissed(uint256 indexed id, address indexed prover, uint256 slashed)',
  'event ProofRejected(uint256 indexed id, address indexed prover, uint256 slashed, bytes reason)',
  'event InferenceFulfilled(uint256 indexed id, bytes32 indexed modelId, address indexed prover, uint256 fee, uint256[] outputs, uint256[8] proof)',
  'event CallbackFailed(uint256 indexed id, address indexed callback)',
  'event Refunded(uint256 indexed id, address indexed requester, uint256 fee)',
  'event PaymentDeferred(address indexed to, uint256 amount)',
  'event CreditWithdrawn(address indexed account, address indexed to, uint256 amount)',
  'error ZeroValue()',
  'error InvalidTtl(uint64 ttlSeconds, uint64 max)',
  'error CallbackGasTooHigh(uint32 given, uint256 max)',
  'error ModelUnavailable(bytes32 modelId, bytes reason)',
  'error InputSignalCount(uint256 publicInputs, uint256 given)',
  'error InvalidInputSignal(uint256 index)',
  'error UnknownRequest(uint256 id)',
  'error AlreadyFulfilled(uint256 id)',
  'error AlreadyRefunded(uint256 id)',
  'error Expired(uint256 id, uint64 deadline)',
  'error NotExpired(uint256 id, uint64 deadline)',
  'error NotRegistered(address prover, uint256 stake, uint256 minStake)',
  'error InsufficientFreeStake(uint256 free, uint256 needed)',
  'error StakeTooLow(uint256 stake, uint256 minStake)',
  'error AlreadyClaimed(uint256 id, address claimant, uint64 until)',
  'error NotClaimant(uint256 id, address claimant, uint64 until)',
  'error TooLateToClaim(uint256 id, uint64 deadline)',
  'error NothingToReap(uint256 id)',
  'error InsufficientGas(uint256 callbackGas)',
  'error VerifierFailed(bytes reason)',
  'error TransferFailed(address to)',
  'function registerProver() payable',
  'function withdrawStake(uint256 amount)',
  'function claim(uint256 id)',
  'function fulfill(uint256 id, uint256[] outputs, uint256[8] proof) returns (bool accepted)',
  'function reap(uint256 id) returns (uint256 slashed)',
  'function requestInference(bytes32 modelId, uint256[] inputSignals, uint64 ttlSeconds, address callback, uint32 callbackGas) payable returns (uint256 id)',
  'function refund(uint256 id)',
  'function withdrawCredit(address to)',
  'function getRequest(uint256 id) view returns (Request)',
  'function result(uint256 id) view returns (bool fulfilled, uint256[] outputs)',
  'function requestCount() view returns (uint256)',
  'function getProver(address prover) view returns (Prover)',
  'function freeStake(address prover) view returns (uint256)',
  'function credits(address account) view returns (uint256)',
  'function parameters() view returns (Parameters)',
]);

/** IInferenceMarket.Status */
export const RequestStatus = { None: 0, Open: 1, Fulfilled: 2, Refunded: 3 } as const;

/** IInferenceMarket.Prover as getProver returns it through viem: stake, locked, fulfilled, missed, rejected. */
export type MarketProver = ContractFunctionReturnType<typeof marketAbi, 'view', 'getProver'>;
