// SPDX-License-Identifier: MIT
// Vendored from github.com/ethereum-optimism/optimism at d317e96c2a, packages/contracts-bedrock/src/libraries/Burn.sol
// (MIT, Copyright (c) 2022 Optimism, see LICENSE-optimism). Edits: these comment lines; Burn.eth and its Burner
// (a SELFDESTRUCT, deprecated since Cancun) are left out, as ResourceMetering burns gas only.
pragma solidity ^0.8.0;

/// @title Burn
/// @notice Utilities for burning stuff.
library Burn {
    /// @notice Burns a given amount of gas.
    /// @param _amount Amount of gas to burn.
    function gas(uint256 _amount) internal view {
        uint256 i = 0;
        uint256 initialGas = gasleft();
        while (initialGas - gasleft() < _amount) {
            ++i;
        }
    }
}
