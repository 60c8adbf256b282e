// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Model registry of the AI rollup (an L2 predeploy).
/// @notice Lives at 0x4200000000000000000000000000000000000A00 on every chain of this rollup.
/// A model id is keccak256 of the model's canonical encoding (architecture + weights + scales,
/// see prover/model/format.ts), so an id names exactly one model. Each id is registered once;
/// a new version is a new id whose parent is the previous one. Only the owner changes a model.
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

    error ModelExists(bytes32 modelId);
    error UnknownModel(bytes32 modelId);
    error NotOwner(bytes32 modelId, address caller);
    error AlreadyDeprecated(bytes32 modelId);
    error InvalidVerifyingKey();
    error WeightsMismatch(bytes32 modelId, bytes32 hash);
    error WeightsExist(bytes32 modelId);
    error ZeroAddress();

    /// Registers a root model (version 1, no parent), owned by msg.sender.
    function register(bytes32 modelId, bytes calldata verifyingKey, string calldata metadataURI) external;

    /// Registers `modelId` as the next version of `parent` (caller must own `parent`, which must
    /// not be deprecated): version = parent's version + 1, parent's line points to it as latest.
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
