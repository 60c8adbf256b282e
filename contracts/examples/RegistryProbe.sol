// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @title Test helper: reaches the registry from a contract.
/// @notice Shows that ownership follows msg.sender (this contract, not tx.origin) and that a
/// STATICCALL into the registry cannot write.
contract RegistryProbe {
    IModelRegistry public constant REGISTRY = IModelRegistry(0x4200000000000000000000000000000000000A00);

    /// The commitment binds msg.sender: this contract commits, so only this contract may reveal.
    function commit(bytes32 commitment) external {
        REGISTRY.commitRegistration(commitment);
    }

    function register(bytes32 modelId, bytes calldata vk, string calldata uri, bytes32 salt) external {
        REGISTRY.register(modelId, vk, uri, salt);
    }

    function deprecate(bytes32 modelId) external {
        REGISTRY.deprecate(modelId);
    }

    /// Tries a registration under STATICCALL; returns whether the call succeeded.
    function staticRegister(bytes32 modelId, bytes calldata vk, bytes32 salt) external view returns (bool ok) {
        (ok,) = address(REGISTRY).staticcall(abi.encodeCall(IModelRegistry.register, (modelId, vk, "", salt)));
    }

    /// Registers, then reverts: nothing of the registration may remain.
    function registerThenRevert(bytes32 modelId, bytes calldata vk, bytes32 salt) external {
        REGISTRY.register(modelId, vk, "", salt);
        revert("rolled back");
    }
}
