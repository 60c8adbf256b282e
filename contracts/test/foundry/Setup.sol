// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { Test } from "./Vm.sol";
import { Bridge } from "../../l1/Bridge.sol";
import { Rollup } from "../../l1/Rollup.sol";
import { IRollup } from "../../interfaces/IRollup.sol";
import { IResourceMetering } from "../../interfaces/IResourceMetering.sol";

/// @dev OP Stack's DEFAULT_RESOURCE_CONFIG, the Bridge's defaults (devnet/deploy.ts).
function defaultResourceConfig() pure returns (IResourceMetering.ResourceConfig memory) {
    return IResourceMetering.ResourceConfig({
        maxResourceLimit: 20_000_000,
        elasticityMultiplier: 10,
        baseFeeMaxChangeDenominator: 8,
        minimumBaseFee: 1 gwei,
        systemTxMaxGas: 1_000_000,
        maximumBaseFee: type(uint128).max
    });
}

/// @notice A Bridge and Rollup deployed as the deploy script does (Bridge, Rollup, initialize),
/// and helpers that build batch headers the way the batcher does.
abstract contract RollupSetup is Test {
    address internal constant BATCHER = address(0xBA7C);
    address internal constant PROPOSER = address(0x960905E);
    address internal constant CHALLENGER = address(0xC4A1);
    address internal constant USER = address(0x05E5);
    uint256 internal constant CHALLENGE_WINDOW = 1 hours;
    uint256 internal constant INCLUSION_WINDOW = 12 hours;
    uint256 internal constant START = 1_700_000_000;

    Bridge internal bridge;
    Rollup internal rollup;

    function setUp() public virtual {
        vm.warp(START);
        bridge = new Bridge(defaultResourceConfig());
        rollup = new Rollup(address(bridge), BATCHER, PROPOSER, CHALLENGER, CHALLENGE_WINDOW, INCLUSION_WINDOW);
        bridge.initialize(address(rollup));
        vm.deal(USER, 1_000 ether);
    }

    /// @dev The header that extends the current chain by `blocks` blocks, consuming `deposits` deposits.
    function nextHeader(uint64 blocks, uint64 deposits, bytes memory data) internal view returns (IRollup.BatchHeader memory h) {
        uint64 first = rollup.nextBlock();
        h = IRollup.BatchHeader({
            index: uint64(rollup.batchCount()),
            prevBatchHash: rollup.lastBatchHash(),
            firstBlock: first,
            lastBlock: first + blocks - 1,
            dataHash: keccak256(data),
            depositCount: deposits,
            depositHash: bridge.depositHashAt(deposits),
            resultsRoot: bytes32(0)
        });
    }

    function submit(uint64 blocks, uint64 deposits) internal returns (IRollup.BatchHeader memory h) {
        bytes memory data = abi.encodePacked(uint8(0), rollup.batchCount(), "blocks");
        h = nextHeader(blocks, deposits, data);
        vm.prank(BATCHER);
        rollup.submitBatch(h, data);
    }

    function submitAndPropose(bytes32 root) internal returns (uint256 outputIndex) {
        submit(10, bridge.depositCount());
        uint256 batchIndex = rollup.batchCount() - 1; // before the prank: a view call would use it up
        vm.prank(PROPOSER);
        rollup.proposeOutput(batchIndex, root);
        return rollup.outputCount() - 1;
    }

    function deposit(uint256 value) internal {
        vm.prank(USER, USER);
        bridge.depositETH{ value: value }(USER, 100_000, "");
    }
}
