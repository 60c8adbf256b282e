// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IInferenceOracle } from "../../interfaces/IInferenceOracle.sol";

/// @title G1: BN254 G1 arithmetic through the EIP-196 precompiles, for the InferenceOracle.
library G1 {
    /// @dev s * (x, y); the inputs are on the curve, so ecMul only fails when out of gas. Both
    /// helpers use scratch memory past the free pointer: a call per point must not grow memory.
    function mul(uint256 x, uint256 y, uint256 s) internal view returns (uint256, uint256) {
        if (s == 1) return (x, y);
        if (s == 0) return (0, 0);
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, x)
            mstore(add(m, 32), y)
            mstore(add(m, 64), s)
            ok := staticcall(gas(), 7, m, 96, m, 64)
            x := mload(m)
            y := mload(add(m, 32))
        }
        if (!ok) revert IInferenceOracle.PrecompileFailed();
        return (x, y);
    }

    function add(uint256 x1, uint256 y1, uint256 x2, uint256 y2) internal view returns (uint256, uint256) {
        if (x1 == 0 && y1 == 0) return (x2, y2);
        if (x2 == 0 && y2 == 0) return (x1, y1);
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, x1)
            mstore(add(m, 32), y1)
            mstore(add(m, 64), x2)
            mstore(add(m, 96), y2)
            ok := staticcall(gas(), 6, m, 128, m, 64)
            x1 := mload(m)
            y1 := mload(add(m, 32))
        }
        if (!ok) revert IInferenceOracle.PrecompileFailed();
        return (x1, y1);
    }
}
