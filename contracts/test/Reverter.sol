// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Every way a call can fail, for revert-decoding and gas-estimation tests.
contract Reverter {
    error Custom(uint256 x, address who);

    uint256[] private sink;

    function revertWithReason() external pure {
        require(false, "nope");
    }

    function revertWithCustom(uint256 x) external view {
        revert Custom(x, msg.sender);
    }

    function revertPanic() external pure returns (uint256) {
        uint256 zero = 0;
        return 1 / zero;
    }

    function ok() external pure returns (uint256) {
        return 42;
    }

    function burnGas(uint256 n) external {
        for (uint256 i = 0; i < n; i++) sink.push(i);
    }
}
