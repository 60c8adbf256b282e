// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";

/// @title The model registry predeploy (genesis code at 0x4200000000000000000000000000000000000A00).
/// @notice Registry state and ownership live here, in Solidity, because an @ethereumjs/evm
/// precompile cannot see msg.sender or whether it runs in a STATICCALL: the EVM's own rules then
/// give us ownership by msg.sender, no writes under STATICCALL, and reverts that leave no trace.
/// The precompiles (verifier 0x..0A01, execution 0x..0A02) read this contract's storage
/// natively, so the STORAGE LAYOUT BELOW IS A PROTOCOL CONSTANT (precompiles/registry-layout.ts,
/// checked against solc's storageLayout by a test):
///   slot 0: mapping(bytes32 => Record) records
///     +0: owner (bytes 0..19 from the right) | version (20..23) | deprecated (24) |
///         hasWeights (25) | registeredAt (26..31)
///     +1: parent  +2: latest  +3: metadataURI (string)  +4: verifyingKey (bytes)
///   slot 1: mapping(bytes32 => bytes) encodings (model weights for execution)
///   slot 2: bytes32[] ids (registration order)
///   slot 3: mapping(bytes32 => uint256) revealFrom (commitment => first block a reveal may be
///           in: the block of the first commit + 1, so 0 means none, and a tool can simulate a
///           reveal in the commit's own block by overriding this slot with that block)
/// Registration is commit-reveal bound to the registrant (IModelRegistry says why and what risk
/// remains); every new key is checked by the verifier precompile's checkKey.
contract ModelRegistry is IModelRegistry {
    struct Record {
        address owner;
        uint32 version;
        bool deprecated;
        bool hasWeights;
        uint48 registeredAt;
        bytes32 parent;
        bytes32 latest;
        string metadataURI;
        bytes verifyingKey;
    }

    mapping(bytes32 => Record) internal records;
    mapping(bytes32 => bytes) internal encodings;
    bytes32[] internal ids;
    mapping(bytes32 => uint256) internal revealFrom;

    IInferenceVerifier internal constant VERIFIER = IInferenceVerifier(0x0000000000000000000000000000000000000a01);
    /// Smallest key: 14 words of points + the n word + IC[0] (2 words), for n = 0.
    uint256 internal constant MIN_VK_WORDS = 17;
    /// The CLI reveals one block after committing, and a wallet user by hand within minutes; an
    /// hour (at 1 s blocks) is ample. The bound stops a commitment from being held in reserve:
    /// someone who knows a model before it is published could otherwise commit once and reveal
    /// only when the author's registration shows up, at no cost of his own at that moment.
    uint256 public constant MAX_COMMIT_AGE = 3600;

    modifier onlyOwner(bytes32 modelId) {
        address owner = records[modelId].owner;
        if (owner == address(0)) revert UnknownModel(modelId);
        if (owner != msg.sender) revert NotOwner(modelId, msg.sender);
        _;
    }

    function commitRegistration(bytes32 commitment) external {
        if (revealFrom[commitment] != 0) return;
        revealFrom[commitment] = block.number + 1;
        emit RegistrationCommitted(msg.sender, commitment);
    }

    function register(bytes32 modelId, bytes calldata verifyingKey, string calldata metadataURI, bytes32 salt) external {
        bytes32 c = registrationCommitment(msg.sender, modelId, verifyingKey, metadataURI, salt);
        uint256 from = revealFrom[c];
        if (from == 0) revert UnknownCommitment(c);
        // committed in block from - 1: reveal in a later block, at most MAX_COMMIT_AGE blocks later
        if (block.number < from) revert CommitmentTooRecent(c, from - 1);
        if (block.number >= from + MAX_COMMIT_AGE) revert CommitmentExpired(c, from - 1);
        delete revealFrom[c];
        _create(modelId, bytes32(0), 1, verifyingKey, metadataURI);
    }

    function registrationCommitment(address owner, bytes32 modelId, bytes calldata verifyingKey, string calldata metadataURI, bytes32 salt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(owner, modelId, keccak256(verifyingKey), keccak256(bytes(metadataURI)), salt));
    }

    function publishVersion(bytes32 parent, bytes32 modelId, bytes calldata verifyingKey, string calldata metadataURI)
        external
        onlyOwner(parent)
    {
        Record storage p = records[parent];
        if (p.deprecated) revert AlreadyDeprecated(parent);
        _create(modelId, parent, p.version + 1, verifyingKey, metadataURI);
        // every ancestor's line now ends at the new version
        for (bytes32 a = parent; a != bytes32(0); a = records[a].parent) records[a].latest = modelId;
    }

    function publishWeights(bytes32 modelId, bytes calldata encoding) external onlyOwner(modelId) {
        Record storage r = records[modelId];
        if (r.hasWeights) revert WeightsExist(modelId);
        bytes32 h = keccak256(encoding);
        if (h != modelId) revert WeightsMismatch(modelId, h);
        encodings[modelId] = encoding;
        r.hasWeights = true;
        emit WeightsPublished(modelId, encoding.length);
    }

    function deprecate(bytes32 modelId) external onlyOwner(modelId) {
        Record storage r = records[modelId];
        if (r.deprecated) revert AlreadyDeprecated(modelId);
        r.deprecated = true;
        emit ModelDeprecated(modelId);
    }

    function transferOwnership(bytes32 modelId, address newOwner) external onlyOwner(modelId) {
        if (newOwner == address(0)) revert ZeroAddress();
        records[modelId].owner = newOwner;
        emit OwnershipTransferred(modelId, msg.sender, newOwner);
    }

    function getModel(bytes32 modelId) external view returns (Model memory m) {
        Record storage r = records[modelId];
        if (r.owner == address(0)) revert UnknownModel(modelId);
        m = Model(r.owner, r.version, r.deprecated, r.hasWeights, r.registeredAt, r.parent, r.latest, r.metadataURI, r.verifyingKey);
    }

    function exists(bytes32 modelId) external view returns (bool) {
        return records[modelId].owner != address(0);
    }

    function modelCount() external view returns (uint256) {
        return ids.length;
    }

    function listModels(uint256 offset, uint256 limit) external view returns (bytes32[] memory page) {
        uint256 n = ids.length;
        if (offset >= n) return new bytes32[](0);
        uint256 end = limit > n - offset ? n : offset + limit;
        page = new bytes32[](end - offset);
        for (uint256 i = offset; i < end; i++) page[i - offset] = ids[i];
    }

    function weights(bytes32 modelId) external view returns (bytes memory) {
        if (records[modelId].owner == address(0)) revert UnknownModel(modelId);
        return encodings[modelId];
    }

    function _create(bytes32 modelId, bytes32 parent, uint32 version, bytes calldata vk, string calldata uri) internal {
        if (records[modelId].owner != address(0)) revert ModelExists(modelId);
        // the shape first (whole words, n matches), so malformed bytes cost no curve work
        if (vk.length % 32 != 0 || vk.length < MIN_VK_WORDS * 32) revert InvalidVerifyingKey();
        uint256 n = uint256(bytes32(vk[448:480]));
        if (n > 4096 || vk.length != (17 + 2 * n) * 32) revert InvalidVerifyingKey();
        // the points: reverts KeyRefused(code), which IModelRegistry declares, for a refused key
        if (!VERIFIER.checkKey(vk)) revert InvalidVerifyingKey();
        Record storage r = records[modelId];
        r.owner = msg.sender;
        r.version = version;
        r.registeredAt = uint48(block.number);
        r.parent = parent;
        r.latest = modelId;
        r.metadataURI = uri;
        r.verifyingKey = vk;
        ids.push(modelId);
        emit ModelRegistered(modelId, msg.sender, parent, version, uri);
    }
}
