// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { Test } from "./Vm.sol";
import { L1Block } from "../../l2/L1Block.sol";
import { L2ToL1MessagePasser } from "../../l2/L2ToL1MessagePasser.sol";
import { IL1Block } from "../../interfaces/IL1Block.sol";
import { IL2ToL1MessagePasser } from "../../interfaces/IL2ToL1MessagePasser.sol";

contract L1BlockTest is Test {
    address internal constant DEPOSITOR = 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001;
    L1Block internal l1b;

    function setUp() public {
        l1b = new L1Block();
    }

    function test_onlyDepositor() public {
        vm.expectRevert(IL1Block.OnlyDepositor.selector);
        l1b.setL1BlockValues(1, 2, 3, bytes32(uint256(4)), 5, 6, bytes32(uint256(7)));
    }

    /// The node reads these slots natively: slot i holds the i-th value.
    function testFuzz_storageLayout(uint256 n, uint256 t, uint256 fee, bytes32 h, uint256 seq, uint256 dc, bytes32 dh) public {
        vm.prank(DEPOSITOR);
        l1b.setL1BlockValues(n, t, fee, h, seq, dc, dh);
        bytes32[7] memory want = [bytes32(n), bytes32(t), bytes32(fee), h, bytes32(seq), bytes32(dc), dh];
        for (uint256 i = 0; i < 7; i++) assertEq(vm.load(address(l1b), bytes32(i)), want[i], "slot");
        assertEq(l1b.number(), n, "number");
        assertEq(l1b.timestamp(), t, "timestamp");
        assertEq(l1b.basefee(), fee, "basefee");
        assertEq(l1b.hash(), h, "hash");
        assertEq(l1b.sequenceNumber(), seq, "sequenceNumber");
        assertEq(l1b.depositCount(), dc, "depositCount");
        assertEq(l1b.depositHash(), dh, "depositHash");
    }
}

contract MessagePasserTest is Test {
    L2ToL1MessagePasser internal passer;
    address internal constant ALICE = address(0xA11CE);

    function setUp() public {
        passer = new L2ToL1MessagePasser();
        vm.deal(ALICE, 100 ether);
    }

    function testFuzz_initiateWithdrawal(address target, uint256 gasLimit, bytes memory data, uint96 value) public {
        vm.prank(ALICE);
        passer.initiateWithdrawal{ value: 1 }(address(1), 1, ""); // nonce 0
        bytes32 h = keccak256(abi.encode(uint256(1), ALICE, target, uint256(value), gasLimit, data));
        vm.deal(ALICE, uint256(value));
        vm.expectEmit(true, true, true, true, address(passer));
        emit IL2ToL1MessagePasser.MessagePassed(1, ALICE, target, value, gasLimit, data, h);
        vm.prank(ALICE);
        passer.initiateWithdrawal{ value: value }(target, gasLimit, data);
        assertTrue(passer.sentMessages(h), "recorded");
        assertEq(passer.messageNonce(), 2, "nonce used, then incremented");
        // slot 0 is the mapping, slot 1 the nonce: the L1 Bridge proves exactly this slot
        assertEq(vm.load(address(passer), keccak256(abi.encode(h, uint256(0)))), bytes32(uint256(1)), "sentMessages slot");
        assertEq(vm.load(address(passer), bytes32(uint256(1))), bytes32(uint256(2)), "messageNonce slot");
        assertEq(address(passer).balance, uint256(value) + 1, "ETH stays locked");
    }

    function test_receive_withdrawsToSender() public {
        vm.prank(ALICE);
        (bool ok,) = address(passer).call{ value: 3 ether }("");
        assertTrue(ok, "plain transfer accepted");
        bytes32 h = keccak256(abi.encode(uint256(0), ALICE, ALICE, uint256(3 ether), uint256(100_000), bytes("")));
        assertTrue(passer.sentMessages(h), "receive() = initiateWithdrawal(msg.sender, 100_000, \"\")");
    }
}
