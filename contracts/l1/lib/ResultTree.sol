// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ResultTree: the Merkle tree over a submission's result leaves (IInferenceOracle).
/// @notice Neighbours are hashed pairwise level by level, node = keccak256(left || right), and an
/// odd last node is carried up unchanged, so a proof for leaf i of N has one sibling per level
/// where i has one. node/rollup/oracle-merkle.ts builds the same tree off chain.
///
/// A reader need not know N to check a proof: the levels with a sibling are fixed by i and the
/// proof's length L. Up to the level t where i becomes the last node of its level, every level has
/// a sibling; from t on, only the levels where i is odd (a left sibling always exists). So L = t +
/// popcount(i >> t), and two values of t giving the same L give the same levels (t and t + 1 do
/// when bit t of i is 1, and then level t has a sibling either way). `rootFromProof` walks that
/// shape: at a level where i is even it takes a sibling while more siblings remain than i's
/// remaining odd levels need. Whoever then looks the root up learns N and checks
/// `proofLength(i, N) == L`, which makes the shape the tree's own.
library ResultTree {
    /// @dev The root of `leaves` (at least one). Computed in a copy, in place (node i of a level
    /// is written after nodes 2i and 2i + 1 below it are read): the caller still needs the leaves.
    function root(bytes32[] memory leaves) internal pure returns (bytes32 r) {
        bytes32[] memory level = new bytes32[](leaves.length);
        assembly ("memory-safe") {
            let n := mload(leaves)
            let dst := add(level, 32)
            mcopy(dst, add(leaves, 32), mul(n, 32))
            for {} gt(n, 1) { n := shr(1, add(n, 1)) } {
                let half := shr(1, n)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    mstore(add(dst, shl(5, i)), keccak256(add(dst, shl(6, i)), 64))
                }
                if and(n, 1) { mstore(add(dst, shl(5, half)), mload(add(dst, shl(5, sub(n, 1))))) }
            }
            r := mload(dst)
        }
    }

    /// @dev The root that `proof` leads to from `leaf` at `index` (see the shape above); zero when
    /// the proof is too short for index's odd levels.
    function rootFromProof(bytes32 leaf, uint256 index, bytes32[] calldata proof) internal pure returns (bytes32 node) {
        uint256 len = proof.length;
        uint256 odd = _popcount(index); // siblings still owed to the odd levels above
        if (len < odd) return bytes32(0);
        node = leaf;
        for (uint256 used; used < len; index >>= 1) {
            if (index & 1 == 1) {
                node = hashPair(proof[used], node);
                ++used;
                --odd;
            } else if (len - used > odd) {
                node = hashPair(node, proof[used]);
                ++used;
            } // else: i is the odd last node of this level, carried up unchanged
        }
    }

    /// @dev Siblings a proof for leaf `index` of `count` has.
    function proofLength(uint256 index, uint256 count) internal pure returns (uint256 len) {
        for (uint256 i = index; count > 1; i >>= 1) {
            if (i & 1 == 1 || i + 1 < count) ++len;
            count = (count + 1) >> 1;
        }
    }

    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0, a)
            mstore(32, b)
            h := keccak256(0, 64)
        }
    }

    function _popcount(uint256 x) private pure returns (uint256 c) {
        for (; x != 0; x &= x - 1) ++c;
    }
}
