// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RollupSetup, defaultResourceConfig } from "./Setup.sol";
import { Bridge } from "../../l1/Bridge.sol";
import { IBridge } from "../../interfaces/IBridge.sol";
import { IResourceMetering } from "../../interfaces/IResourceMetering.sol";

/// The deposit gas market (ResourceMetering, OP Stack's defaults): the price per L1 block, the
/// per-block cap, and the L1 gas each deposit burns for the L2 gas it asks for.
contract BridgeMeteringTest is RollupSetup {
    uint64 internal constant R = 20_000_000; // maxResourceLimit
    uint64 internal constant TARGET = 2_000_000; // R / elasticity 10

    function price() internal view returns (uint256 p) {
        (p,,) = bridge.params();
    }

    function bought() internal view returns (uint256 b) {
        (, b,) = bridge.params();
    }

    /// @dev L1 gas of one depositETH of `gasLimit` from USER, as the caller sees it.
    function depositGas(uint64 gasLimit) internal returns (uint256 used) {
        vm.prank(USER, USER);
        uint256 before = gasleft();
        bridge.depositETH(USER, gasLimit, "");
        used = before - gasleft();
    }

    /// @dev false when the deposit reverted with OutOfGas (any other revert fails the test)
    function tryDeposit(uint64 gasLimit) internal returns (bool ok) {
        vm.prank(USER, USER);
        bytes memory err;
        (ok, err) = address(bridge).call(abi.encodeCall(IBridge.depositETH, (USER, gasLimit, "")));
        if (!ok) assertEq(bytes32(err), bytes32(IResourceMetering.OutOfGas.selector), "refused with OutOfGas");
    }

    function test_configReadBack() public view {
        IResourceMetering.ResourceConfig memory c = bridge.resourceConfig();
        assertEq(c.maxResourceLimit, R, "maxResourceLimit");
        assertEq(c.elasticityMultiplier, 10, "elasticity");
        assertEq(c.baseFeeMaxChangeDenominator, 8, "denominator");
        assertEq(c.minimumBaseFee, 1 gwei, "min");
        assertEq(c.systemTxMaxGas, 1_000_000, "system tx");
        assertEq(c.maximumBaseFee, type(uint128).max, "max");
        assertEq(bridge.maxDepositGasLimit(), 10_000_000, "per deposit");
        assertEq(price(), 1 gwei, "initial price");
        assertEq(bridge.minimumGasLimit(100), 22_600, "21,000 + 16 per byte");
    }

    /// A block that buys the whole cap more than doubles the next block's price: + (R - T) / (8 T).
    function test_priceRisesAfterAFullBlock() public {
        vm.roll(block.number + 1);
        depositGas(10_000_000);
        depositGas(10_000_000);
        assertEq(bought(), R, "the block bought the cap");
        assertEq(price(), 1 gwei, "the block's own price is set by the blocks before it");
        vm.roll(block.number + 1);
        depositGas(100_000);
        assertEq(price(), 2.125 gwei, "1 gwei * (1 + 18M / 16M)");
        // demand at the target leaves the price where it is
        depositGas(TARGET - 100_000);
        vm.roll(block.number + 1);
        depositGas(100_000);
        assertEq(price(), 2.125 gwei, "at the target");
    }

    /// Blocks without deposits lower the price by 1/8 each (cdexp), down to the minimum.
    function test_priceDecaysOverEmptyBlocks() public {
        vm.roll(block.number + 1);
        depositGas(10_000_000);
        depositGas(10_000_000);
        vm.roll(block.number + 1);
        depositGas(TARGET); // at the target: the price stays 2.125 gwei for the next block
        assertEq(price(), 2.125 gwei, "after a full block");
        vm.roll(block.number + 4); // three empty blocks in between
        depositGas(100_000);
        // 2.125 gwei * (7/8)^3 = 1.423583984375 gwei; powWad is accurate to a few wei here
        uint256 want = 1_423_583_984;
        uint256 got = price();
        assertTrue(got + 1_000 >= want && got <= want + 1_000, "2.125 gwei * (7/8)^3");
        vm.roll(block.number + 1_000);
        depositGas(100_000);
        assertEq(price(), 1 gwei, "clamped at minimumBaseFee");
    }

    /// The deposits of one L1 block buy at most maxResourceLimit; the next block starts afresh.
    function test_capPerL1Block() public {
        vm.roll(block.number + 1);
        depositGas(10_000_000);
        depositGas(9_900_000);
        depositGas(100_000);
        assertEq(bought(), R, "exactly the cap");
        vm.prank(USER, USER);
        vm.expectRevert(IResourceMetering.OutOfGas.selector);
        bridge.depositETH(USER, 21_000, "");
        // a plain ETH transfer (100,000 gas) is metered as well
        vm.prank(USER, USER);
        (bool ok,) = address(bridge).call{ value: 1 }("");
        assertTrue(!ok, "receive() past the cap");
        uint64 count = bridge.depositCount();
        vm.roll(block.number + 1);
        depositGas(10_000_000);
        assertEq(bridge.depositCount(), count + 1, "accepted in the next block");
    }

    /// Each deposit burns gasLimit * price / max(L1 base fee, 1 gwei) of L1 gas; ETH is not taken.
    function test_burnsL1GasForL2Gas() public {
        vm.roll(block.number + 1);
        uint256 small = depositGas(1_000_000);
        uint256 large = depositGas(10_000_000);
        // the gas used up to the burn counts towards it, so the whole call costs about gasCost
        assertTrue(small >= 1_000_000 && small < 1_000_000 + 25_000, "1M L2 gas at 1 gwei: ~1M L1 gas");
        assertTrue(large >= 10_000_000 && large < 10_000_000 + 25_000, "10M L2 gas at 1 gwei: ~10M L1 gas");
        assertEq(address(bridge).balance, 0, "no ETH taken: the payment is burned gas");

        // the price after an 11M-gas block: 1 gwei * (1 + 9M / 16M) = 1.5625 gwei
        vm.roll(block.number + 1);
        uint256 pricey = depositGas(1_000_000);
        assertEq(price(), 1.5625 gwei, "price");
        assertTrue(pricey >= 1_562_500 && pricey < 1_562_500 + 25_000, "1M L2 gas at 1.5625 gwei");

        // an L1 base fee above 1 gwei turns the same ETH into fewer L1 gas
        vm.fee(5 gwei);
        uint256 dear = depositGas(5_000_000);
        assertTrue(dear >= 1_562_500 && dear < 1_562_500 + 25_000, "5M L2 gas * 1.5625 gwei / 5 gwei");
    }

    /// Below the gas the deposit itself uses, nothing more is burned (OP's dynamic stipend).
    function test_smallDepositBurnsUpToItsGasLimit() public {
        vm.roll(block.number + 1);
        uint256 used = depositGas(100_000);
        assertTrue(used >= 100_000 && used < 125_000, "100k L2 gas: ~100k L1 gas in all");
    }

    function test_maximumBaseFeeCapsThePrice() public {
        IResourceMetering.ResourceConfig memory c = defaultResourceConfig();
        c.maximumBaseFee = 1.5 gwei;
        bridge = new Bridge(c);
        for (uint256 i = 0; i < 3; i++) {
            vm.roll(block.number + 1);
            depositGas(10_000_000);
            depositGas(10_000_000);
        }
        assertEq(price(), 1.5 gwei, "clamped at maximumBaseFee");
    }

    function test_perDepositMaximumFollowsTheCap() public {
        IResourceMetering.ResourceConfig memory c = defaultResourceConfig();
        c.maxResourceLimit = 4_000_000;
        bridge = new Bridge(c);
        assertEq(bridge.maxDepositGasLimit(), 4_000_000, "min(10M, R)");
        vm.prank(USER, USER);
        vm.expectRevert(abi.encodeWithSelector(IBridge.GasLimitTooHigh.selector, 4_000_000));
        bridge.depositETH(USER, 4_000_001, "");
    }

    function test_revert_invalidConfig() public {
        IResourceMetering.ResourceConfig memory c = defaultResourceConfig();
        c.minimumBaseFee = 2 gwei;
        c.maximumBaseFee = 1 gwei;
        expectInvalid(c, "minimumBaseFee > maximumBaseFee");
        c = defaultResourceConfig();
        c.baseFeeMaxChangeDenominator = 1;
        expectInvalid(c, "baseFeeMaxChangeDenominator <= 1");
        c = defaultResourceConfig();
        c.elasticityMultiplier = 0;
        expectInvalid(c, "elasticityMultiplier == 0");
        c = defaultResourceConfig();
        c.elasticityMultiplier = 3;
        expectInvalid(c, "maxResourceLimit not a multiple of elasticityMultiplier");
        c = defaultResourceConfig();
        c.minimumBaseFee = 0;
        expectInvalid(c, "minimumBaseFee == 0");
        c = defaultResourceConfig();
        c.maxResourceLimit = 99_990;
        expectInvalid(c, "maxResourceLimit < RECEIVE_GAS_LIMIT");
    }

    function expectInvalid(IResourceMetering.ResourceConfig memory c, string memory rule) internal {
        vm.expectRevert(abi.encodeWithSelector(Bridge.InvalidResourceConfig.selector, rule));
        new Bridge(c);
    }

    /// Any sequence of deposits: no L1 block buys more than the cap, a deposit is refused exactly
    /// when it would go past it, and the price moves the way demand against the target says.
    function testFuzz_marketRules(uint256 seed) public {
        // a high L1 base fee makes each burn small (the rules do not depend on it), so a run of
        // full blocks cannot outgrow the test's own gas
        vm.fee(10_000 gwei);
        uint256 blockBought;
        uint256 lastPrice = price();
        uint256 lastBought;
        for (uint256 i = 0; i < 24; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 gap = r % 4; // 0: same L1 block
            uint64 amount = uint64(bound(r >> 8, 21_000, 10_000_000));
            // every amount fits a fresh block, so each block rolled to has a deposit: the metered one
            if (gap > 0) {
                vm.roll(block.number + gap);
                lastBought = blockBought;
                blockBought = 0;
            }
            bool ok = tryDeposit(amount);
            assertTrue(ok == (blockBought + amount <= R), "refused exactly past the cap");
            if (!ok) continue;
            blockBought += amount;
            assertEq(bought(), blockBought, "bought gas of this block");
            uint256 p = price();
            assertTrue(p >= 1 gwei, "at least minimumBaseFee");
            if (gap == 1 && lastBought > TARGET) assertTrue(p > lastPrice, "demand above the target raises the price");
            if (gap >= 1 && lastBought < TARGET && lastPrice > 1 gwei) assertTrue(p < lastPrice, "demand below the target lowers it");
            if (gap == 1 && lastBought == TARGET) assertEq(p, lastPrice, "at the target it stays");
            lastPrice = p;
        }
    }
}
