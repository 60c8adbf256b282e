// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { Test } from "./Vm.sol";
import { L1Block } from "../../l2/L1Block.sol";
import { L2ToL1MessagePasser } from "../../l2/L2ToL1MessagePasser.sol";
import { IL1Block } from "../../interfaces/IL1Block.sol";
import { IL2ToL1MessagePasser } from "../../interfaces/IL2ToL1MessagePasser.sol";
import { ModelRegistry } from "../../l2/ModelRegistry.sol";
import { IModelRegistry } from "../../interfaces/IModelRegistry.sol";
import { IInferenceVerifier } from "../../interfaces/IInferenceVerifier.sol";

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

/// @notice FORGE-ONLY STAND-IN for the verifier precompile's checkKey (forge's EVM lacks it):
/// refuses a key whose first word is 0 as an identity alpha (code 5). The real checks run in
/// precompiles/groth16/key-check.ts, tested by test/unit/precompile-keys.test.ts and
/// test/e2e/ai-registry.test.ts against the node.
contract ForgeOnlyKeyCheckStub {
    function checkKey(bytes calldata vk) external pure returns (bool) {
        if (uint256(bytes32(vk[0:32])) == 0) revert IInferenceVerifier.KeyRefused(5);
        return true;
    }
}

contract ModelRegistryTest is Test {
    ModelRegistry internal constant REGISTRY = ModelRegistry(0x4200000000000000000000000000000000000A00);
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    bytes32 internal constant MODEL = keccak256("model");
    bytes32 internal constant SALT = keccak256("salt");

    function setUp() public {
        vm.etch(0x0000000000000000000000000000000000000a01, address(new ForgeOnlyKeyCheckStub()).code);
        vm.etch(address(REGISTRY), address(new ModelRegistry()).code);
        vm.roll(100);
    }

    /// A key of the right shape for n public inputs (the stub checks only word 0).
    function _vk(uint256 n, uint256 first) internal pure returns (bytes memory vk) {
        vk = new bytes((17 + 2 * n) * 32);
        assembly {
            mstore(add(vk, 32), first)
            mstore(add(vk, 480), n)
        }
    }

    function _commit(address who, bytes32 id, bytes memory vk) internal returns (bytes32 c) {
        c = REGISTRY.registrationCommitment(who, id, vk, "ipfs://m", SALT);
        vm.prank(who);
        REGISTRY.commitRegistration(c);
    }

    function test_commitRevealBindsTheRegistrant() public {
        bytes memory vk = _vk(3, 1);
        bytes32 c = _commit(ALICE, MODEL, vk);
        assertEq(c, keccak256(abi.encode(ALICE, MODEL, keccak256(vk), keccak256(bytes("ipfs://m")), SALT)), "formula");
        // revealable from the next block, kept at keccak256(c . 3) (registry-layout.ts)
        assertEq(vm.load(address(REGISTRY), keccak256(abi.encode(c, uint256(3)))), bytes32(uint256(101)), "slot 3");
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.CommitmentTooRecent.selector, c, uint256(100)));
        REGISTRY.register(MODEL, vk, "ipfs://m", SALT);
        vm.roll(101);
        // BOB copies ALICE's pending reveal: with his address it names no commitment
        bytes32 bobs = REGISTRY.registrationCommitment(BOB, MODEL, vk, "ipfs://m", SALT);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.UnknownCommitment.selector, bobs));
        REGISTRY.register(MODEL, vk, "ipfs://m", SALT);
        // copying her commit changes nothing either: the first block stays
        vm.prank(BOB);
        REGISTRY.commitRegistration(c);
        assertEq(vm.load(address(REGISTRY), keccak256(abi.encode(c, uint256(3)))), bytes32(uint256(101)), "first commit kept");
        vm.prank(ALICE);
        REGISTRY.register(MODEL, vk, "ipfs://m", SALT);
        assertEq(REGISTRY.getModel(MODEL).owner, ALICE, "the id is hers");
        assertEq(vm.load(address(REGISTRY), keccak256(abi.encode(c, uint256(3)))), bytes32(0), "consumed");
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.UnknownCommitment.selector, c));
        REGISTRY.register(MODEL, vk, "ipfs://m", SALT);
    }

    function test_commitmentExpires() public {
        bytes memory vk = _vk(1, 1);
        bytes32 c = _commit(ALICE, MODEL, vk);
        vm.roll(100 + REGISTRY.MAX_COMMIT_AGE() + 1);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.CommitmentExpired.selector, c, uint256(100)));
        REGISTRY.register(MODEL, vk, "ipfs://m", SALT);
        vm.roll(100 + REGISTRY.MAX_COMMIT_AGE());
        vm.prank(ALICE);
        REGISTRY.register(MODEL, vk, "ipfs://m", SALT);
        assertTrue(REGISTRY.exists(MODEL), "the last block of the window still counts");
    }

    /// register and publishVersion both ask the verifier; its KeyRefused reaches the caller.
    function test_keysGoThroughCheckKey() public {
        bytes memory bad = _vk(2, 0);
        _commit(ALICE, MODEL, bad);
        vm.roll(101);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.KeyRefused.selector, uint8(5)));
        REGISTRY.register(MODEL, bad, "ipfs://m", SALT);
        bytes memory good = _vk(2, 1);
        _commit(ALICE, MODEL, good);
        vm.roll(102);
        vm.prank(ALICE);
        REGISTRY.register(MODEL, good, "ipfs://m", SALT);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.KeyRefused.selector, uint8(5)));
        REGISTRY.publishVersion(MODEL, keccak256("v2"), bad, "");
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.NotOwner.selector, MODEL, BOB));
        REGISTRY.publishVersion(MODEL, keccak256("v2"), good, "");
        vm.prank(ALICE);
        REGISTRY.publishVersion(MODEL, keccak256("v2"), good, "");
        assertEq(REGISTRY.getModel(keccak256("v2")).version, 2, "version 2 without a commitment");
    }
}
