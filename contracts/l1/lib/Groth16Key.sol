// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Groth16Key: the InferenceOracle's checks and storage of verifying keys.
/// @notice A key is the L2 registry's layout (IInferenceVerifier), in 32-byte words: alpha (0-1),
/// beta (2-5), gamma (6-9), delta (10-13; G2 points in EIP-197 order x.c1, x.c0, y.c1, y.c0), n
/// (14), IC[j] (15 + 2j, 16 + 2j) for j = 0..n.
///
/// Degenerate keys. Verification checks e(A, B) = e(alpha, beta) e(vk_x, gamma) e(C, delta) with
/// vk_x = IC[0] + sum_j x_j IC[j], and A, B, C chosen by the prover. Its soundness rests on the
/// prover knowing no discrete-log relation between the key's points; these keys give one away,
/// so ANYONE can prove any statement under them, without the setup's trapdoor:
///   gamma = +-delta:  A = alpha, B = beta, C = -+vk_x (e(vk_x, gamma) e(-+vk_x, +-gamma) = 1);
///   beta = +-gamma:   A = alpha +- vk_x, B = beta, C = 0;
///   beta = +-delta:   A = vk_x, B = gamma, C = -+alpha;
///   alpha or beta the identity (e(alpha, beta) = 1): A = vk_x, B = gamma, C = 0;
///   gamma the identity: vk_x drops out, one proof verifies for every input; delta the identity: C
///   drops out;
///   IC[j] the identity (j >= 1): x_j drops out, a proof for one value of it verifies for all;
///   IC[i] = +-IC[j] (1 <= i < j): only x_i +- x_j counts, so one signal can be raised and the
///   other lowered by the same amount under the same proof.
/// Each is refused (InvalidVerifyingKey code 5). IC[0] is refused as the identity too (snarkjs
/// constrains the constant signal as it does every public one, so no honest key has it) but is not
/// compared with the others, exactly as the L2 registry does (precompiles/groth16/key-check.ts):
/// every key the registry accepts passes here, else the inference poster could not post that
/// model's results. The registry also refuses small multiples (a X = +-b Y, a, b <= 16) among
/// beta, gamma and delta; that needs G2 scalar multiplication, which L1 has no precompile for. A
/// relation with a secret scalar is the trapdoor itself: whoever made a key can prove anything
/// under it, and no check can see that. So these checks keep out the keys under which anybody
/// can; which keys are honest is the consumer's to decide, by pinning the vkHash it trusts.
library Groth16Key {
    /// @dev BN254 base field modulus: every coordinate must be below it.
    uint256 internal constant P = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @dev The L2 registry's bound on public inputs, so every key it accepts can come in calldata.
    uint256 internal constant MAX_INPUTS = 4096;
    /// @dev A stored key is code with a STOP prefix: (17 + 2n) * 32 + 1 bytes must fit EIP-170.
    uint256 internal constant MAX_STORED_INPUTS = 375;
    uint256 internal constant PAIR_BYTES = 192;

    /// @dev InvalidVerifyingKey codes (IInferenceOracle).
    uint8 internal constant LAYOUT = 1;
    uint8 internal constant COORDINATE = 2;
    uint8 internal constant OFF_CURVE = 3;
    uint8 internal constant G2_NOT_IN_GROUP = 4;
    uint8 internal constant DEGENERATE = 5;

    /// @dev 0 when well-formed and not degenerate; else InvalidVerifyingKey's code. G2 points are
    /// left to ecPairing (inGroup, or the submission's own pairing). `vkHash` (keccak256 of the
    /// key) salts the table that finds equal IC points, so nobody can pick points that collide.
    function check(bytes memory key, bytes32 vkHash) internal pure returns (uint8) {
        uint256 len = key.length;
        if (len % 32 != 0 || len < 17 * 32) return LAYOUT;
        uint256 n = inputCount(key);
        if (n > MAX_INPUTS || len != (17 + 2 * n) * 32) return LAYOUT;
        uint256 bad;
        assembly ("memory-safe") {
            let w := add(key, 32)
            for { let i := 0 } lt(i, div(len, 32)) { i := add(i, 1) } {
                if and(iszero(eq(i, 14)), iszero(lt(mload(add(w, mul(i, 32))), P))) { bad := 1 }
            }
        }
        if (bad != 0) return COORDINATE;
        if (!_g1OnCurve(key, n)) return OFF_CURVE;
        if (_degenerateFixed(key) || !_inputsDistinct(key, n, vkHash)) return DEGENERATE;
        return 0;
    }

    /// @dev alpha and IC[0..n] on the curve (or (0, 0), refused later as the identity). One
    /// assembly loop: per point, Solidity's calls and checked indexing cost more than the check.
    function _g1OnCurve(bytes memory key, uint256 n) private pure returns (bool ok) {
        assembly ("memory-safe") {
            function on(p) -> r {
                let x := mload(p)
                let y := mload(add(p, 32))
                r := or(iszero(or(x, y)), eq(mulmod(y, y, P), addmod(mulmod(mulmod(x, x, P), x, P), 3, P)))
            }
            ok := on(add(key, 32))
            let ic := add(key, 512) // IC[0].x: word 15
            let end := add(ic, shl(6, add(n, 1)))
            for { let p := ic } and(ok, lt(p, end)) { p := add(p, 64) } { ok := on(p) }
        }
    }

    /// @dev alpha, beta, gamma or delta the identity ((0, 0) and four zero words, as EIP-196/197
    /// encode it), or two of beta, gamma, delta equal up to sign: the same x (a point and its
    /// negation are the only ones sharing it).
    function _degenerateFixed(bytes memory key) private pure returns (bool bad) {
        assembly ("memory-safe") {
            function g2Zero(p) -> z {
                z := iszero(or(or(mload(p), mload(add(p, 32))), or(mload(add(p, 64)), mload(add(p, 96)))))
            }
            function sameX(p, q) -> e {
                e := and(eq(mload(p), mload(q)), eq(mload(add(p, 32)), mload(add(q, 32))))
            }
            let w := add(key, 32)
            let beta := add(w, 64)
            let gamma := add(w, 192)
            let delta := add(w, 320)
            bad := iszero(or(mload(w), mload(add(w, 32))))
            bad := or(bad, or(g2Zero(beta), or(g2Zero(gamma), g2Zero(delta))))
            bad := or(bad, or(sameX(beta, gamma), or(sameX(beta, delta), sameX(gamma, delta))))
        }
    }

    /// @dev IC[0..n] none the identity, IC[1..n] pairwise not +-equal (equal x). Linear in n (a key
    /// may have 4,096 inputs): open addressing on x in a table of >= 2n slots, at a slot drawn from
    /// keccak256(vkHash, x), so changing a point to aim at a slot moves every slot. Scratch memory
    /// past the free pointer, zeroed by copying from past the calldata, is not kept: the
    /// submission's own allocations reuse it. No G1 point has x = 0 (3 is not a square mod p), so
    /// zero marks an empty slot; (0, 0) is the identity, which _g1OnCurve let through.
    function _inputsDistinct(bytes memory key, uint256 n, bytes32 vkHash) private pure returns (bool ok) {
        assembly ("memory-safe") {
            let size := 2
            for {} lt(size, shl(1, n)) {} { size := shl(1, size) }
            let t := mload(0x40)
            calldatacopy(t, calldatasize(), shl(5, size))
            let mask := sub(size, 1)
            let ic := add(key, 512) // IC[0].x: word 15
            mstore(0, vkHash)
            ok := iszero(iszero(or(mload(ic), mload(add(ic, 32)))))
            for { let j := 1 } and(ok, iszero(gt(j, n))) { j := add(j, 1) } {
                let p := add(ic, shl(6, j))
                let x := mload(p)
                switch or(x, mload(add(p, 32)))
                case 0 { ok := 0 }
                default {
                    mstore(32, x)
                    for { let h := and(keccak256(0, 64), mask) } 1 { h := and(add(h, 1), mask) } {
                        let s := add(t, shl(5, h))
                        let v := mload(s)
                        if iszero(v) {
                            mstore(s, x)
                            break
                        }
                        if eq(v, x) {
                            ok := 0
                            break
                        }
                    }
                }
            }
        }
    }

    /// @dev EIP-197 validates both points of every pair, so pairing the point at infinity with
    /// beta, gamma and delta checks them (twist and subgroup) without changing the product.
    function inGroup(bytes memory key) internal view returns (bool ok) {
        bytes memory input = new bytes(3 * PAIR_BYTES);
        assembly ("memory-safe") {
            let src := add(key, 96) // word 2: beta
            let dst := add(input, 32)
            for { let i := 0 } lt(i, 3) { i := add(i, 1) } {
                mcopy(add(add(dst, mul(i, PAIR_BYTES)), 64), add(src, mul(i, 128)), 128)
            }
            ok := staticcall(gas(), 8, dst, mul(3, PAIR_BYTES), 0, 32)
            ok := and(ok, eq(mload(0), 1))
        }
    }

    /// @dev Stores a key as the code of a new contract (STOP || key); zero when CREATE failed
    /// (out of gas for the code deposit). One EXTCODECOPY per use beats a calldata copy per batch.
    function store(bytes memory key) internal returns (address data) {
        // runtime = STOP || key; init code: PUSH2 len DUP1 PUSH1 10 PUSH0 CODECOPY PUSH0 RETURN
        bytes memory init = abi.encodePacked(hex"61", uint16(key.length + 1), hex"80600a5f395ff300", key);
        assembly ("memory-safe") {
            data := create(0, add(init, 32), mload(init))
        }
    }

    function read(address data) internal view returns (bytes memory key) {
        uint256 size = data.code.length;
        key = new bytes(size - 1);
        assembly ("memory-safe") {
            extcodecopy(data, add(key, 32), 1, sub(size, 1))
        }
    }

    /// @dev Word 14 of a key is n, its number of public inputs.
    function inputCount(bytes memory key) internal pure returns (uint256) {
        return word(key, 14);
    }

    function word(bytes memory b, uint256 i) internal pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := mload(add(add(b, 32), mul(i, 32)))
        }
    }
}
