// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RollupSetup } from "./Setup.sol";
import { IRollup } from "../../interfaces/IRollup.sol";

contract RollupBatchTest is RollupSetup {
    bytes internal constant DATA = hex"00c0ffee";

    function submitExpectRevert(IRollup.BatchHeader memory h, bytes memory data, bytes memory err) internal {
        vm.prank(BATCHER);
        vm.expectRevert(err);
        rollup.submitBatch(h, data);
    }

    function test_constructorStoresRoles() public view {
        assertEq(rollup.bridge(), address(bridge), "bridge");
        assertEq(rollup.batcher(), BATCHER, "batcher");
        assertEq(rollup.proposer(), PROPOSER, "proposer");
        assertEq(rollup.challenger(), CHALLENGER, "challenger");
        assertEq(rollup.challengeWindow(), CHALLENGE_WINDOW, "challengeWindow");
        assertEq(rollup.inclusionWindow(), INCLUSION_WINDOW, "inclusionWindow");
        assertEq(rollup.batchCount(), 0, "batchCount");
        assertEq(rollup.nextBlock(), 1, "nextBlock starts at 1");
        assertEq(rollup.lastBatchHash(), bytes32(0), "lastBatchHash");
    }

    function test_batchesChain() public {
        vm.roll(77);
        IRollup.BatchHeader memory h0 = nextHeader(5, 0, DATA);
        assertEq(h0.firstBlock, 1, "first batch starts at block 1");
        vm.expectEmit(true, true, false, true, address(rollup));
        emit IRollup.BatchSubmitted(0, keccak256(abi.encode(h0)), 1, 5, 0);
        vm.prank(BATCHER);
        rollup.submitBatch(h0, DATA);

        IRollup.Batch memory b = rollup.getBatch(0);
        assertEq(b.hash, keccak256(abi.encode(h0)), "hash");
        assertEq(b.firstBlock, 1, "firstBlock");
        assertEq(b.lastBlock, 5, "lastBlock");
        assertEq(b.depositCount, 0, "depositCount");
        assertEq(b.l1Block, 77, "l1Block");
        assertEq(b.timestamp, START, "timestamp");
        assertEq(rollup.lastBatchHash(), b.hash, "lastBatchHash");
        assertEq(rollup.nextBlock(), 6, "nextBlock");

        deposit(1 ether);
        deposit(2 ether);
        vm.warp(START + 100);
        IRollup.BatchHeader memory h1 = nextHeader(1, 2, DATA);
        assertEq(h1.prevBatchHash, b.hash, "prev");
        vm.prank(BATCHER);
        rollup.submitBatch(h1, DATA);
        IRollup.Batch memory b1 = rollup.getBatch(1);
        assertEq(b1.firstBlock, 6, "firstBlock of batch 1");
        assertEq(b1.lastBlock, 6, "a batch of one block");
        assertEq(b1.depositCount, 2, "depositCount");
        assertEq(b1.timestamp, START + 100, "timestamp");
        assertEq(rollup.batchCount(), 2, "batchCount");
        assertEq(rollup.nextBlock(), 7, "nextBlock");

        vm.expectRevert(abi.encodeWithSelector(IRollup.UnknownBatch.selector, 2));
        rollup.getBatch(2);
    }

    function test_revert_notBatcher() public {
        IRollup.BatchHeader memory h = nextHeader(1, 0, DATA);
        vm.prank(USER);
        vm.expectRevert(IRollup.NotBatcher.selector);
        rollup.submitBatch(h, DATA);
    }

    function test_revert_wrongIndex() public {
        IRollup.BatchHeader memory h = nextHeader(1, 0, DATA);
        h.index = 1;
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.WrongBatchIndex.selector, 0, 1));
        submit(1, 0);
        h = nextHeader(1, 0, DATA);
        h.index = 0; // a replay of index 0
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.WrongBatchIndex.selector, 1, 0));
    }

    function test_revert_wrongPrevBatchHash() public {
        IRollup.BatchHeader memory h = nextHeader(1, 0, DATA);
        h.prevBatchHash = bytes32(uint256(1));
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.WrongPrevBatchHash.selector, bytes32(0), h.prevBatchHash));
        submit(1, 0);
        h = nextHeader(1, 0, DATA);
        bytes32 want = h.prevBatchHash;
        h.prevBatchHash = bytes32(0);
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.WrongPrevBatchHash.selector, want, bytes32(0)));
    }

    function test_revert_wrongFirstBlock() public {
        IRollup.BatchHeader memory h = nextHeader(1, 0, DATA);
        h.firstBlock = 0; // block 0 is genesis, never in a batch
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.WrongFirstBlock.selector, 1, 0));
        submit(3, 0);
        h = nextHeader(1, 0, DATA);
        h.firstBlock = 5; // a gap
        h.lastBlock = 5;
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.WrongFirstBlock.selector, 4, 5));
        h.firstBlock = 3; // an overlap
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.WrongFirstBlock.selector, 4, 3));
    }

    function test_revert_emptyBlockRange() public {
        submit(2, 0);
        IRollup.BatchHeader memory h = nextHeader(1, 0, DATA);
        h.lastBlock = h.firstBlock - 1;
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.EmptyBlockRange.selector));
    }

    function test_revert_dataHashMismatch() public {
        IRollup.BatchHeader memory h = nextHeader(1, 0, DATA);
        submitExpectRevert(h, hex"00c0fffe", abi.encodeWithSelector(IRollup.DataHashMismatch.selector));
    }

    function test_revert_depositCountDecreased() public {
        deposit(1 ether);
        deposit(1 ether);
        submit(1, 2);
        IRollup.BatchHeader memory h = nextHeader(1, 1, DATA);
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.DepositCountDecreased.selector, 2, 1));
        // the same count again is fine: no new deposit in these blocks
        h = nextHeader(1, 2, DATA);
        vm.prank(BATCHER);
        rollup.submitBatch(h, DATA);
    }

    function test_revert_unknownDeposits() public {
        deposit(1 ether);
        IRollup.BatchHeader memory h = nextHeader(1, 1, DATA);
        h.depositCount = 2;
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.UnknownDeposits.selector, 1, 2));
    }

    function test_revert_depositHashMismatch() public {
        deposit(1 ether);
        deposit(2 ether);
        IRollup.BatchHeader memory h = nextHeader(1, 2, DATA);
        bytes32 want = h.depositHash;
        h.depositHash = bridge.depositHashAt(1); // the hash of another prefix
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.DepositHashMismatch.selector, want, h.depositHash));
    }

    function test_forcedInclusion_deadline() public {
        vm.warp(START + 10);
        deposit(1 ether); // deposit 0 at START + 10
        vm.warp(START + 20);
        deposit(1 ether); // deposit 1 at START + 20
        uint256 deadline0 = START + 10 + INCLUSION_WINDOW;

        // just before the deadline a batch may leave both deposits out
        vm.warp(deadline0 - 1);
        submit(1, 0);
        // at the deadline, leaving deposit 0 out is refused...
        vm.warp(deadline0);
        IRollup.BatchHeader memory h = nextHeader(1, 0, DATA);
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.DepositPastDeadline.selector, 0, deadline0));
        // ...and so is consuming deposit 0 but not deposit 1, once deposit 1 is past its deadline
        vm.warp(START + 20 + INCLUSION_WINDOW);
        h = nextHeader(1, 1, DATA);
        submitExpectRevert(h, DATA, abi.encodeWithSelector(IRollup.DepositPastDeadline.selector, 1, START + 20 + INCLUSION_WINDOW));
        // consuming every deposit passes at any time
        vm.warp(START + 30 days);
        submit(1, 2);
        assertEq(rollup.getBatch(1).depositCount, 2, "deposits consumed");
    }

    /// forall t: a batch leaving deposit 0 out passes iff t < depositTime + inclusionWindow
    function testFuzz_forcedInclusion(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 3 * INCLUSION_WINDOW);
        deposit(1 ether);
        vm.warp(START + elapsed);
        IRollup.BatchHeader memory h = nextHeader(1, 0, DATA);
        vm.prank(BATCHER);
        if (elapsed < INCLUSION_WINDOW) {
            rollup.submitBatch(h, DATA);
            assertEq(rollup.batchCount(), 1, "accepted");
        } else {
            vm.expectRevert(abi.encodeWithSelector(IRollup.DepositPastDeadline.selector, 0, START + INCLUSION_WINDOW));
            rollup.submitBatch(h, DATA);
            submit(1, 1);
        }
    }
}

contract RollupOutputTest is RollupSetup {
    bytes32 internal constant ROOT = keccak256("root");

    function propose(uint256 batchIndex, bytes32 root) internal {
        vm.prank(PROPOSER);
        rollup.proposeOutput(batchIndex, root);
    }

    function test_proposeOutput() public {
        submit(4, 0); // blocks 1-4
        submit(3, 0); // blocks 5-7
        vm.warp(START + 50);
        vm.expectEmit(true, true, false, true, address(rollup));
        emit IRollup.OutputProposed(0, 1, 7, ROOT);
        propose(1, ROOT); // batch 0 skipped: outputs need not cover every batch
        IRollup.Output memory o = rollup.getOutput(0);
        assertEq(o.root, ROOT, "root");
        assertEq(o.batchIndex, 1, "batchIndex");
        assertEq(o.l2Block, 7, "l2Block is the batch's lastBlock");
        assertEq(o.timestamp, START + 50, "timestamp");
        assertEq(rollup.outputCount(), 1, "outputCount");
        vm.expectRevert(abi.encodeWithSelector(IRollup.UnknownOutput.selector, 1));
        rollup.getOutput(1);
    }

    function test_revert_notProposer() public {
        submit(1, 0);
        vm.prank(BATCHER);
        vm.expectRevert(IRollup.NotProposer.selector);
        rollup.proposeOutput(0, ROOT);
    }

    function test_revert_unknownBatch() public {
        vm.prank(PROPOSER);
        vm.expectRevert(abi.encodeWithSelector(IRollup.UnknownBatch.selector, 0));
        rollup.proposeOutput(0, ROOT);
        submit(1, 0);
        vm.prank(PROPOSER);
        vm.expectRevert(abi.encodeWithSelector(IRollup.UnknownBatch.selector, 1));
        rollup.proposeOutput(1, ROOT);
    }

    function test_revert_outOfOrder() public {
        submit(1, 0);
        submit(1, 0);
        submit(1, 0);
        propose(1, ROOT);
        vm.prank(PROPOSER);
        vm.expectRevert(abi.encodeWithSelector(IRollup.OutputOutOfOrder.selector, 1, 1));
        rollup.proposeOutput(1, ROOT);
        vm.prank(PROPOSER);
        vm.expectRevert(abi.encodeWithSelector(IRollup.OutputOutOfOrder.selector, 1, 0));
        rollup.proposeOutput(0, ROOT);
        propose(2, ROOT);
        assertEq(rollup.outputCount(), 2, "outputCount");
    }

    function test_deleteOutputs() public {
        for (uint256 i = 0; i < 4; i++) submit(1, 0);
        propose(0, ROOT);
        vm.warp(START + CHALLENGE_WINDOW); // output 0 final
        propose(1, ROOT);
        propose(2, ROOT);
        propose(3, ROOT);

        vm.prank(USER);
        vm.expectRevert(IRollup.NotChallenger.selector);
        rollup.deleteOutputs(1);
        vm.prank(CHALLENGER);
        vm.expectRevert(abi.encodeWithSelector(IRollup.UnknownOutput.selector, 4));
        rollup.deleteOutputs(4);
        vm.prank(CHALLENGER);
        vm.expectRevert(abi.encodeWithSelector(IRollup.OutputFinalized.selector, 0));
        rollup.deleteOutputs(0);

        vm.expectEmit(false, false, false, true, address(rollup));
        emit IRollup.OutputsDeleted(2, 4);
        vm.prank(CHALLENGER);
        rollup.deleteOutputs(2);
        assertEq(rollup.outputCount(), 2, "outputs 2 and 3 popped");
        assertEq(rollup.getOutput(1).batchIndex, 1, "output 1 kept");
        assertTrue(!rollup.isFinalized(2), "a deleted output is not final");
        vm.expectRevert(abi.encodeWithSelector(IRollup.UnknownOutput.selector, 2));
        rollup.getOutput(2);

        // the proposer goes on from the last kept output, and may re-propose batch 2
        propose(2, keccak256("corrected"));
        assertEq(rollup.getOutput(2).root, keccak256("corrected"), "re-proposed");
        assertEq(rollup.getOutput(2).timestamp, START + CHALLENGE_WINDOW, "new timestamp");
    }

    /// forall delay: isFinalized(i) iff block.timestamp >= proposal time + challengeWindow
    function testFuzz_finalizationWindow(uint256 delay) public {
        delay = bound(delay, 0, 10 * CHALLENGE_WINDOW);
        submit(1, 0);
        propose(0, ROOT);
        assertTrue(!rollup.isFinalized(0), "not final when proposed");
        assertTrue(!rollup.isFinalized(1), "unknown output not final");
        vm.warp(START + delay);
        bool fin = delay >= CHALLENGE_WINDOW;
        assertTrue(rollup.isFinalized(0) == fin, "final exactly from timestamp + challengeWindow");
        vm.prank(CHALLENGER);
        if (fin) vm.expectRevert(abi.encodeWithSelector(IRollup.OutputFinalized.selector, 0));
        rollup.deleteOutputs(0);
        assertEq(rollup.outputCount(), fin ? 1 : 0, "deleted only while not final");
    }
}
