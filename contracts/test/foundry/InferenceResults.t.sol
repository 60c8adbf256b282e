// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RollupSetup } from "./Setup.sol";
import { IRollup } from "../../interfaces/IRollup.sol";
import { IInferenceOracle } from "../../interfaces/IInferenceOracle.sol";
import { InferenceOracle } from "../../l1/InferenceOracle.sol";
import { InferenceResults } from "../../l1/lib/InferenceResults.sol";
import { ResultTree } from "../../l1/lib/ResultTree.sol";
import { ResultPayout } from "../../examples/ResultPayout.sol";
import { OracleFixture as F } from "./fixtures/InferenceOracleFixture.sol";

/// @notice ResultPayout over a real Rollup and a real oracle holding the fixture's snarkjs proofs:
/// results of batch 0 (leaves 0 and 1 of the fixture, 4 outputs then a Poseidon input hash) paid
/// by the fast path, then by the final path; forged, moved and foreign leaves refused.
contract InferenceResultsTest is RollupSetup {
    uint256 internal constant L2_CHAIN = 42069;
    uint256 internal constant AMOUNT = 1 ether;
    bytes32 internal constant MODEL = keccak256("model");
    address internal constant PROVER = address(0x9407E5);

    /// @dev forge prints these with -vv: the L1 gas of each path, payout (3 fresh slots, a transfer) included
    event log_named_uint(string key, uint256 val);

    InferenceOracle internal oracle;
    ResultPayout internal payout;
    IInferenceOracle.Result[] internal results;
    IRollup.BatchHeader internal header0;
    IRollup.BatchHeader internal header1;
    bytes32[] internal leaves;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < 3; ++i) results.push(_result(i));
        leaves = new bytes32[](3);
        for (uint256 i; i < 3; ++i) leaves[i] = keccak256(abi.encode(results[i]));
        header0 = _submit(ResultTree.root(leaves));
        // batch 1: another tree (leaf 2 alone)
        bytes32[] memory other = new bytes32[](1);
        other[0] = leaves[2];
        header1 = _submit(ResultTree.root(other));
        oracle = new InferenceOracle(address(rollup));
        oracle.submitBatchProofs(0, F.groups());
        (bytes32 vkHash,) = _statement(0);
        payout = new ResultPayout{ value: 10 ether }(rollup, oracle, L2_CHAIN, MODEL, vkHash, AMOUNT);
    }

    function test_fastPathPaysOnceAndRefusesForgeries() public {
        (InferenceResults.Inclusion memory inc, IInferenceOracle.ResultProof memory ev) = _fast(0);
        uint256 gas = gasleft();
        payout.claimFast(results[0], inc, ev);
        gas -= gasleft();
        assertEq(PROVER.balance, AMOUNT, "paid to the prover");
        assertEq(payout.outputsOf(0)[0], results[0].outputs[0], "outputs recorded");
        emit log_named_uint("claimFast gas (3-leaf batch)", gas);
        assertTrue(gas < 300_000, "fast path gas");
        vm.expectRevert(abi.encodeWithSelector(ResultPayout.AlreadyPaid.selector, 0));
        payout.claimFast(results[0], inc, ev);

        (inc, ev) = _fast(1);
        IInferenceOracle.Result memory r = results[1];
        r.outputs[2] += 1; // a result whose output was changed
        vm.expectRevert(abi.encodeWithSelector(InferenceResults.NotInBatch.selector, 0));
        payout.claimFast(r, inc, ev);
        r = results[1];
        r.chainId = 1; // the same result claimed for another chain
        vm.expectRevert(abi.encodeWithSelector(InferenceResults.WrongChain.selector, L2_CHAIN, 1));
        payout.claimFast(r, inc, ev);
        r = results[1];
        r.prover = address(0xBAD); // a forged leaf naming another prover
        vm.expectRevert(abi.encodeWithSelector(InferenceResults.NotInBatch.selector, 0));
        payout.claimFast(r, inc, ev);
        // leaf 1 with batch 1's header (another batch's tree)
        InferenceResults.Inclusion memory moved = InferenceResults.Inclusion(header1, inc.leafIndex, inc.proof);
        vm.expectRevert(abi.encodeWithSelector(InferenceResults.NotInBatch.selector, 1));
        payout.claimFast(results[1], moved, ev);
        // a header the Rollup never accepted, whose root is made to hold the forged leaf
        IRollup.BatchHeader memory fake = header0;
        fake.resultsRoot = keccak256(abi.encode(r));
        vm.expectRevert(abi.encodeWithSelector(InferenceResults.UnknownHeader.selector, 0));
        payout.claimFast(r, InferenceResults.Inclusion(fake, 0, new bytes32[](0)), ev);
        // the right leaf with another input than the one it commits to
        IInferenceOracle.ResultProof memory otherInput = IInferenceOracle.ResultProof(new uint256[](1), ev.leafIndex, ev.proof);
        vm.expectRevert(InferenceResults.InputMismatch.selector);
        payout.claimFast(results[1], inc, otherInput);
        payout.claimFast(results[1], inc, ev);
        assertEq(PROVER.balance, 2 * AMOUNT, "leaf 1 paid");
    }

    function test_fastPathNeedsTheOracleRecordOfTheBatch() public {
        (InferenceResults.Inclusion memory inc, IInferenceOracle.ResultProof memory ev) = _fast(2);
        // leaf 2 is in batch 1, whose proofs the oracle has not verified
        inc = InferenceResults.Inclusion(header1, 0, new bytes32[](0));
        vm.expectRevert(abi.encodeWithSelector(InferenceResults.NotVerified.selector, 1));
        payout.claimFast(results[2], inc, ev);
    }

    function test_attestationBindsTheOracleToAllOfTheBatchsResultsInOrder() public {
        (IInferenceOracle.Result[] memory rs, IInferenceOracle.ResultProof[] memory ps) = _attestArgs(3);
        InferenceResults.Inclusion memory inc = InferenceResults.Inclusion(header0, 0, _proof(0));
        vm.expectRevert(abi.encodeWithSelector(InferenceResults.NotAttested.selector, 0));
        payout.claimAttested(results[0], inc);
        // a subset of the batch's results (each one proven) is not the batch's
        (IInferenceOracle.Result[] memory two, IInferenceOracle.ResultProof[] memory ps2) = _attestArgs(2);
        bytes32[] memory twoLeaves = new bytes32[](2);
        twoLeaves[0] = leaves[0];
        twoLeaves[1] = leaves[1];
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.ResultsRootMismatch.selector, 0, header0.resultsRoot, ResultTree.root(twoLeaves)));
        oracle.attestBatch(header0, two, ps2);
        // all of them, out of order
        (rs[0], rs[1], ps[0], ps[1]) = (rs[1], rs[0], ps[1], ps[0]);
        bytes32[] memory swapped = new bytes32[](3);
        (swapped[0], swapped[1], swapped[2]) = (leaves[1], leaves[0], leaves[2]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.ResultsRootMismatch.selector, 0, header0.resultsRoot, ResultTree.root(swapped)));
        oracle.attestBatch(header0, rs, ps);
        (rs, ps) = _attestArgs(3);
        // a changed output has no proof; another input is not the committed one
        rs[1].outputs[0] += 1;
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.ResultNotProven.selector, 1));
        oracle.attestBatch(header0, rs, ps);
        (rs, ps) = _attestArgs(3);
        ps[2].inputSignals = new uint256[](1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.AttestedInputMismatch.selector, 2));
        oracle.attestBatch(header0, rs, ps);
        (rs, ps) = _attestArgs(3);
        // a header the Rollup never accepted, and a batch whose proofs the oracle has not verified
        IRollup.BatchHeader memory fake = header0;
        fake.dataHash = keccak256("other data");
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.UnknownBatchHeader.selector, 0));
        oracle.attestBatch(fake, rs, ps);
        IInferenceOracle.Result[] memory one = new IInferenceOracle.Result[](1);
        IInferenceOracle.ResultProof[] memory p1 = new IInferenceOracle.ResultProof[](1);
        one[0] = results[2];
        p1[0] = ps[2];
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.ResultNotProven.selector, 0));
        oracle.attestBatch(header1, one, p1);

        uint256 gas = gasleft();
        oracle.attestBatch(header0, rs, ps);
        emit log_named_uint("attestBatch gas (3 results, per call)", gas - gasleft());
        assertEq(oracle.attestedRoot(0), header0.resultsRoot, "attested");
        vm.expectRevert(abi.encodeWithSelector(IInferenceOracle.NothingToAttest.selector, 0));
        oracle.attestBatch(header0, rs, ps);
        gas = gasleft();
        payout.claimAttested(results[0], inc);
        emit log_named_uint("claimAttested gas (3-leaf batch)", gas - gasleft());
        assertEq(PROVER.balance, AMOUNT, "paid");
        IInferenceOracle.Result memory r = results[1];
        r.outputs[0] += 1;
        vm.expectRevert(abi.encodeWithSelector(InferenceResults.NotInBatch.selector, 0));
        payout.claimAttested(r, InferenceResults.Inclusion(header0, 1, _proof(1)));
    }

    function test_finalPathWaitsForAFinalOutputAtOrAfterTheBatch() public {
        InferenceResults.Inclusion memory inc = InferenceResults.Inclusion(header1, 0, new bytes32[](0));
        vm.expectRevert(abi.encodeWithSelector(IRollup.UnknownOutput.selector, 0));
        payout.claimFinal(results[2], inc, 0);
        vm.prank(PROPOSER);
        rollup.proposeOutput(0, keccak256("output over batch 0"));
        vm.expectRevert(abi.encodeWithSelector(InferenceResults.OutputBeforeBatch.selector, 0, 0, 1));
        payout.claimFinal(results[2], inc, 0);
        vm.prank(PROPOSER);
        rollup.proposeOutput(1, keccak256("output over batch 1"));
        vm.expectRevert(abi.encodeWithSelector(InferenceResults.NotFinal.selector, 1));
        payout.claimFinal(results[2], inc, 1);
        vm.warp(block.timestamp + CHALLENGE_WINDOW);
        uint256 gas = gasleft();
        payout.claimFinal(results[2], inc, 1);
        gas -= gasleft();
        assertEq(PROVER.balance, AMOUNT, "paid");
        emit log_named_uint("claimFinal gas (1-leaf batch)", gas);
        assertTrue(gas < 300_000, "final path gas");
        // a leaf of batch 0 under the same (later) final output
        InferenceResults.Inclusion memory inc0 = InferenceResults.Inclusion(header0, 0, _proof(0));
        gas = gasleft();
        payout.claimFinal(results[0], inc0, 1);
        emit log_named_uint("claimFinal gas (3-leaf batch)", gas - gasleft());
        IInferenceOracle.Result memory r = results[1];
        r.outputs[0] = 0;
        vm.expectRevert(abi.encodeWithSelector(InferenceResults.NotInBatch.selector, 0));
        payout.claimFinal(r, InferenceResults.Inclusion(header0, 1, _proof(1)), 1);
    }

    /// @dev The first n results of batch 0 with their proofs' places in the oracle's submission.
    function _attestArgs(uint256 n) internal view returns (IInferenceOracle.Result[] memory rs, IInferenceOracle.ResultProof[] memory ps) {
        rs = new IInferenceOracle.Result[](n);
        ps = new IInferenceOracle.ResultProof[](n);
        for (uint256 i; i < n; ++i) {
            rs[i] = results[i];
            (, ps[i]) = _fast(i);
        }
    }

    function _result(uint256 i) internal pure returns (IInferenceOracle.Result memory r) {
        (bytes32 vkHash, uint256[] memory s) = _statement(i);
        uint256[] memory outputs = new uint256[](4);
        for (uint256 j; j < 4; ++j) outputs[j] = s[j];
        uint256[] memory input = new uint256[](s.length - 4);
        for (uint256 j; j < input.length; ++j) input[j] = s[4 + j];
        r = IInferenceOracle.Result(L2_CHAIN, i, MODEL, vkHash, keccak256(abi.encodePacked(input)), PROVER, outputs);
    }

    function _statement(uint256 i) internal pure returns (bytes32 vkHash, uint256[] memory s) {
        bytes32[] memory st = F.leafStatement(i);
        vkHash = st[0];
        s = new uint256[](st.length - 1);
        for (uint256 j; j < s.length; ++j) s[j] = uint256(st[j + 1]);
    }

    function _fast(uint256 i) internal view returns (InferenceResults.Inclusion memory inc, IInferenceOracle.ResultProof memory ev) {
        (, uint256[] memory s) = _statement(i);
        uint256[] memory input = new uint256[](s.length - 4);
        for (uint256 j; j < input.length; ++j) input[j] = s[4 + j];
        inc = InferenceResults.Inclusion(header0, i, _proof(i));
        ev = IInferenceOracle.ResultProof(input, i, F.merkleProof(i));
    }

    /// @dev Siblings of leaf i of the 3-leaf tree: level 0 pairs (0, 1), 2 is carried up.
    function _proof(uint256 i) internal view returns (bytes32[] memory p) {
        if (i == 2) {
            p = new bytes32[](1);
            p[0] = ResultTree.hashPair(leaves[0], leaves[1]);
            return p;
        }
        p = new bytes32[](2);
        p[0] = leaves[i ^ 1];
        p[1] = leaves[2];
    }

    function _submit(bytes32 resultsRoot) internal returns (IRollup.BatchHeader memory h) {
        bytes memory data = abi.encodePacked(uint8(0), rollup.batchCount(), "blocks");
        h = nextHeader(1, 0, data);
        h.resultsRoot = resultsRoot;
        vm.prank(BATCHER);
        rollup.submitBatch(h, data);
    }
}
