// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The few forge cheatcodes these tests use (signatures as in forge-std's Vm.sol), so the
/// tests need no forge-std checkout: the npm forge-std is years behind forge 1.x.
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function warp(uint256 timestamp) external;
    function roll(uint256 blockNumber) external;
    function fee(uint256 newBasefee) external;
    function prank(address sender) external;
    function prank(address sender, address origin) external;
    function startPrank(address sender) external;
    function startPrank(address sender, address origin) external;
    function stopPrank() external;
    function deal(address account, uint256 balance) external;
    function etch(address target, bytes calldata code) external;
    function load(address target, bytes32 slot) external view returns (bytes32);
    function store(address target, bytes32 slot, bytes32 value) external;
    function expectRevert() external;
    function expectRevert(bytes4 selector) external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter) external;
    function assume(bool condition) external pure;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
}

/// @notice A minimal test base: the cheatcode handle and assertions that say what differed.
abstract contract Test {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    error AssertionFailed(string what);
    error NotEqualUint(string what, uint256 got, uint256 want);
    error NotEqualBytes32(string what, bytes32 got, bytes32 want);
    error NotEqualAddress(string what, address got, address want);

    function assertTrue(bool ok, string memory what) internal pure {
        if (!ok) revert AssertionFailed(what);
    }

    function assertEq(uint256 got, uint256 want, string memory what) internal pure {
        if (got != want) revert NotEqualUint(what, got, want);
    }

    function assertEq(bytes32 got, bytes32 want, string memory what) internal pure {
        if (got != want) revert NotEqualBytes32(what, got, want);
    }

    function assertEq(address got, address want, string memory what) internal pure {
        if (got != want) revert NotEqualAddress(what, got, want);
    }

    /// @dev x mapped into [lo, hi] (inclusive), for fuzz inputs
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        require(lo <= hi, "bound: lo > hi");
        if (lo == 0 && hi == type(uint256).max) return x;
        return lo + (x % (hi - lo + 1));
    }
}
