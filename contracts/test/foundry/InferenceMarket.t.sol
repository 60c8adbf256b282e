// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { Test } from "./Vm.sol";
import { InferenceMarket } from "../../l2/InferenceMarket.sol";
import { InferenceConsumer } from "../../examples/InferenceConsumer.sol";
import { IInferenceMarket, IInferenceConsumer } from "../../interfaces/IInferenceMarket.sol";
import { IInferenceVerifier } from "../../interfaces/IInferenceVerifier.sol";

/// @notice FORGE-ONLY STAND-IN for the inference-verifier precompile, which forge's EVM lacks:
/// etched at 0x..0a01 so the market's own logic (stake, claims, slashes, callbacks, payments) can
/// be unit tested. It mimics the precompile's interface and error order, not its cryptography:
/// a "valid" proof is [0, keccak(modelId, inputs), 0, ...]; proof[0] >= p is InvalidProof(1);
/// proof[2] == 1 burns all gas. Real Groth16 verification is covered by test/e2e/ai-market.test.ts.
contract ForgeOnlyVerifierStub {
    uint256 internal constant P = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    mapping(bytes32 => uint256) public nPublic;
    mapping(bytes32 => bool) public deprecated;

    function setModel(bytes32 id, uint256 n, bool dep) external {
        nPublic[id] = n;
        deprecated[id] = dep;
    }

    function verify(bytes32 id, uint256[] calldata inputs, uint256[8] calldata proof) external view returns (bool) {
        if (nPublic[id] == 0) revert IInferenceVerifier.UnknownModel(id);
        if (deprecated[id]) revert IInferenceVerifier.ModelDeprecated(id);
        if (inputs.length != nPublic[id]) revert IInferenceVerifier.PublicInputCount(nPublic[id], inputs.length);
        if (proof[0] >= P) revert IInferenceVerifier.InvalidProof(1);
        if (proof[2] == 1) while (true) {}
        return proof[1] == uint256(keccak256(abi.encode(id, inputs)));
    }
}

/// A payee that refuses ETH, and a callback that tries to re-enter the market (then fails if told to).
contract Hostile is IInferenceConsumer {
    IInferenceMarket internal immutable market;
    bytes4 public reentryError;
    bool public failCallback;
    uint256[8] internal proof;

    constructor(IInferenceMarket m) payable {
        market = m;
    }

    function stake() external payable {
        market.registerProver{ value: msg.value }();
    }

    function fulfil(uint256 id, uint256[] calldata outputs, uint256[8] calldata p, bool fail) external returns (bool) {
        proof = p;
        failCallback = fail;
        market.claim(id);
        return market.fulfill(id, outputs, p);
    }

    function onInferenceResult(uint256 id, bytes32, uint256[] calldata outputs) external {
        try market.fulfill(id, outputs, proof) returns (bool) {} catch (bytes memory err) {
            reentryError = bytes4(err);
        }
        if (failCallback) revert("callback fails");
    }

    receive() external payable {
        revert("no ETH");
    }
}

contract InferenceMarketTest is Test {
    address internal constant VERIFIER = 0x0000000000000000000000000000000000000a01;
    InferenceMarket internal constant MARKET = InferenceMarket(0x4200000000000000000000000000000000000A03);
    bytes32 internal constant MODEL = keccak256("model");
    address internal constant DAPP = address(0xDA99);
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    uint256 internal constant FEE = 0.3 ether;

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.etch(VERIFIER, address(new ForgeOnlyVerifierStub()).code);
        vm.etch(address(MARKET), address(new InferenceMarket()).code);
        ForgeOnlyVerifierStub(VERIFIER).setModel(MODEL, 3, false); // 1 output + 2 inputs
        vm.deal(DAPP, 100 ether);
        vm.deal(ALICE, 100 ether);
        vm.deal(BOB, 100 ether);
    }

    function _inputs() internal pure returns (uint256[] memory a) {
        a = new uint256[](2);
        a[0] = 7;
        a[1] = 9;
    }

    function _outputs(uint256 v) internal pure returns (uint256[] memory a) {
        a = new uint256[](1);
        a[0] = v;
    }

    function _proof(uint256 output) internal pure returns (uint256[8] memory p) {
        uint256[] memory s = new uint256[](3);
        (s[0], s[1], s[2]) = (output, 7, 9);
        p[1] = uint256(keccak256(abi.encode(MODEL, s)));
    }

    function _request(address callback, uint32 gas) internal returns (uint256 id) {
        vm.prank(DAPP);
        id = MARKET.requestInference{ value: FEE }(MODEL, _inputs(), 1 hours, callback, gas);
    }

    function _stake(address who) internal {
        vm.prank(who);
        MARKET.registerProver{ value: 1 ether }();
    }

    function test_parametersDefaultAndGenesisOverride() public {
        IInferenceMarket.Parameters memory p = MARKET.parameters();
        assertEq(p.minStake, 1 ether, "minStake");
        assertEq(p.claimStake, 0.1 ether, "claimStake");
        assertEq(p.claimWindow, 120, "claimWindow");
        assertEq(p.missSlashBps, 1000, "missSlashBps");
        assertEq(p.rejectSlashBps, 5000, "rejectSlashBps");
        assertEq(p.maxCallbackGas, 500_000, "maxCallbackGas");
        vm.store(address(MARKET), bytes32(uint256(2)), bytes32(uint256(5)));
        vm.store(address(MARKET), bytes32(uint256(4)), bytes32(uint256(20_000)));
        p = MARKET.parameters();
        assertEq(p.claimWindow, 5, "slot 2 overrides claimWindow");
        assertEq(p.rejectSlashBps, 10_000, "basis points clamp at 100%");
        assertEq(p.minStake, 1 ether, "others keep their default");
    }

    function test_requestValidation() public {
        vm.startPrank(DAPP);
        vm.expectRevert(IInferenceMarket.ZeroValue.selector);
        MARKET.requestInference(MODEL, _inputs(), 60, address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InvalidTtl.selector, uint64(0), uint64(30 days)));
        MARKET.requestInference{ value: 1 }(MODEL, _inputs(), 0, address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.CallbackGasTooHigh.selector, uint32(500_001), uint256(500_000)));
        MARKET.requestInference{ value: 1 }(MODEL, _inputs(), 60, address(1), 500_001);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InputSignalCount.selector, uint256(3), uint256(3)));
        MARKET.requestInference{ value: 1 }(MODEL, new uint256[](3), 60, address(0), 0);
        uint256[] memory big = _inputs();
        big[1] = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InvalidInputSignal.selector, uint256(1)));
        MARKET.requestInference{ value: 1 }(MODEL, big, 60, address(0), 0);
        bytes memory unknown = abi.encodeWithSelector(IInferenceVerifier.UnknownModel.selector, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.ModelUnavailable.selector, bytes32(0), unknown));
        MARKET.requestInference{ value: 1 }(bytes32(0), _inputs(), 60, address(0), 0);
        vm.stopPrank();
        assertEq(MARKET.requestCount(), 0, "nothing recorded");
    }

    function test_claimFulfilPaysOnceAndCallsBack() public {
        vm.prank(DAPP);
        InferenceConsumer consumer = new InferenceConsumer(MODEL);
        vm.prank(DAPP);
        uint256 id = consumer.ask{ value: FEE }(_inputs(), 1 hours);
        _stake(ALICE);
        vm.prank(ALICE);
        MARKET.claim(id);
        assertEq(MARKET.freeStake(ALICE), 0.9 ether, "claim locks claimStake");
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.AlreadyClaimed.selector, id, ALICE, uint64(block.timestamp + 120)));
        MARKET.claim(id);
        uint256 before = ALICE.balance;
        vm.prank(ALICE);
        assertTrue(MARKET.fulfill(id, _outputs(5), _proof(5)), "accepted");
        assertEq(ALICE.balance - before, FEE, "fee pushed to the prover");
        assertEq(MARKET.freeStake(ALICE), 1 ether, "lock released");
        (bool ready, uint256[] memory out) = consumer.resultOf(id);
        assertTrue(ready && out.length == 1 && out[0] == 5, "callback stored the outputs");
        assertEq(MARKET.getProver(ALICE).fulfilled, 1, "fulfilled++");
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.AlreadyFulfilled.selector, id));
        MARKET.fulfill(id, _outputs(5), _proof(5));
        vm.expectRevert(abi.encodeWithSelector(InferenceConsumer.OnlyMarket.selector, address(this)));
        consumer.onInferenceResult(id, MODEL, _outputs(6));
    }

    /// A fulfilment copied from the pool (same outputs and proof, another sender) reverts and pays
    /// nothing; the claimant is paid once. Unclaimed or lapsed, nobody may fulfil.
    function test_onlyTheLiveClaimantFulfils() public {
        uint256 id = _request(address(0), 0);
        _stake(ALICE);
        _stake(BOB);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.NotClaimant.selector, id, address(0), uint64(0)));
        MARKET.fulfill(id, _outputs(5), _proof(5));
        vm.prank(ALICE);
        MARKET.claim(id);
        uint64 until = uint64(block.timestamp + 120);
        uint256 bob = BOB.balance;
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.NotClaimant.selector, id, ALICE, until));
        MARKET.fulfill(id, _outputs(5), _proof(5));
        assertEq(BOB.balance, bob, "the copier earns nothing");
        assertEq(MARKET.getProver(BOB).rejected, 0, "nor is he recorded: the copy reverted");
        uint256 alice = ALICE.balance;
        vm.prank(ALICE);
        assertTrue(MARKET.fulfill(id, _outputs(5), _proof(5)), "the claimant is paid");
        assertEq(ALICE.balance - alice, FEE, "once");
        // a lapsed claim no longer fulfils: claim again (settling the miss) or leave it to others
        uint256 id2 = _request(address(0), 0);
        vm.prank(ALICE);
        MARKET.claim(id2);
        vm.warp(block.timestamp + 121);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.NotClaimant.selector, id2, ALICE, until));
        MARKET.fulfill(id2, _outputs(5), _proof(5));
    }

    function test_rejectedProofIsRecordedNotReverted() public {
        uint256 id = _request(address(0), 0);
        _stake(ALICE);
        vm.prank(ALICE);
        MARKET.claim(id);
        uint256[8] memory bad = _proof(5);
        bad[0] = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
        vm.expectEmit(true, true, false, true, address(MARKET));
        emit IInferenceMarket.ProofRejected(id, ALICE, 0.05 ether, abi.encodeWithSelector(IInferenceVerifier.InvalidProof.selector, uint8(1)));
        vm.prank(ALICE);
        assertTrue(!MARKET.fulfill(id, _outputs(5), bad), "coordinate >= p rejected");
        IInferenceMarket.Prover memory p = MARKET.getProver(ALICE);
        assertEq(p.rejected, 1, "rejected++");
        assertEq(p.stake, 0.95 ether, "half a claim stake slashed");
        assertEq(p.locked, 0, "claim released");
        assertEq(MARKET.credits(DAPP), 0.05 ether, "slash credited to the requester");
        // a wrong output (well-formed, verifier says false) from the next claimant, then the right one
        vm.startPrank(BOB);
        MARKET.registerProver{ value: 2 ether }(); // a slash below minStake would unregister it
        MARKET.claim(id);
        assertTrue(!MARKET.fulfill(id, _outputs(6), _proof(5)), "wrong output rejected");
        MARKET.claim(id); // the rejection released the claim
        assertTrue(!MARKET.fulfill(id, new uint256[](2), _proof(5)), "wrong length rejected");
        MARKET.claim(id);
        assertTrue(MARKET.fulfill(id, _outputs(5), _proof(5)), "then the right proof is paid");
        vm.stopPrank();
        assertEq(MARKET.getProver(BOB).rejected, 2, "both counted");
        assertEq(MARKET.getProver(BOB).stake, 1.9 ether, "both slashed");
    }

    function test_verifierOutOfGasAndDeprecatedModelRevert() public {
        uint256 id = _request(address(0), 0);
        _stake(ALICE);
        vm.prank(ALICE);
        MARKET.claim(id);
        uint256[8] memory burn = _proof(5);
        burn[2] = 1;
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.VerifierFailed.selector, bytes("")));
        MARKET.fulfill{ gas: 1_000_000 }(id, _outputs(5), burn);
        ForgeOnlyVerifierStub(VERIFIER).setModel(MODEL, 3, true);
        bytes memory dep = abi.encodeWithSelector(IInferenceVerifier.ModelDeprecated.selector, MODEL);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.ModelUnavailable.selector, MODEL, dep));
        MARKET.fulfill(id, _outputs(5), _proof(5));
        assertEq(MARKET.getProver(ALICE).rejected, 0, "not the prover's fault: no slash");
        uint256 before = DAPP.balance;
        MARKET.refund(id); // before the deadline: the model is gone
        assertEq(DAPP.balance - before, FEE, "early refund");
    }

    function test_missSlashedByNextClaimOrReap() public {
        uint256 id = _request(address(0), 0);
        _stake(ALICE);
        _stake(BOB);
        vm.prank(ALICE);
        MARKET.claim(id);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.NothingToReap.selector, id));
        MARKET.reap(id);
        vm.warp(block.timestamp + 121);
        vm.prank(BOB);
        MARKET.claim(id);
        IInferenceMarket.Prover memory a = MARKET.getProver(ALICE);
        assertEq(a.missed, 1, "missed++");
        assertEq(a.stake, 0.99 ether, "10% of the claim stake");
        assertEq(a.locked, 0, "lock released");
        assertEq(MARKET.credits(DAPP), 0.01 ether, "to the requester");
        vm.warp(block.timestamp + 121);
        assertEq(MARKET.reap(id), 0.01 ether, "anyone reaps");
        assertEq(MARKET.getProver(BOB).missed, 1, "BOB missed too");
        vm.warp(block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.TooLateToClaim.selector, id, uint64(1_700_000_000 + 1 hours)));
        vm.prank(ALICE);
        MARKET.claim(id);
    }

    function test_refundOnceAfterDeadline() public {
        uint256 id = _request(address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.NotExpired.selector, id, uint64(block.timestamp + 1 hours)));
        MARKET.refund(id);
        vm.warp(block.timestamp + 1 hours + 1);
        uint256 before = DAPP.balance;
        MARKET.refund(id);
        assertEq(DAPP.balance - before, FEE, "fee back");
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.AlreadyRefunded.selector, id));
        MARKET.refund(id);
    }

    function test_stakeRules() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.StakeTooLow.selector, 0.5 ether, 1 ether));
        MARKET.registerProver{ value: 0.5 ether }();
        uint256 id = _request(address(0), 0);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.NotRegistered.selector, ALICE, 0, 1 ether));
        MARKET.claim(id);
        _stake(ALICE);
        vm.prank(ALICE);
        MARKET.registerProver{ value: 0.5 ether }(); // top-up
        vm.prank(ALICE);
        MARKET.claim(id);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InsufficientFreeStake.selector, 1.4 ether, 1.5 ether));
        MARKET.withdrawStake(1.5 ether);
        uint256 before = ALICE.balance;
        vm.prank(ALICE);
        MARKET.withdrawStake(1.4 ether);
        assertEq(ALICE.balance - before, 1.4 ether, "free stake withdrawn");
        vm.prank(ALICE);
        assertTrue(MARKET.fulfill(id, _outputs(5), _proof(5)), "a live claim may finish below minStake");
    }

    /// The callback re-enters (refused: the job is settled) and the prover, who refuses ETH, is
    /// credited; a failing callback does not undo the payment.
    function test_reentrantCallbackAndRefusingPayee() public {
        Hostile h = new Hostile(IInferenceMarket(address(MARKET)));
        h.stake{ value: 1 ether }();
        uint256 id = _request(address(h), 300_000);
        assertTrue(h.fulfil(id, _outputs(5), _proof(5), false), "accepted");
        assertTrue(h.reentryError() == IInferenceMarket.AlreadyFulfilled.selector, "re-entry refused");
        assertEq(MARKET.credits(address(h)), FEE, "refused push credited");
        uint256 id2 = _request(address(h), 300_000);
        vm.expectEmit(true, true, false, false, address(MARKET));
        emit IInferenceMarket.CallbackFailed(id2, address(h));
        assertTrue(h.fulfil(id2, _outputs(5), _proof(5), true), "accepted");
        (bool done,) = MARKET.result(id2);
        assertTrue(done, "fulfilled despite the failing callback");
        assertEq(MARKET.credits(address(h)), 2 * FEE, "paid once per job");
        assertEq(MARKET.getProver(address(h)).fulfilled, 2, "fulfilled++");
        vm.prank(address(h));
        MARKET.withdrawCredit(payable(BOB));
        assertEq(BOB.balance, 100 ether + 2 * FEE, "credit paid out to another address");
    }

    /// A prover cannot starve the callback: with too little gas the whole fulfil reverts.
    function test_callbackGasIsGuaranteed() public {
        vm.prank(DAPP);
        InferenceConsumer consumer = new InferenceConsumer(MODEL);
        vm.prank(DAPP);
        uint256 id = consumer.ask{ value: FEE }(_inputs(), 1 hours);
        _stake(ALICE);
        vm.prank(ALICE);
        MARKET.claim(id);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InsufficientGas.selector, uint256(200_000)));
        MARKET.fulfill{ gas: 250_000 }(id, _outputs(5), _proof(5));
        vm.prank(ALICE);
        assertTrue(MARKET.fulfill{ gas: 600_000 }(id, _outputs(5), _proof(5)), "enough gas");
        (bool ready,) = consumer.resultOf(id);
        assertTrue(ready, "delivered");
    }

    function testFuzz_stakeNeverBelowLocked(uint96 topUp, uint96 withdraw, bool miss) public {
        _stake(ALICE);
        vm.deal(ALICE, uint256(topUp) + 1);
        if (topUp > 0) {
            vm.prank(ALICE);
            MARKET.registerProver{ value: topUp }();
        }
        uint256 id = _request(address(0), 0);
        vm.prank(ALICE);
        MARKET.claim(id);
        uint256 free = MARKET.freeStake(ALICE);
        uint256 amount = bound(withdraw, 1, free + 1);
        vm.prank(ALICE);
        if (amount > free) vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InsufficientFreeStake.selector, free, amount));
        MARKET.withdrawStake(amount);
        if (miss) {
            vm.warp(block.timestamp + 121);
            MARKET.reap(id);
        } else {
            vm.prank(ALICE);
            MARKET.fulfill(id, _outputs(4), _proof(5));
        }
        IInferenceMarket.Prover memory p = MARKET.getProver(ALICE);
        assertTrue(p.stake >= p.locked && p.locked == 0, "stake covers locks; none left");
        // a miss or a rejection: either way the fee stays in the open job
        assertEq(address(MARKET).balance, p.stake + MARKET.credits(DAPP) + FEE, "ETH held = stake + credits + open fees");
    }
}
