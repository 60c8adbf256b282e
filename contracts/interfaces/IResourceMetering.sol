// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The L1 price of deposit L2 gas (contracts/l1/lib/ResourceMetering.sol, OP Stack's).
/// @notice Each deposit buys its gasLimit of L2 gas on L1, at a price that moves per L1 block as
/// EIP-1559's base fee does, by burning L1 gas: a deposit of `gasLimit` in L1 block n burns
///   gasLimit * prevBaseFee / max(block.basefee, 1 gwei)   L1 gas
/// (less the gas the deposit call itself used so far), where prevBaseFee is the price of block n:
/// at the first deposit of block n it becomes
///   p' = clamp(p + p * (bought - target) / (target * baseFeeMaxChangeDenominator), min, max)
/// from the previous metered block's price p and its bought gas, target = maxResourceLimit /
/// elasticityMultiplier, and each further block without deposits multiplies it by
/// (1 - 1/baseFeeMaxChangeDenominator). The deposits of one L1 block buy at most
/// maxResourceLimit in all; the one that would go past it reverts with OutOfGas.
interface IResourceMetering {
    /// @notice The state of the deposit gas market: one storage slot.
    /// @custom:field prevBaseFee   Price (wei per L2 gas) of the deposits in block prevBlockNum.
    /// @custom:field prevBoughtGas L2 gas bought by the deposits of block prevBlockNum.
    /// @custom:field prevBlockNum  The last L1 block with a deposit (the deployment block at first).
    struct ResourceParams {
        uint128 prevBaseFee;
        uint64 prevBoughtGas;
        uint64 prevBlockNum;
    }

    /// @notice The market's parameters (OP Stack's ResourceConfig, field for field).
    /// @custom:field maxResourceLimit            L2 gas the deposits of one L1 block may buy in all.
    /// @custom:field elasticityMultiplier        target = maxResourceLimit / elasticityMultiplier.
    /// @custom:field baseFeeMaxChangeDenominator The price moves by at most 1/this per L1 block
    ///                                           at the target (EIP-1559: 8).
    /// @custom:field minimumBaseFee              Lowest price, wei per L2 gas.
    /// @custom:field systemTxMaxGas              L2 gas of the sequencer's L1-info system deposit
    ///                                           in every L2 block (node/rollup/l1-attributes.ts).
    /// @custom:field maximumBaseFee              Highest price, wei per L2 gas.
    struct ResourceConfig {
        uint32 maxResourceLimit;
        uint8 elasticityMultiplier;
        uint8 baseFeeMaxChangeDenominator;
        uint32 minimumBaseFee;
        uint32 systemTxMaxGas;
        uint128 maximumBaseFee;
    }

    /// @notice The deposits of this L1 block would buy more than maxResourceLimit L2 gas.
    error OutOfGas();

    function params() external view returns (uint128 prevBaseFee, uint64 prevBoughtGas, uint64 prevBlockNum);
}
