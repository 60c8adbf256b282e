// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RollupSetup } from "./Setup.sol";
import { InferenceOracle } from "../../l1/InferenceOracle.sol";
import { IInferenceOracle } from "../../interfaces/IInferenceOracle.sol";
import { OracleFixture as F } from "./fixtures/InferenceOracleFixture.sol";

/// @notice An oracle on a Rollup with two batches, and what its tests share.
abstract contract OracleTestBase is RollupSetup {
    uint256 internal constant P = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    InferenceOracle internal oracle;

    function setUp() public virtual override {
        super.setUp();
        submit(1, 0); // Rollup batch 0
        submit(1, 0); // and 1
        oracle = new InferenceOracle(address(rollup));
    }

    /// @dev With a realistic gas limit: a call that ecPairing refuses consumes all the gas it was given.
    function expectRefused(IInferenceOracle.ProofGroup[] memory g, bytes memory err) internal {
        vm.expectRevert(err);
        oracle.submitBatchProofs{ gas: 5_000_000 }(0, g);
    }

    function expectKeyRefused(bytes memory k, uint8 code) internal {
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.InvalidVerifyingKey.selector, keccak256(k), code));
        oracle.addKey{ gas: 5_000_000 }(k);
    }

    function statement(uint256 i) internal pure returns (bytes32 vkHash, uint256[] memory s) {
        return unpack(F.leafStatement(i));
    }

    /// @dev [vkHash, signals...] as the fixture lists a leaf's statement
    function unpack(bytes32[] memory st) internal pure returns (bytes32 vkHash, uint256[] memory s) {
        vkHash = st[0];
        s = new uint256[](st.length - 1);
        for (uint256 j; j < s.length; ++j) s[j] = uint256(st[j + 1]);
    }

    function slice(bytes memory b, uint256 len) internal pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 i; i < len; ++i) out[i] = b[i];
    }

    function withWord(bytes memory b, uint256 w, uint256 v) internal pure returns (bytes memory out) {
        out = slice(b, b.length);
        assembly ("memory-safe") {
            mstore(add(add(out, 32), mul(w, 32)), v)
        }
    }

    function withG2(bytes memory b, uint256 w, uint256[4] memory q) internal pure returns (bytes memory out) {
        out = b;
        for (uint256 i; i < 4; ++i) out = withWord(out, w + i, q[i]);
    }

    function slice32(bytes32[] memory a, uint256 len) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](len);
        for (uint256 i; i < len; ++i) out[i] = a[i];
    }

    function append32(bytes32[] memory a, bytes32 x) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](a.length + 1);
        for (uint256 i; i < a.length; ++i) out[i] = a[i];
        out[a.length] = x;
    }
}
