// SPDX-License-Identifier: MIT
// Vendored from github.com/ethereum-optimism/optimism at d317e96c2a, packages/contracts-bedrock/src/libraries/Arithmetic.sol
// (MIT, Copyright (c) 2022 Optimism, see LICENSE-optimism). Edits: these comment lines, and OpenZeppelin's
// SignedMath.min/max written out in clamp (same result); cdexp unchanged.
pragma solidity ^0.8.0;

import { FixedPointMathLib } from "./FixedPointMathLib.sol";

/// @title Arithmetic
/// @notice Even more math than before.
library Arithmetic {
    /// @notice Clamps a value between a minimum and maximum.
    /// @param _value The value to clamp.
    /// @param _min   The minimum value.
    /// @param _max   The maximum value.
    /// @return The clamped value.
    function clamp(int256 _value, int256 _min, int256 _max) internal pure returns (int256) {
        int256 atLeastMin = _value > _min ? _value : _min;
        return atLeastMin < _max ? atLeastMin : _max;
    }

    /// @notice (c)oefficient (d)enominator (exp)onentiation function.
    ///         Returns the result of: c * (1 - 1/d)^exp.
    /// @param _coefficient Coefficient of the function.
    /// @param _denominator Fractional denominator.
    /// @param _exponent    Power function exponent.
    /// @return Result of c * (1 - 1/d)^exp.
    function cdexp(int256 _coefficient, int256 _denominator, int256 _exponent) internal pure returns (int256) {
        return (_coefficient * (FixedPointMathLib.powWad(1e18 - (1e18 / _denominator), _exponent * 1e18))) / 1e18;
    }
}
