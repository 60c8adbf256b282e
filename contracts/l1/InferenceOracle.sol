// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IInferenceOracle } from "../interfaces/IInferenceOracle.sol";
import { IRollup } from "../interfaces/IRollup.sol";

/// @title InferenceOracle (L1): one randomized Groth16 batch check per rollup batch (see IInferenceOracle).
/// @notice Gas per proof is dominated by its pairing (34,000) and the two ecMuls r*A, r*C (6,000
/// each); public inputs cost a mulmod and their calldata, and each key group adds n + 2 ecMuls and
/// up to 3 pairings (1 when it shares beta and gamma with an earlier group). The per-proof work is
/// in assembly because Solidity's checked arithmetic and calldata indexing cost more there than
/// the checks themselves (~1,300 gas per proof measured).
contract InferenceOracle is IInferenceOracle {
    /// @dev BN254 base field modulus (coordinates) and scalar field order (public inputs, r_t).
    uint256 internal constant P = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev Bounds memory for the pairing input; a full batch of 1,024 proofs is ~50M gas anyway.
    uint256 internal constant MAX_PROOFS = 1024;
    /// @dev The L2 registry's bound on public inputs, so every key it accepts can come in calldata.
    uint256 internal constant MAX_INPUTS = 4096;
    /// @dev A stored key is code with a STOP prefix: (17 + 2n) * 32 + 1 bytes must fit EIP-170.
    uint256 internal constant MAX_STORED_INPUTS = 375;
    uint256 internal constant PAIR_BYTES = 192;
    uint256 internal constant PROOF_BYTES = 256;

    address public immutable override rollup;
    mapping(bytes32 => address) internal _keys;
    mapping(uint256 => BatchRecord) internal _batches;

    /// @dev One submission's running state, in memory so the loops stay within the stack.
    struct Run {
        uint256 seed; // keccak256 of the calldata: the Fiat-Shamir seed
        uint256 t; // leaf index of the proof being checked
        uint256 pairs; // memory address of the next proof pair (-r A, B)
        uint256 groupPairs; // memory address of the group pairs, right after all proof pairs
        uint256 groupPairCount;
        bytes32[] leaves;
    }

    /// @param rollup_ the Rollup whose batch indexes this oracle accepts; zero: any index
    constructor(address rollup_) {
        rollup = rollup_;
    }

    // ------------------------------------------------------------------------------------- keys

    function addKey(bytes calldata vk) external override returns (bytes32 vkHash) {
        vkHash = keccak256(vk);
        if (_keys[vkHash] != address(0)) revert KeyExists(vkHash);
        bytes memory key = vk;
        uint8 code = _checkKey(key);
        if (code != 0) revert InvalidVerifyingKey(vkHash, code);
        uint256 n = _inputCount(key);
        if (n > MAX_STORED_INPUTS) revert KeyTooLarge(n, MAX_STORED_INPUTS);
        if (!_g2InGroup(key)) revert InvalidVerifyingKey(vkHash, 4);
        // runtime = STOP || key; init code: PUSH2 len DUP1 PUSH1 10 PUSH0 CODECOPY PUSH0 RETURN
        bytes memory init = abi.encodePacked(hex"61", uint16(key.length + 1), hex"80600a5f395ff300", key);
        address data;
        assembly ("memory-safe") {
            data := create(0, add(init, 32), mload(init))
        }
        if (data == address(0)) revert KeyStoreFailed(vkHash); // out of gas for the code deposit
        _keys[vkHash] = data;
        emit KeyAdded(vkHash, n, data);
    }

    function hasKey(bytes32 vkHash) external view override returns (bool) {
        return _keys[vkHash] != address(0);
    }

    function getKey(bytes32 vkHash) external view override returns (bytes memory) {
        address data = _keys[vkHash];
        if (data == address(0)) revert UnknownKey(vkHash);
        return _readKey(data);
    }

    // ------------------------------------------------------------------------------- submission

    function submitBatchProofs(uint256 batchIndex, ProofGroup[] calldata groups) external override returns (bytes32 root) {
        if (_batches[batchIndex].root != bytes32(0)) revert BatchAlreadySubmitted(batchIndex);
        if (rollup != address(0)) {
            uint256 count = IRollup(rollup).batchCount();
            if (batchIndex >= count) revert UnknownRollupBatch(batchIndex, count);
        }
        uint256 total = _countProofs(groups);
        Run memory run;
        // before any allocation: the calldata copy it hashes is then reused memory, not extra
        run.seed = _calldataHash();
        run.leaves = new bytes32[](total);
        bytes memory pairing = new bytes((total + 3 * groups.length) * PAIR_BYTES);
        run.pairs = _dataPtr(pairing);
        run.groupPairs = run.pairs + total * PAIR_BYTES;
        for (uint256 g; g < groups.length; ++g) _verifyGroup(run, groups[g], g);
        uint256 used = (total + run.groupPairCount) * PAIR_BYTES;
        assembly ("memory-safe") {
            mstore(pairing, used) // merged group pairs leave the tail of the buffer unused
        }
        _pairingCheck(pairing);
        root = _merkleRoot(run.leaves);
        _batches[batchIndex] = BatchRecord(root, uint32(total), uint64(block.number), uint64(block.timestamp));
        emit BatchProofsVerified(batchIndex, msg.sender, root, run.leaves);
    }

    function _countProofs(ProofGroup[] calldata groups) private pure returns (uint256 total) {
        if (groups.length == 0) revert EmptySubmission();
        for (uint256 g; g < groups.length; ++g) {
            uint256 c = groups[g].proofs.length;
            if (c == 0) revert EmptyGroup(g);
            total += c;
        }
        if (total > MAX_PROOFS) revert TooManyProofs(total, MAX_PROOFS);
    }

    function _verifyGroup(Run memory run, ProofGroup calldata grp, uint256 g) private view {
        bytes memory key = _groupKey(grp, g);
        uint256 n = _inputCount(key);
        uint256 count = grp.proofs.length;
        if (grp.publicInputs.length != count * n) revert PublicInputCount(g, count * n, grp.publicInputs.length);
        // coef[0] = sum r_t (for alpha and IC[0]), coef[j] = sum r_t x_tj
        uint256[] memory coef = new uint256[](n + 1);
        uint256[2] memory cSum; // sum r_t C_t, starts at infinity (0, 0)
        (uint256 proofsOff, uint256 inputsOff) = _offsets(grp);
        // offsets stay far below 2^256: calldata is bounded by the block gas limit
        unchecked {
            for (uint256 i; i < count; ++i) {
                uint256 r = _challenge(run.seed, run.t);
                _takeProof(run, proofsOff + i * PROOF_BYTES, r, cSum);
                _takeInputs(run, grp.vkHash, inputsOff + i * n * 32, n, r, coef);
                ++run.t;
            }
        }
        _groupPairs(run, key, n, coef, cSum);
    }

    function _offsets(ProofGroup calldata grp) private pure returns (uint256 proofsOff, uint256 inputsOff) {
        uint256[8][] calldata proofs = grp.proofs;
        uint256[] calldata inputs = grp.publicInputs;
        assembly ("memory-safe") {
            proofsOff := proofs.offset
            inputsOff := inputs.offset
        }
    }

    /// @dev r_0 = 1 saves two ecMuls and stays sound: a false proof t > 0 still meets a random
    /// r_t, and if only proof 0 is false the sum cannot vanish.
    function _challenge(uint256 seed, uint256 t) private pure returns (uint256 r) {
        if (t == 0) return 1;
        assembly ("memory-safe") {
            mstore(0, seed)
            mstore(32, t)
            r := mod(keccak256(0, 64), R)
        }
    }

    /// @dev Checks proof t, writes the pair (-r A, B) and adds r C to cSum. One assembly block:
    /// this runs once per proof, and Solidity's checked arithmetic and internal calls cost more
    /// here than the checks themselves.
    function _takeProof(Run memory run, uint256 off, uint256 r, uint256[2] memory cSum) private view {
        uint256 code; // 1: a coordinate >= p, 2: A or C off the curve, 3: ecMul or ecAdd failed
        uint256 ptr = run.pairs;
        assembly ("memory-safe") {
            function onCurve(x, y, p) -> ok {
                // y^2 = x^3 + 3, or (0, 0): infinity as EIP-196 encodes it
                ok := or(iszero(or(x, y)), eq(mulmod(y, y, p), addmod(mulmod(mulmod(x, x, p), x, p), 3, p)))
            }
            let ax := calldataload(off)
            let ay := calldataload(add(off, 32))
            let cx := calldataload(add(off, 192))
            let cy := calldataload(add(off, 224))
            let inRange := and(and(lt(ax, P), lt(ay, P)), and(lt(cx, P), lt(cy, P)))
            inRange := and(inRange, and(lt(calldataload(add(off, 64)), P), lt(calldataload(add(off, 96)), P)))
            inRange := and(inRange, and(lt(calldataload(add(off, 128)), P), lt(calldataload(add(off, 160)), P)))
            if iszero(inRange) { code := 1 }
            if iszero(code) {
                if iszero(and(onCurve(ax, ay, P), onCurve(cx, cy, P))) { code := 2 }
            }
            if iszero(code) {
                if ay { ay := sub(P, ay) } // -A
                mstore(ptr, ax)
                mstore(add(ptr, 32), ay)
                let m := mload(0x40) // scratch: rC at m, cSum at m + 64 for ecAdd
                mstore(m, cx)
                mstore(add(m, 32), cy)
                if iszero(eq(r, 1)) {
                    mstore(add(ptr, 64), r) // scalar in B's place until B is copied
                    if iszero(staticcall(gas(), 7, ptr, 96, ptr, 64)) { code := 3 }
                    mstore(add(m, 64), r)
                    if iszero(staticcall(gas(), 7, m, 96, m, 64)) { code := 3 }
                }
                calldatacopy(add(ptr, 64), add(off, 64), 128) // B, already in EIP-197 word order
                let sx := mload(cSum)
                let sy := mload(add(cSum, 32))
                switch or(sx, sy)
                case 0 {
                    mstore(cSum, mload(m))
                    mstore(add(cSum, 32), mload(add(m, 32)))
                }
                default {
                    mstore(add(m, 64), sx)
                    mstore(add(m, 96), sy)
                    if iszero(staticcall(gas(), 6, m, 128, cSum, 64)) { code := 3 }
                }
            }
        }
        if (code == 3) revert PrecompileFailed();
        if (code != 0) revert InvalidProof(run.t, uint8(code));
        unchecked {
            run.pairs = ptr + PAIR_BYTES;
        }
    }

    /// @dev Range-checks proof t's inputs, adds r x_j to coef[j] and records its leaf.
    function _takeInputs(Run memory run, bytes32 vkHash, uint256 off, uint256 n, uint256 r, uint256[] memory coef) private pure {
        uint256 bad;
        bytes32 leaf;
        assembly ("memory-safe") {
            let c := add(coef, 32)
            mstore(c, addmod(mload(c), r, R))
            for { let j := 0 } lt(j, n) { j := add(j, 1) } {
                let x := calldataload(add(off, mul(j, 32)))
                if iszero(lt(x, R)) {
                    bad := add(j, 1)
                    break
                }
                let cj := add(c, mul(add(j, 1), 32))
                mstore(cj, addmod(mload(cj), mulmod(r, x, R), R))
            }
            let m := mload(0x40)
            mstore8(m, 0)
            mstore(add(m, 1), vkHash)
            calldatacopy(add(m, 33), off, mul(n, 32))
            leaf := keccak256(m, add(33, mul(n, 32)))
        }
        if (bad != 0) revert InvalidPublicInput(run.t, bad - 1);
        bytes32[] memory leaves = run.leaves;
        uint256 t = run.t;
        assembly ("memory-safe") {
            mstore(add(add(leaves, 32), mul(t, 32)), leaf) // t < leaves.length: counted up front
        }
    }

    /// @dev The group's three pairs: (S alpha, beta), (sum c_j IC_j, gamma), (sum r C, delta).
    function _groupPairs(Run memory run, bytes memory key, uint256 n, uint256[] memory coef, uint256[2] memory cSum) private view {
        (uint256 x, uint256 y) = _mul(_word(key, 0), _word(key, 1), coef[0]);
        _addPair(run, key, x, y, 2);
        (x, y) = _mul(_word(key, 15), _word(key, 16), coef[0]);
        for (uint256 j = 1; j <= n; ++j) {
            if (coef[j] == 0) continue; // an input that is zero in every proof
            (uint256 mx, uint256 my) = _mul(_word(key, 15 + 2 * j), _word(key, 16 + 2 * j), coef[j]);
            (x, y) = _add(x, y, mx, my);
        }
        _addPair(run, key, x, y, 6);
        _addPair(run, key, cSum[0], cSum[1], 10);
    }

    /// @dev Adds (x, y) into the group pair that has the key's G2 point at word g2Word, or appends
    /// a pair. e(P1, Q) e(P2, Q) = e(P1 + P2, Q), and keys set up from one ptau share beta and
    /// gamma (snarkjs takes alpha and beta from the ptau and gamma = the generator), so each
    /// further group of such keys costs one pairing (delta) instead of three.
    function _addPair(Run memory run, bytes memory key, uint256 x, uint256 y, uint256 g2Word) private view {
        uint256 src = _dataPtr(key) + 32 * g2Word;
        uint256 ptr = run.groupPairs;
        for (uint256 i; i < run.groupPairCount; ++i) {
            bool same;
            assembly ("memory-safe") {
                same := and(
                    and(eq(mload(add(ptr, 64)), mload(src)), eq(mload(add(ptr, 96)), mload(add(src, 32)))),
                    and(eq(mload(add(ptr, 128)), mload(add(src, 64))), eq(mload(add(ptr, 160)), mload(add(src, 96))))
                )
            }
            if (same) {
                (uint256 px, uint256 py) = _add(_mword(ptr), _mword(ptr + 32), x, y);
                assembly ("memory-safe") {
                    mstore(ptr, px)
                    mstore(add(ptr, 32), py)
                }
                return;
            }
            ptr += PAIR_BYTES;
        }
        assembly ("memory-safe") {
            mstore(ptr, x)
            mstore(add(ptr, 32), y)
            mcopy(add(ptr, 64), src, 128)
        }
        ++run.groupPairCount;
    }

    function _pairingCheck(bytes memory input) private view {
        bool ok;
        uint256 out;
        assembly ("memory-safe") {
            let m := mload(0x40)
            ok := staticcall(gas(), 8, add(input, 32), mload(input), m, 32)
            out := mload(m)
        }
        if (!ok) revert PairingInputRejected();
        if (out != 1) revert BatchProofInvalid();
    }

    // ------------------------------------------------------------------------------ key helpers

    function _groupKey(ProofGroup calldata grp, uint256 g) private view returns (bytes memory key) {
        if (grp.vk.length == 0) {
            address data = _keys[grp.vkHash];
            if (data == address(0)) revert UnknownKey(grp.vkHash);
            return _readKey(data);
        }
        key = grp.vk;
        bytes32 h = keccak256(key);
        if (h != grp.vkHash) revert KeyHashMismatch(g, grp.vkHash, h);
        uint8 code = _checkKey(key);
        if (code != 0) revert InvalidVerifyingKey(h, code);
    }

    function _readKey(address data) private view returns (bytes memory key) {
        uint256 size = data.code.length;
        key = new bytes(size - 1);
        assembly ("memory-safe") {
            extcodecopy(data, add(key, 32), 1, sub(size, 1))
        }
    }

    /// @dev 0 when well-formed; else InvalidVerifyingKey's code. G2 points are left to ecPairing.
    function _checkKey(bytes memory key) private pure returns (uint8) {
        uint256 len = key.length;
        if (len % 32 != 0 || len < 17 * 32) return 1;
        uint256 n = _word(key, 14);
        if (n > MAX_INPUTS || len != (17 + 2 * n) * 32) return 1;
        uint256 bad;
        assembly ("memory-safe") {
            let w := add(key, 32)
            for { let i := 0 } lt(i, div(len, 32)) { i := add(i, 1) } {
                if and(iszero(eq(i, 14)), iszero(lt(mload(add(w, mul(i, 32))), P))) { bad := 1 }
            }
        }
        if (bad != 0) return 2;
        if (!_onCurve(_word(key, 0), _word(key, 1))) return 3;
        for (uint256 j; j <= n; ++j) {
            if (!_onCurve(_word(key, 15 + 2 * j), _word(key, 16 + 2 * j))) return 3;
        }
        return 0;
    }

    /// @dev EIP-197 validates both points of every pair, so pairing the point at infinity with
    /// beta, gamma and delta checks them (twist and subgroup) without changing the product.
    function _g2InGroup(bytes memory key) private view returns (bool ok) {
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

    /// @dev Word 14 of a key is n, its number of public inputs.
    function _inputCount(bytes memory key) private pure returns (uint256) {
        return _word(key, 14);
    }

    function _word(bytes memory b, uint256 i) private pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := mload(add(add(b, 32), mul(i, 32)))
        }
    }

    function _mword(uint256 ptr) private pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := mload(ptr)
        }
    }

    function _dataPtr(bytes memory b) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := add(b, 32)
        }
    }

    // ---------------------------------------------------------------------------- curve helpers

    function _onCurve(uint256 x, uint256 y) private pure returns (bool) {
        if (x == 0 && y == 0) return true; // infinity, as EIP-196 encodes it
        return mulmod(y, y, P) == addmod(mulmod(mulmod(x, x, P), x, P), 3, P);
    }

    /// @dev s * (x, y); the inputs are on the curve, so ecMul only fails when out of gas. Both
    /// helpers use scratch memory past the free pointer: a call per point must not grow memory.
    function _mul(uint256 x, uint256 y, uint256 s) private view returns (uint256, uint256) {
        if (s == 1) return (x, y);
        if (s == 0) return (0, 0);
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, x)
            mstore(add(m, 32), y)
            mstore(add(m, 64), s)
            ok := staticcall(gas(), 7, m, 96, m, 64)
            x := mload(m)
            y := mload(add(m, 32))
        }
        if (!ok) revert PrecompileFailed();
        return (x, y);
    }

    function _add(uint256 x1, uint256 y1, uint256 x2, uint256 y2) private view returns (uint256, uint256) {
        if (x1 == 0 && y1 == 0) return (x2, y2);
        if (x2 == 0 && y2 == 0) return (x1, y1);
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, x1)
            mstore(add(m, 32), y1)
            mstore(add(m, 64), x2)
            mstore(add(m, 96), y2)
            ok := staticcall(gas(), 6, m, 128, m, 64)
            x1 := mload(m)
            y1 := mload(add(m, 32))
        }
        if (!ok) revert PrecompileFailed();
        return (x1, y1);
    }

    function _calldataHash() private pure returns (uint256 h) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, 0, calldatasize())
            h := keccak256(m, calldatasize())
        }
    }

    // ----------------------------------------------------------------------------------- reads

    function getBatch(uint256 batchIndex) external view override returns (BatchRecord memory) {
        return _batches[batchIndex];
    }

    function leafHash(bytes32 vkHash, uint256[] calldata publicSignals) public pure override returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(0), vkHash, publicSignals));
    }

    function isVerified(uint256 batchIndex, bytes32 vkHash, uint256[] calldata publicSignals, uint256 leafIndex, bytes32[] calldata proof)
        external
        view
        override
        returns (bool)
    {
        return isLeafVerified(batchIndex, leafHash(vkHash, publicSignals), leafIndex, proof);
    }

    function isLeafVerified(uint256 batchIndex, bytes32 leaf, uint256 leafIndex, bytes32[] calldata proof) public view override returns (bool) {
        BatchRecord storage b = _batches[batchIndex];
        uint256 count = b.leafCount;
        if (leafIndex >= count) return false; // also an unknown batch (count 0)
        uint256 used;
        bytes32 node = leaf;
        uint256 i = leafIndex;
        while (count > 1) {
            if (i & 1 == 1 || i + 1 < count) {
                if (used == proof.length) return false;
                node = i & 1 == 1 ? _hashPair(proof[used], node) : _hashPair(node, proof[used]);
                ++used;
            } // else: the odd last node of its level, carried up unchanged
            i >>= 1;
            count = (count + 1) >> 1;
        }
        return used == proof.length && node == b.root;
    }

    /// @dev Neighbours hashed pairwise level by level, in place (node i of a level is written
    /// after nodes 2i and 2i + 1 below it are read); an odd last node is carried up unchanged.
    function _merkleRoot(bytes32[] memory leaves) private pure returns (bytes32 root) {
        bytes32[] memory level = new bytes32[](leaves.length);
        assembly ("memory-safe") {
            let n := mload(leaves)
            let dst := add(level, 32)
            mcopy(dst, add(leaves, 32), mul(n, 32)) // the event still needs the leaves
            for {} gt(n, 1) { n := shr(1, add(n, 1)) } {
                let half := shr(1, n)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    mstore(add(dst, shl(5, i)), keccak256(add(dst, shl(6, i)), 64))
                }
                if and(n, 1) { mstore(add(dst, shl(5, half)), mload(add(dst, shl(5, sub(n, 1))))) }
            }
            root := mload(dst)
        }
    }

    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0, a)
            mstore(32, b)
            h := keccak256(0, 64)
        }
    }
}
