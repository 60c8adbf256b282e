// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RollupSetup } from "./Setup.sol";
import { IBridge } from "../../interfaces/IBridge.sol";
import { WithdrawalFixture as F } from "./fixtures/BridgeFixture.sol";

/// @notice The withdrawal target that calls back: records the L2 sender, value and argument.
contract Receiver {
    address public seenSender;
    uint256 public seenValue;
    uint256 public seenArg;

    function onWithdrawal(uint256 arg) external payable {
        seenSender = IBridge(msg.sender).l2Sender();
        seenValue = msg.value;
        seenArg = arg;
    }
}

/// @notice A target that refuses ETH until switched on.
contract Toggle {
    bool public on;

    function switchOn() external {
        on = true;
    }

    receive() external payable {
        require(on, "off");
    }
}

contract BridgeWithdrawalTest is RollupSetup {
    bytes32 internal constant L2_BLOCK_HASH = keccak256("l2 block");
    uint256 internal outputIndex;

    function outputRootProof() internal pure returns (IBridge.OutputRootProof memory) {
        return IBridge.OutputRootProof({
            version: bytes32(0),
            stateRoot: F.STATE_ROOT,
            messagePasserStorageRoot: F.STORAGE_ROOT,
            blockHash: L2_BLOCK_HASH
        });
    }

    function setUp() public override {
        super.setUp();
        deposit(10 ether); // the ETH the withdrawals pay out
        outputIndex = submitAndPropose(keccak256(abi.encode(outputRootProof())));
        vm.warp(block.timestamp + CHALLENGE_WINDOW);
        vm.etch(F.RECEIVER, type(Receiver).runtimeCode);
        vm.etch(F.TOGGLE, type(Toggle).runtimeCode);
    }

    function hashOf(IBridge.WithdrawalTransaction memory w) internal pure returns (bytes32) {
        return keccak256(abi.encode(w.nonce, w.sender, w.target, w.value, w.gasLimit, w.data));
    }

    function test_finalize_paysTargetOnce() public {
        (IBridge.WithdrawalTransaction memory w, bytes[] memory proof) = F.pay();
        bytes32 h = hashOf(w);
        assertEq(bridge.hashWithdrawal(w), h, "hashWithdrawal");
        vm.expectEmit(true, true, false, true, address(bridge));
        emit IBridge.WithdrawalFinalized(h, F.PAYEE, 1 ether);
        vm.prank(USER); // anyone may finalize
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), proof);
        assertEq(F.PAYEE.balance, 1 ether, "paid");
        assertEq(address(bridge).balance, 9 ether, "from the bridge");
        assertTrue(bridge.finalizedWithdrawals(h), "marked");

        vm.expectRevert(abi.encodeWithSelector(IBridge.WithdrawalAlreadyFinalized.selector, h));
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), proof);
        assertEq(F.PAYEE.balance, 1 ether, "paid once");
    }

    function test_finalize_callsWithL2Sender() public {
        (IBridge.WithdrawalTransaction memory w, bytes[] memory proof) = F.callReceiver();
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), proof);
        Receiver r = Receiver(F.RECEIVER);
        assertEq(r.seenSender(), F.BOB, "l2Sender during the call");
        assertEq(r.seenValue(), 0.5 ether, "value");
        assertEq(r.seenArg(), 42, "data");
        assertEq(bridge.l2Sender(), address(0), "l2Sender outside a withdrawal");
    }

    function test_revert_notFinal() public {
        (IBridge.WithdrawalTransaction memory w, bytes[] memory proof) = F.pay();
        uint256 fresh = submitAndPropose(keccak256(abi.encode(outputRootProof())));
        vm.expectRevert(abi.encodeWithSelector(IBridge.OutputNotFinalized.selector, fresh));
        bridge.finalizeWithdrawal(w, fresh, outputRootProof(), proof);
        vm.expectRevert(abi.encodeWithSelector(IBridge.OutputNotFinalized.selector, 9));
        bridge.finalizeWithdrawal(w, 9, outputRootProof(), proof);
    }

    function test_revert_deletedOutput() public {
        (IBridge.WithdrawalTransaction memory w, bytes[] memory proof) = F.pay();
        uint256 fresh = submitAndPropose(keccak256(abi.encode(outputRootProof())));
        vm.prank(CHALLENGER);
        rollup.deleteOutputs(fresh);
        vm.warp(block.timestamp + CHALLENGE_WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IBridge.OutputNotFinalized.selector, fresh));
        bridge.finalizeWithdrawal(w, fresh, outputRootProof(), proof);
    }

    function test_revert_wrongOutputRootProof() public {
        (IBridge.WithdrawalTransaction memory w, bytes[] memory proof) = F.pay();
        IBridge.OutputRootProof memory p = outputRootProof();
        p.blockHash = bytes32(uint256(p.blockHash) ^ 1);
        vm.expectRevert(IBridge.InvalidOutputRootProof.selector);
        bridge.finalizeWithdrawal(w, outputIndex, p, proof);
        // a storage root of the attacker's choosing does not hash to the proposed root either
        p = outputRootProof();
        p.messagePasserStorageRoot = keccak256(proof[proof.length - 1]);
        vm.expectRevert(IBridge.InvalidOutputRootProof.selector);
        bridge.finalizeWithdrawal(w, outputIndex, p, proof);
    }

    function test_revert_forgedWithdrawal() public {
        (IBridge.WithdrawalTransaction memory w, bytes[] memory proof) = F.pay();
        w.value = 2 ether; // not what was sent on L2
        vm.expectRevert(IBridge.InvalidWithdrawalProof.selector);
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), proof);
        w.value = 1 ether;
        w.target = USER;
        vm.expectRevert(IBridge.InvalidWithdrawalProof.selector);
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), proof);
    }

    function test_revert_forgedProof() public {
        (IBridge.WithdrawalTransaction memory w, bytes[] memory proof) = F.pay();
        // another withdrawal's proof
        (, bytes[] memory other) = F.toggle();
        vm.expectRevert(IBridge.InvalidWithdrawalProof.selector);
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), other);
        // no proof
        vm.expectRevert(IBridge.InvalidWithdrawalProof.selector);
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), new bytes[](0));
        // the leaf's value (RLP(1)) changed to RLP(2)
        bytes memory leaf = proof[proof.length - 1];
        leaf[leaf.length - 1] = 0x02;
        vm.expectRevert(IBridge.InvalidWithdrawalProof.selector);
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), proof);
        // a truncated proof
        (, proof) = F.pay();
        bytes[] memory short = new bytes[](proof.length - 1);
        for (uint256 i = 0; i < short.length; i++) short[i] = proof[i];
        vm.expectRevert(IBridge.InvalidWithdrawalProof.selector);
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), short);
        // still claimable with the genuine proof
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), proof);
    }

    /// Every single-byte corruption of the proof is refused as InvalidWithdrawalProof.
    function testFuzz_corruptedProof(uint256 node, uint256 pos, uint8 flip) public {
        (IBridge.WithdrawalTransaction memory w, bytes[] memory proof) = F.callReceiver();
        vm.assume(flip != 0);
        node = bound(node, 0, proof.length - 1);
        pos = bound(pos, 0, proof[node].length - 1);
        proof[node][pos] = bytes1(uint8(proof[node][pos]) ^ flip);
        vm.expectRevert(IBridge.InvalidWithdrawalProof.selector);
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), proof);
    }

    function test_failedCall_revertsAndCanBeRetried() public {
        (IBridge.WithdrawalTransaction memory w, bytes[] memory proof) = F.toggle();
        bytes32 h = hashOf(w);
        vm.expectRevert(abi.encodeWithSelector(IBridge.WithdrawalCallFailed.selector, h));
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), proof);
        assertTrue(!bridge.finalizedWithdrawals(h), "not finalized after a failed call");
        assertEq(address(bridge).balance, 10 ether, "nothing paid");

        Toggle(payable(F.TOGGLE)).switchOn();
        bridge.finalizeWithdrawal(w, outputIndex, outputRootProof(), proof);
        assertTrue(bridge.finalizedWithdrawals(h), "finalized on retry");
        assertEq(F.TOGGLE.balance, 0.25 ether, "paid on retry");
    }

    function test_insufficientGas() public {
        (IBridge.WithdrawalTransaction memory w, bytes[] memory proof) = F.heavy(); // gasLimit 5,000,000
        vm.expectRevert(IBridge.InsufficientGas.selector);
        bridge.finalizeWithdrawal{ gas: 4_000_000 }(w, outputIndex, outputRootProof(), proof);
        bridge.finalizeWithdrawal{ gas: 5_300_000 }(w, outputIndex, outputRootProof(), proof);
        assertTrue(bridge.finalizedWithdrawals(hashOf(w)), "finalized with enough gas");
    }

    /// forall delay: a withdrawal is claimable iff its output is final.
    function testFuzz_finalizationWindow(uint256 delay) public {
        delay = bound(delay, 0, 3 * CHALLENGE_WINDOW);
        (IBridge.WithdrawalTransaction memory w, bytes[] memory proof) = F.pay();
        uint256 proposedAt = block.timestamp;
        uint256 fresh = submitAndPropose(keccak256(abi.encode(outputRootProof())));
        vm.warp(proposedAt + delay);
        if (delay < CHALLENGE_WINDOW) {
            vm.expectRevert(abi.encodeWithSelector(IBridge.OutputNotFinalized.selector, fresh));
            bridge.finalizeWithdrawal(w, fresh, outputRootProof(), proof);
        } else {
            bridge.finalizeWithdrawal(w, fresh, outputRootProof(), proof);
            assertEq(F.PAYEE.balance, 1 ether, "paid once final");
        }
    }
}
