// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IInferenceOracle } from "../../interfaces/IInferenceOracle.sol";
import { ResultTree } from "../../l1/lib/ResultTree.sol";
import { OracleFixture as F } from "./fixtures/InferenceOracleFixture.sol";
import { OracleTestBase } from "./OracleTestBase.sol";

/// @dev ResultTree's calldata entry point, for the shape tests.
contract TreeHarness {
    function rootFromProof(bytes32 leaf, uint256 index, bytes32[] calldata proof) external pure returns (bytes32) {
        return ResultTree.rootFromProof(leaf, index, proof);
    }
}

/// @notice Strangers: a submission of made-up statements under the stranger's own key for a batch
/// before the honest poster's, a copy of the honest submission sent first, and keys under which
/// anybody can prove anything.
contract InferenceOracleStrangerTest is OracleTestBase {
    address internal constant STRANGER = address(0xBAD);

    function strangerFirst() internal returns (bytes32 root) {
        vm.prank(STRANGER);
        root = oracle.submitBatchProofs(0, F.strangerGroups());
        assertEq(root, F.STRANGER_ROOT, "the stranger's root");
    }

    function test_strangerFirstDoesNotBlockTheHonestSubmission() public {
        strangerFirst();
        bytes32 root = oracle.submitBatchProofs(0, F.groups()); // reverted BatchAlreadySubmitted before
        assertEq(root, F.ROOT, "honest root");
        assertEq(oracle.submittedRoot(0, address(this)), F.ROOT, "the poster sees its own root");
        assertEq(oracle.submittedRoot(0, STRANGER), F.STRANGER_ROOT, "and the stranger his");
        for (uint256 i; i < F.LEAF_COUNT; ++i) {
            (bytes32 vkHash, uint256[] memory s) = statement(i);
            assertTrue(oracle.isVerified(0, vkHash, s, i, F.merkleProof(i)), "honest result verified for batch 0");
        }
        for (uint256 i; i < F.STRANGER_LEAF_COUNT; ++i) {
            (bytes32 vkHash, uint256[] memory s) = unpack(F.strangerStatement(i));
            bytes32[] memory proof = F.strangerMerkleProof(i);
            // the claim read under the key an honest consumer pins: not verified, by either tree
            assertTrue(!oracle.isVerified(0, F.VK_PRIVATE_HASH, s, i, proof), "made-up claim under the honest key");
            for (uint256 j; j < F.LEAF_COUNT; ++j) {
                assertTrue(!oracle.isVerified(0, F.VK_PRIVATE_HASH, s, j, F.merkleProof(j)), "made-up claim in the honest tree");
            }
            // what it is: a statement about the stranger's own key, which nobody need trust
            assertEq(vkHash, F.VK_STRANGER_HASH, "stranger's key");
            assertTrue(oracle.isVerified(0, vkHash, s, i, proof), "true of the stranger's key");
            assertTrue(!oracle.isVerified(1, vkHash, s, i, proof), "for batch 0 only");
        }
    }

    function test_honestFirstThenStranger() public {
        oracle.submitBatchProofs(0, F.groups());
        strangerFirst(); // the other order: both recorded as well
        (bytes32 vkHash, uint256[] memory s) = statement(0);
        assertTrue(oracle.isVerified(0, vkHash, s, 0, F.merkleProof(0)), "honest result");
    }

    /// @dev Front-running with a copy of the poster's own calldata only records the poster's root.
    function test_copiedSubmissionRecordsTheHonestRoot() public {
        vm.prank(STRANGER);
        (bool ok,) = address(oracle).call(F.SUBMISSION);
        assertTrue(ok, "the copy lands");
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.BatchAlreadySubmitted.selector, 0, F.ROOT));
        oracle.submitBatchProofs(0, F.groups());
        assertEq(oracle.getSubmission(0, F.ROOT).leafCount, F.LEAF_COUNT, "the poster's root is recorded: it is done");
        (bytes32 vkHash, uint256[] memory s) = statement(1);
        assertTrue(oracle.isVerified(0, vkHash, s, 1, F.merkleProof(1)), "honest result");
    }

    function test_strangerKeyIsNotDegenerate() public {
        assertEq(oracle.addKey(F.VK_STRANGER), F.VK_STRANGER_HASH, "accepted: its trapdoor is its maker's secret");
    }

    // ------------------------------------------------------------------------ degenerate keys

    uint256 internal constant ALPHA = 0;
    uint256 internal constant BETA = 2;
    uint256 internal constant GAMMA = 6;
    uint256 internal constant DELTA = 10;

    /// @dev IC[j]'s first word
    function ic(uint256 j) internal pure returns (uint256) {
        return 15 + 2 * j;
    }

    function word(bytes memory k, uint256 w) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(add(k, 32), mul(w, 32)))
        }
    }

    function neg(uint256 y) internal pure returns (uint256) {
        return y == 0 ? 0 : P - y;
    }

    /// @dev G2 point at word `src` (negated: both y words) copied to word `dst`
    function copyG2(bytes memory k, uint256 dst, uint256 src, bool negate) internal pure returns (bytes memory) {
        uint256[4] memory q = [word(k, src), word(k, src + 1), word(k, src + 2), word(k, src + 3)];
        if (negate) (q[2], q[3]) = (neg(q[2]), neg(q[3]));
        return withG2(k, dst, q);
    }

    function zeroed(bytes memory k, uint256 w, uint256 words) internal pure returns (bytes memory out) {
        out = k;
        for (uint256 i; i < words; ++i) out = withWord(out, w + i, 0);
    }

    function degenerateKeys() internal pure returns (bytes[] memory keys) {
        bytes memory k = F.VK_PUBLIC;
        keys = new bytes[](14);
        keys[0] = zeroed(k, ALPHA, 2);
        keys[1] = zeroed(k, BETA, 4);
        keys[2] = zeroed(k, GAMMA, 4);
        keys[3] = zeroed(k, DELTA, 4);
        keys[4] = copyG2(k, GAMMA, DELTA, false); // gamma = delta
        keys[5] = copyG2(k, GAMMA, DELTA, true); // gamma = -delta
        keys[6] = copyG2(k, BETA, GAMMA, false);
        keys[7] = copyG2(k, BETA, GAMMA, true);
        keys[8] = copyG2(k, BETA, DELTA, false);
        keys[9] = copyG2(k, BETA, DELTA, true);
        keys[10] = zeroed(k, ic(0), 2);
        keys[11] = zeroed(k, ic(3), 2);
        keys[12] = withWord(withWord(k, ic(7), word(k, ic(2))), ic(7) + 1, word(k, ic(2) + 1)); // IC[7] = IC[2]
        keys[13] = withWord(withWord(k, ic(7), word(k, ic(2))), ic(7) + 1, neg(word(k, ic(2) + 1))); // IC[7] = -IC[2]
    }

    function test_degenerateKeysRefused() public {
        bytes[] memory keys = degenerateKeys();
        for (uint256 i; i < keys.length; ++i) {
            expectKeyRefused(keys[i], 5);
            IInferenceOracle.ProofGroup[] memory g = F.groups();
            (g[1].vk, g[1].vkHash) = (keys[i], keccak256(keys[i]));
            expectRefused(g, abi.encodeWithSelector(IInferenceOracle.InvalidVerifyingKey.selector, keccak256(keys[i]), uint8(5)));
        }
        assertTrue(!oracle.hasKey(keccak256(keys[4])), "none stored");
    }

    /// @dev The forgery the refusal stops, done for real: under gamma = delta, A = alpha, B = beta,
    /// C = -vk_x passes the pairing equation for any signals at all.
    function test_forgeryUnderGammaEqualsDelta() public {
        bytes memory k = copyG2(F.VK_PUBLIC, GAMMA, DELTA, false);
        uint256[] memory made = new uint256[](20);
        for (uint256 j; j < 20; ++j) made[j] = 200 + j; // outputs and an input nobody computed
        (uint256 lx, uint256 ly) = (word(k, ic(0)), word(k, ic(0) + 1));
        for (uint256 j; j < 20; ++j) {
            (uint256 mx, uint256 my) = ecMul(word(k, ic(j + 1)), word(k, ic(j + 1) + 1), made[j]);
            (lx, ly) = ecAdd(lx, ly, mx, my);
        }
        uint256[8] memory forged = [word(k, 0), word(k, 1), word(k, 2), word(k, 3), word(k, 4), word(k, 5), lx, neg(ly)];
        // e(-A, B) e(alpha, beta) e(vk_x, gamma) e(C, delta) == 1
        uint256[24] memory input = [
            word(k, 0), neg(word(k, 1)), word(k, 2), word(k, 3), word(k, 4), word(k, 5),
            word(k, 0), word(k, 1), word(k, 2), word(k, 3), word(k, 4), word(k, 5),
            lx, ly, word(k, 6), word(k, 7), word(k, 8), word(k, 9),
            lx, neg(ly), word(k, 10), word(k, 11), word(k, 12), word(k, 13)
        ];
        uint256[1] memory out;
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 8, input, 768, out, 32)
        }
        assertTrue(ok && out[0] == 1, "the forged proof satisfies the pairing equation");
        IInferenceOracle.ProofGroup[] memory g = new IInferenceOracle.ProofGroup[](1);
        g[0].vk = k;
        g[0].vkHash = keccak256(k);
        g[0].publicInputs = made;
        g[0].proofs = new uint256[8][](1);
        g[0].proofs[0] = forged;
        expectRefused(g, abi.encodeWithSelector(IInferenceOracle.InvalidVerifyingKey.selector, keccak256(k), uint8(5)));
    }

    function ecMul(uint256 x, uint256 y, uint256 s) internal view returns (uint256, uint256) {
        uint256[3] memory a = [x, y, s];
        uint256[2] memory r;
        assembly ("memory-safe") {
            if iszero(staticcall(gas(), 7, a, 96, r, 64)) { revert(0, 0) }
        }
        return (r[0], r[1]);
    }

    function ecAdd(uint256 x1, uint256 y1, uint256 x2, uint256 y2) internal view returns (uint256, uint256) {
        uint256[4] memory a = [x1, y1, x2, y2];
        uint256[2] memory r;
        assembly ("memory-safe") {
            if iszero(staticcall(gas(), 6, a, 128, r, 64)) { revert(0, 0) }
        }
        return (r[0], r[1]);
    }

    // ---------------------------------------------------------------------- result tree shape

    /// @dev For trees of 1 to 70 leaves: every leaf's proof leads to the root with the length the
    /// tree says, and no other length of the same siblings does.
    function testFuzz_proofShapeFromIndexAndLength(uint256 seed, uint256 n) public {
        n = bound(n, 1, 70);
        TreeHarness h = new TreeHarness();
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i; i < n; ++i) leaves[i] = keccak256(abi.encode(seed, i));
        bytes32 root = ResultTree.root(leaves);
        for (uint256 i; i < n; ++i) {
            bytes32[] memory proof = siblings(leaves, i);
            assertEq(proof.length, ResultTree.proofLength(i, n), "length");
            assertEq(h.rootFromProof(leaves[i], i, proof), root, "root");
            if (proof.length > 0) assertTrue(h.rootFromProof(leaves[i], i, slice32(proof, proof.length - 1)) != root, "short");
            assertTrue(h.rootFromProof(leaves[i], i, append32(proof, root)) != root, "long");
        }
    }

    /// @dev Siblings of leaf i, level by level (what node/rollup/oracle-merkle.ts computes).
    function siblings(bytes32[] memory leaves, uint256 i) internal pure returns (bytes32[] memory proof) {
        bytes32[] memory level = leaves;
        proof = new bytes32[](0);
        while (level.length > 1) {
            if (i ^ 1 < level.length) proof = append32(proof, level[i ^ 1]);
            bytes32[] memory up = new bytes32[]((level.length + 1) / 2);
            for (uint256 j; j < up.length; ++j) {
                up[j] = 2 * j + 1 < level.length ? keccak256(abi.encodePacked(level[2 * j], level[2 * j + 1])) : level[2 * j];
            }
            level = up;
            i >>= 1;
        }
    }
}
