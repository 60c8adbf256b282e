// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { InferenceOracle } from "../../l1/InferenceOracle.sol";
import { IInferenceOracle } from "../../interfaces/IInferenceOracle.sol";
import { OracleFixture as F } from "./fixtures/InferenceOracleFixture.sol";
import { OracleTestBase } from "./OracleTestBase.sol";

/// @notice The oracle against real snarkjs proofs (fixtures/InferenceOracleFixture.sol): three
/// keys (private input, public input, four inferences per proof), six proofs in three groups.
contract InferenceOracleTest is OracleTestBase {
    /// @dev leaf index of proof i of group g
    function leafOf(IInferenceOracle.ProofGroup[] memory g, uint256 group, uint256 i) internal pure returns (uint256 t) {
        for (uint256 k; k < group; ++k) t += g[k].proofs.length;
        return t + i;
    }

    function inputCount(IInferenceOracle.ProofGroup memory grp) internal pure returns (uint256) {
        return grp.publicInputs.length / grp.proofs.length;
    }

    // ------------------------------------------------------------------------------- accepted

    function test_validBatchIsRecorded() public {
        vm.roll(99);
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IInferenceOracle.BatchProofsVerified(0, address(this), F.ROOT, F.leaves());
        bytes32 root = oracle.submitBatchProofs(0, F.groups());
        assertEq(root, F.ROOT, "root");
        IInferenceOracle.Submission memory b = oracle.getSubmission(0, F.ROOT);
        assertEq(oracle.submittedRoot(0, address(this)), F.ROOT, "the submitter's root");
        assertEq(oracle.submittedRoot(1, address(this)), bytes32(0), "nothing for batch 1");
        assertEq(oracle.getSubmission(1, F.ROOT).leafCount, 0, "recorded for batch 0 only");
        assertEq(b.leafCount, F.LEAF_COUNT, "leafCount");
        assertEq(b.l1Block, 99, "l1Block");
        assertEq(b.timestamp, START, "timestamp");
    }

    function test_typeScriptCalldataIsAccepted() public {
        (bool ok, bytes memory ret) = address(oracle).call(F.SUBMISSION);
        assertTrue(ok, "submission built by batch-proof.ts");
        assertEq(abi.decode(ret, (bytes32)), F.ROOT, "root");
    }

    function test_storedKeys() public {
        vm.expectEmit(true, false, false, false, address(oracle));
        emit IInferenceOracle.KeyAdded(F.VK_PRIVATE_HASH, 5, address(0));
        assertEq(oracle.addKey(F.VK_PRIVATE), F.VK_PRIVATE_HASH, "vkHash");
        oracle.addKey(F.VK_PUBLIC);
        assertTrue(!oracle.hasKey(F.VK_MULTI4_HASH), "not yet stored");
        oracle.addKey(F.VK_MULTI4);
        assertTrue(oracle.hasKey(F.VK_MULTI4_HASH), "stored");
        assertEq(keccak256(oracle.getKey(F.VK_PUBLIC_HASH)), F.VK_PUBLIC_HASH, "getKey returns the bytes");
        (bool ok, bytes memory ret) = address(oracle).call(F.SUBMISSION_STORED_KEYS);
        assertTrue(ok, "submission without key bytes");
        assertEq(abi.decode(ret, (bytes32)), F.ROOT, "same leaves, same root");
        assertEq(oracle.getSubmission(1, F.ROOT).leafCount, F.LEAF_COUNT, "batch 1");
    }

    function test_oneProofAlone() public {
        IInferenceOracle.ProofGroup[] memory all = F.groups();
        IInferenceOracle.ProofGroup[] memory g = new IInferenceOracle.ProofGroup[](1);
        g[0] = all[2]; // the four-inference proof: r = 1, no ecMul for A and C
        bytes32 root = oracle.submitBatchProofs(0, g);
        assertEq(root, oracle.leafHash(g[0].vkHash, g[0].publicInputs), "a one-leaf tree's root is the leaf");
        assertTrue(oracle.isVerified(0, g[0].vkHash, g[0].publicInputs, 0, new bytes32[](0)), "empty Merkle proof");
    }

    function test_withoutRollupAnyIndex() public {
        InferenceOracle free = new InferenceOracle(address(0));
        assertEq(free.submitBatchProofs(12345, F.groups()), F.ROOT, "no Rollup to ask");
    }

    // ------------------------------------------------------------------- one bad item anywhere

    function test_everyPublicSignalMatters() public {
        IInferenceOracle.ProofGroup[] memory base = F.groups();
        for (uint256 g; g < base.length; ++g) {
            for (uint256 j; j < base[g].publicInputs.length; ++j) {
                IInferenceOracle.ProofGroup[] memory m = F.groups();
                m[g].publicInputs[j] = addmod(m[g].publicInputs[j], 1, R);
                expectRefused(m, abi.encodeWithSelector(IInferenceOracle.BatchProofInvalid.selector));
            }
        }
    }

    function test_everyProofMatters() public {
        IInferenceOracle.ProofGroup[] memory base = F.groups();
        for (uint256 g; g < base.length; ++g) {
            for (uint256 i; i < base[g].proofs.length; ++i) {
                // -A, -C: valid points, wrong proof
                for (uint256 w = 1; w <= 7; w += 6) {
                    IInferenceOracle.ProofGroup[] memory m = F.groups();
                    m[g].proofs[i][w] = P - m[g].proofs[i][w];
                    expectRefused(m, abi.encodeWithSelector(IInferenceOracle.BatchProofInvalid.selector));
                }
                // another proof's B (a valid G2 point)
                IInferenceOracle.ProofGroup[] memory s = F.groups();
                uint256[8] memory other = s[(g + 1) % s.length].proofs[0];
                for (uint256 w = 2; w < 6; ++w) s[g].proofs[i][w] = other[w];
                expectRefused(s, abi.encodeWithSelector(IInferenceOracle.BatchProofInvalid.selector));
            }
        }
    }

    function test_swappedProofsFail() public {
        IInferenceOracle.ProofGroup[] memory m = F.groups();
        (m[0].proofs[0], m[0].proofs[1]) = (m[0].proofs[1], m[0].proofs[0]);
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.BatchProofInvalid.selector));
    }

    function test_proofsUnderAnotherKeyFail() public {
        IInferenceOracle.ProofGroup[] memory m = F.groups();
        (m[0].vkHash, m[0].vk) = (F.VK_PUBLIC_HASH, F.VK_PUBLIC);
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.PublicInputCount.selector, 0, 60, 15));
    }

    // -------------------------------------------------------------------------- malformed data

    function test_coordinateNotBelowP() public {
        IInferenceOracle.ProofGroup[] memory base = F.groups();
        for (uint256 w; w < 8; ++w) {
            IInferenceOracle.ProofGroup[] memory m = F.groups();
            m[1].proofs[1][w] = P + (w == 0 ? 0 : m[1].proofs[1][w] % 7);
            expectRefused(m, abi.encodeWithSelector(IInferenceOracle.InvalidProof.selector, leafOf(base, 1, 1), uint8(1)));
        }
    }

    function test_g1PointOffCurve() public {
        IInferenceOracle.ProofGroup[] memory base = F.groups();
        for (uint256 w = 1; w <= 7; w += 6) {
            IInferenceOracle.ProofGroup[] memory m = F.groups();
            m[0].proofs[2][w] = addmod(m[0].proofs[2][w], 1, P);
            expectRefused(m, abi.encodeWithSelector(IInferenceOracle.InvalidProof.selector, leafOf(base, 0, 2), uint8(2)));
        }
    }

    function test_g2PointOffTwistOrSubgroup() public {
        IInferenceOracle.ProofGroup[] memory m = F.groups();
        m[2].proofs[0][5] = addmod(m[2].proofs[0][5], 1, P); // B.y.c0: off the twist
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.PairingInputRejected.selector));
        // on the twist, outside the order-r subgroup: EIP-197 refuses it too
        m = F.groups();
        uint256[4] memory q = F.g2OffSubgroup();
        for (uint256 w; w < 4; ++w) m[1].proofs[0][2 + w] = q[w];
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.PairingInputRejected.selector));
    }

    function test_publicInputNotBelowR() public {
        IInferenceOracle.ProofGroup[] memory m = F.groups();
        m[1].publicInputs[20 + 7] = R; // proof 1 of the public-input group, signal 7
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.InvalidPublicInput.selector, leafOf(m, 1, 1), 7));
        m = F.groups();
        m[0].publicInputs[4] = m[0].publicInputs[4] + R; // the same field element, another uint256
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.InvalidPublicInput.selector, 0, 4));
    }

    function test_countsAndShapes() public {
        expectRefused(new IInferenceOracle.ProofGroup[](0), abi.encodeWithSelector(IInferenceOracle.EmptySubmission.selector));
        IInferenceOracle.ProofGroup[] memory m = F.groups();
        m[1].proofs = new uint256[8][](0);
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.EmptyGroup.selector, 1));
        m = F.groups();
        uint256[] memory short = new uint256[](m[2].publicInputs.length - 1);
        for (uint256 i; i < short.length; ++i) short[i] = m[2].publicInputs[i];
        m[2].publicInputs = short;
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.PublicInputCount.selector, 2, 8, 7));
    }

    function test_keyRefusalsInCalldata() public {
        IInferenceOracle.ProofGroup[] memory m = F.groups();
        m[0].vkHash = F.VK_PUBLIC_HASH;
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.KeyHashMismatch.selector, 0, F.VK_PUBLIC_HASH, F.VK_PRIVATE_HASH));
        m = F.groups();
        m[1].vk = "";
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.UnknownKey.selector, F.VK_PUBLIC_HASH));
        // a word short
        m = F.groups();
        m[0].vk = slice(F.VK_PRIVATE, F.VK_PRIVATE.length - 32);
        m[0].vkHash = keccak256(m[0].vk);
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.InvalidVerifyingKey.selector, m[0].vkHash, uint8(1)));
        // IC[1] off the curve
        m = F.groups();
        m[0].vk = withWord(F.VK_PRIVATE, 18, 5);
        m[0].vkHash = keccak256(m[0].vk);
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.InvalidVerifyingKey.selector, m[0].vkHash, uint8(3)));
        // beta outside the subgroup: only ecPairing can tell
        m = F.groups();
        m[0].vk = withG2(F.VK_PRIVATE, 2, F.g2OffSubgroup());
        m[0].vkHash = keccak256(m[0].vk);
        expectRefused(m, abi.encodeWithSelector(IInferenceOracle.PairingInputRejected.selector));
    }

    function test_addKeyRefusals() public {
        oracle.addKey(F.VK_PRIVATE);
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.KeyExists.selector, F.VK_PRIVATE_HASH));
        oracle.addKey(F.VK_PRIVATE);
        expectKeyRefused(slice(F.VK_PUBLIC, 33), 1);
        expectKeyRefused(withWord(F.VK_PUBLIC, 3, P), 2);
        expectKeyRefused(withWord(F.VK_PUBLIC, 1, 1), 3); // alpha off the curve
        for (uint256 g2 = 2; g2 <= 10; g2 += 4) expectKeyRefused(withG2(F.VK_PUBLIC, g2, F.g2OffSubgroup()), 4); // beta, gamma, delta
        expectKeyRefused(withWord(F.VK_PUBLIC, 13, 7), 4); // delta off the twist
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.UnknownKey.selector, bytes32(uint256(1))));
        oracle.getKey(bytes32(uint256(1)));
    }

    // ---------------------------------------------------------------------- batch bookkeeping

    function test_sameRootRefusedOtherRootsRecorded() public {
        oracle.submitBatchProofs(0, F.groups());
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.BatchAlreadySubmitted.selector, 0, F.ROOT));
        vm.prank(USER); // whoever sends it: nothing new to record
        oracle.submitBatchProofs(0, F.groups());
        IInferenceOracle.ProofGroup[] memory one = new IInferenceOracle.ProofGroup[](1);
        one[0] = F.groups()[2];
        bytes32 other = oracle.submitBatchProofs(0, one); // another root: recorded beside the first
        assertEq(oracle.getSubmission(0, other).leafCount, 1, "second root");
        assertEq(oracle.getSubmission(0, F.ROOT).leafCount, F.LEAF_COUNT, "first root kept");
        assertEq(oracle.submittedRoot(0, address(this)), other, "the submitter's last root");
        oracle.submitBatchProofs(1, one); // another batch may carry the same statement
    }

    function test_batchTheRollupDoesNotHave() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.UnknownRollupBatch.selector, 2, 2));
        oracle.submitBatchProofs(2, F.groups());
    }

    // ----------------------------------------------------------------------------------- reads

    function test_readsWithMerkleProofs() public {
        oracle.submitBatchProofs(0, F.groups());
        bytes32[] memory leaves = F.leaves();
        for (uint256 i; i < F.LEAF_COUNT; ++i) {
            (bytes32 vkHash, uint256[] memory s) = statement(i);
            bytes32[] memory proof = F.merkleProof(i);
            assertEq(oracle.leafHash(vkHash, s), leaves[i], "leafHash");
            assertTrue(oracle.isVerified(0, vkHash, s, i, proof), "verified");
            assertTrue(oracle.isLeafVerified(0, leaves[i], i, proof), "leaf verified");
            assertTrue(!oracle.isVerified(1, vkHash, s, i, proof), "batch 1 has no results");
            assertTrue(!oracle.isLeafVerified(0, leaves[i], (i + 1) % F.LEAF_COUNT, proof), "wrong index");
            assertTrue(!oracle.isLeafVerified(0, leaves[i], i + F.LEAF_COUNT, proof), "index past the leaves");
            s[s.length - 1] ^= 1;
            assertTrue(!oracle.isVerified(0, vkHash, s, i, proof), "another statement");
            assertTrue(!oracle.isLeafVerified(0, leaves[i], i, slice32(proof, proof.length - 1)), "a sibling short");
            assertTrue(!oracle.isLeafVerified(0, leaves[i], i, append32(proof, leaves[i])), "a sibling too many");
        }
    }

}
