// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Model registry of the AI rollup (an L2 predeploy).
/// @notice Lives at 0x4200000000000000000000000000000000000A00 on every chain of this rollup.
/// A model id is keccak256 of the model's canonical encoding (architecture + weights + scales,
/// see precompiles/model/format.ts), so an id names exactly one model. Each id is registered once;
/// a new version is a new id whose parent is the previous one. Only the owner changes a model.
///
/// Registration is commit-reveal, bound to the registrant, so that a pending registration
/// copied from the pool cannot take the id: commitRegistration(c) with
///     c = keccak256(abi.encode(owner, modelId, keccak256(verifyingKey), keccak256(bytes(metadataURI)), salt))
/// (registrationCommitment computes it), then, in a LATER block and within MAX_COMMIT_AGE blocks,
/// register(modelId, verifyingKey, metadataURI, salt) from `owner`. The reveal recomputes c with
/// msg.sender, so the same calldata from anyone else names a commitment that does not exist
/// (UnknownCommitment). Residual risk: the reveal shows the id, so a thief who sees it pending
/// can commit to the id himself and reveal one block later; he wins only if his commitment and
/// then his reveal are both mined before the owner's pending reveal, i.e. only if the owner's
/// reveal is kept out of blocks for a block or more (a censoring sequencer, or a block full at
/// the owner's fee). `ai-rollup model register` commits, waits one block, reveals.
/// Keys: every new key goes through the verifier's checkKey (IInferenceVerifier), so keys under
/// which anyone can forge proofs (identity points, gamma = delta, ...) are refused (KeyRefused).
interface IModelRegistry {
    struct Model {
        address owner;
        uint32 version;
        bool deprecated;
        bool hasWeights;
        uint64 registeredAt; // L2 block number
        bytes32 parent; // bytes32(0) for a root model
        bytes32 latest; // newest version in this model's line (itself if none newer)
        string metadataURI;
        bytes verifyingKey; // Groth16 key, layout in IInferenceVerifier
    }

    event ModelRegistered(bytes32 indexed modelId, address indexed owner, bytes32 indexed parent, uint32 version, string metadataURI);
    event ModelDeprecated(bytes32 indexed modelId);
    event OwnershipTransferred(bytes32 indexed modelId, address indexed previousOwner, address indexed newOwner);
    event WeightsPublished(bytes32 indexed modelId, uint256 size);
    event RegistrationCommitted(address indexed committer, bytes32 indexed commitment);

    error ModelExists(bytes32 modelId);
    error UnknownModel(bytes32 modelId);
    error NotOwner(bytes32 modelId, address caller);
    error AlreadyDeprecated(bytes32 modelId);
    error InvalidVerifyingKey();
    error WeightsMismatch(bytes32 modelId, bytes32 hash);
    error WeightsExist(bytes32 modelId);
    error ZeroAddress();
    /// No live commitment of msg.sender to these arguments (also: a reveal copied by someone else).
    error UnknownCommitment(bytes32 commitment);
    /// The commitment was made in this block; reveal in a later one.
    error CommitmentTooRecent(bytes32 commitment, uint256 committedAt);
    /// The commitment is older than MAX_COMMIT_AGE blocks; commit again with a new salt.
    error CommitmentExpired(bytes32 commitment, uint256 committedAt);
    /// The verifier's checkKey refused the key (codes in IInferenceVerifier).
    error KeyRefused(uint8 code);

    /// Records the first commitment to `commitment`: it may be revealed from the next block on
    /// (later calls with the same value change nothing, so copying someone's commit cannot delay
    /// their reveal). Emits RegistrationCommitted.
    function commitRegistration(bytes32 commitment) external;

    /// Registers a root model (version 1, no parent), owned by msg.sender, against msg.sender's
    /// commitment made in an earlier block and at most MAX_COMMIT_AGE blocks ago; consumes it.
    function register(bytes32 modelId, bytes calldata verifyingKey, string calldata metadataURI, bytes32 salt) external;

    /// The commitment `owner` must make for register(modelId, verifyingKey, metadataURI, salt).
    function registrationCommitment(address owner, bytes32 modelId, bytes calldata verifyingKey, string calldata metadataURI, bytes32 salt)
        external
        pure
        returns (bytes32);

    /// Blocks a commitment stays usable (3,600: an hour at the default 1 s block time).
    function MAX_COMMIT_AGE() external view returns (uint256);

    /// Registers `modelId` as the next version of `parent` (caller must own `parent`, which must
    /// not be deprecated): version = parent's version + 1, parent's line points to it as latest.
    /// Needs no commitment: a copy from anyone else fails NotOwner.
    function publishVersion(bytes32 parent, bytes32 modelId, bytes calldata verifyingKey, string calldata metadataURI) external;

    /// Stores the model's canonical encoding so the model-execution precompile can run it.
    /// keccak256(encoding) must equal modelId. Once per model.
    function publishWeights(bytes32 modelId, bytes calldata encoding) external;

    /// A deprecated model no longer verifies or executes. Irreversible.
    function deprecate(bytes32 modelId) external;

    function transferOwnership(bytes32 modelId, address newOwner) external;

    function getModel(bytes32 modelId) external view returns (Model memory);
    function exists(bytes32 modelId) external view returns (bool);
    function modelCount() external view returns (uint256);
    /// Registration order: ids[i] for i in [offset, offset + limit).
    function listModels(uint256 offset, uint256 limit) external view returns (bytes32[] memory ids);
    function weights(bytes32 modelId) external view returns (bytes memory);
}
