// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RollupSetup, defaultResourceConfig } from "./Setup.sol";
import { Bridge } from "../../l1/Bridge.sol";
import { IBridge } from "../../interfaces/IBridge.sol";
import { DepositVectors } from "./fixtures/BridgeFixture.sol";

contract BridgeDepositTest is RollupSetup {
    function test_initializeOnceByDeployer() public {
        Bridge b = new Bridge(defaultResourceConfig());
        vm.prank(USER);
        vm.expectRevert(Bridge.NotDeployer.selector);
        b.initialize(address(rollup));
        b.initialize(address(rollup));
        assertEq(b.rollup(), address(rollup), "rollup");
        vm.expectRevert(IBridge.AlreadyInitialized.selector);
        b.initialize(address(0xBAD));
    }

    function test_depositETH_fromEOA() public {
        vm.expectEmit(true, true, true, true, address(bridge));
        bytes32 h1 = keccak256(abi.encode(bytes32(0), uint256(0), USER, address(0xB0B), 2 ether, 2 ether, uint64(100_000), false, keccak256("")));
        emit IBridge.DepositQueued(0, USER, address(0xB0B), 2 ether, 2 ether, 100_000, false, "", h1);
        vm.prank(USER, USER);
        bridge.depositETH{ value: 2 ether }(address(0xB0B), 100_000, "");
        assertEq(bridge.depositCount(), 1, "count");
        assertEq(bridge.depositHashAt(0), bytes32(0), "h[0] = 0");
        assertEq(bridge.depositHashAt(1), h1, "h[1]");
        assertEq(bridge.depositTime(0), START, "time");
        assertEq(address(bridge).balance, 2 ether, "ETH locked in the bridge");
        vm.expectRevert(abi.encodeWithSelector(Bridge.UnknownDepositCount.selector, 1, 2));
        bridge.depositHashAt(2);
        vm.expectRevert(abi.encodeWithSelector(Bridge.UnknownDeposit.selector, 1));
        bridge.depositTime(1);
    }

    function test_receive_depositsToSender() public {
        vm.prank(USER, USER);
        (bool ok,) = address(bridge).call{ value: 3 ether }("");
        assertTrue(ok, "plain transfer accepted");
        bytes32 want = keccak256(abi.encode(bytes32(0), uint256(0), USER, USER, 3 ether, 3 ether, uint64(100_000), false, keccak256("")));
        assertEq(bridge.depositHashAt(1), want, "receive() = depositETH(msg.sender, 100_000, \"\")");
    }

    function test_revert_depositLimits() public {
        bytes memory data = new bytes(100);
        uint64 min = 21_000 + 16 * 100;
        vm.prank(USER, USER);
        vm.expectRevert(abi.encodeWithSelector(IBridge.GasLimitTooLow.selector, min));
        bridge.depositETH(USER, min - 1, data);
        vm.prank(USER, USER);
        bridge.depositETH(USER, min, data); // the minimum itself is enough

        vm.prank(USER, USER);
        vm.expectRevert(abi.encodeWithSelector(IBridge.GasLimitTooHigh.selector, 10_000_000));
        bridge.depositETH(USER, 10_000_001, "");
        vm.prank(USER, USER);
        bridge.depositETH(USER, 10_000_000, "");

        // the next L1 block: the deposits of one block buy at most maxResourceLimit (20M) in all
        vm.roll(block.number + 1);
        vm.prank(USER, USER);
        vm.expectRevert(abi.encodeWithSelector(IBridge.DataTooLarge.selector, 120_000));
        bridge.depositTransaction(address(0), 0, 10_000_000, true, new bytes(120_001));
        vm.prank(USER, USER);
        bridge.depositTransaction(address(0), 0, 10_000_000, true, new bytes(120_000));

        vm.prank(USER, USER);
        vm.expectRevert(IBridge.CreationWithTarget.selector);
        bridge.depositTransaction(USER, 0, 100_000, true, "");
        assertEq(bridge.depositCount(), 3, "three accepted");
    }

    /// The rolling hash after a sequence of fuzzed deposits, recomputed independently.
    function testFuzz_rollingHash(uint256 seed, uint8 n) public {
        n = uint8(bound(n, 1, 12));
        bytes32 h;
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            address sender = address(uint160(r));
            bool fromContract = (r >> 160) % 2 == 1;
            bool creation = (r >> 161) % 3 == 0;
            address to = creation ? address(0) : address(uint160(r >> 80));
            uint256 mint = (r >> 170) % 100 ether;
            uint256 value = (r >> 100) % 200 ether;
            bytes memory data = new bytes((r >> 200) % 300);
            for (uint256 j = 0; j < data.length; j++) data[j] = bytes1(uint8(r >> (j % 200)));
            uint64 gasLimit = uint64(21_000 + 16 * data.length + (r >> 30) % 1_000_000);
            vm.assume(sender != address(vm) && sender.code.length == 0);
            vm.deal(sender, mint);
            vm.warp(START + i * 7);
            // a contract sender: tx.origin differs from msg.sender
            vm.prank(sender, fromContract ? address(0xE0A) : sender);
            bridge.depositTransaction{ value: mint }(to, value, gasLimit, creation, data);
            address from = fromContract ? address(uint160((uint256(uint160(sender)) + ((0x1111 << 144) | 0x1111)) % (1 << 160))) : sender;
            h = keccak256(abi.encodePacked(h, i, uint256(uint160(from)), uint256(uint160(to)), mint, value, uint256(gasLimit), uint256(creation ? 1 : 0), keccak256(data)));
            assertEq(bridge.depositHashAt(uint64(i + 1)), h, "rolling hash");
            assertEq(bridge.depositTime(uint64(i)), START + i * 7, "time");
        }
        assertEq(bridge.depositCount(), n, "count");
    }

    /// An L1 contract's deposits come from its aliased address, wrapping at 2^160.
    function testFuzz_aliasing(address sender) public {
        vm.assume(sender != address(vm) && sender != address(0xE0A));
        vm.deal(sender, 1 ether);
        vm.recordLogs();
        vm.prank(sender, address(0xE0A));
        bridge.depositETH{ value: 1 ether }(USER, 100_000, "");
        address from;
        unchecked {
            from = address(uint160(sender) + uint160((0x1111 << 144) | 0x1111));
        }
        assertEq(address(uint160(uint256(vm.getRecordedLogs()[0].topics[2]))), from, "aliased from");
        // the same address as an EOA (tx.origin == msg.sender) is not aliased
        vm.recordLogs();
        vm.prank(sender, sender);
        bridge.depositETH(USER, 100_000, "");
        assertEq(address(uint160(uint256(vm.getRecordedLogs()[0].topics[2]))), sender, "EOA not aliased");
    }

    function test_aliasWrapsAround() public {
        address sender = address(type(uint160).max);
        vm.deal(sender, 1);
        vm.recordLogs();
        vm.prank(sender, USER);
        bridge.depositETH{ value: 1 }(USER, 100_000, "");
        assertEq(address(uint160(uint256(vm.getRecordedLogs()[0].topics[2]))), address(0x1111000000000000000000000000000000001110), "mod 2^160");
    }

    /// Hashes computed by viem (contracts/tools/bridge-fixture.ts) for two fixed deposits.
    function test_rollingHash_matchesTypeScript() public {
        vm.deal(DepositVectors.EOA, 10 ether);
        vm.prank(DepositVectors.EOA, DepositVectors.EOA);
        bridge.depositETH{ value: 1 ether }(DepositVectors.TO, 100_000, hex"");
        vm.deal(DepositVectors.CONTRACT, 10 ether);
        vm.prank(DepositVectors.CONTRACT, DepositVectors.EOA);
        bridge.depositTransaction{ value: 2 }(address(0), 5, 300_000, true, DepositVectors.DATA);
        assertEq(bridge.depositHashAt(1), DepositVectors.HASH_1, "h[1]");
        assertEq(bridge.depositHashAt(2), DepositVectors.HASH_2, "h[2]");
    }
}
