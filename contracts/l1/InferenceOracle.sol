// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IInferenceOracle } from "../interfaces/IInferenceOracle.sol";
import { IRollup } from "../interfaces/IRollup.sol";
import { Groth16Key } from "./lib/Groth16Key.sol";
import { G1 } from "./lib/G1.sol";
import { ResultTree } from "./lib/ResultTree.sol";
import { ResultAttestation } from "./ResultAttestation.sol";

/// @title InferenceOracle (L1): one randomized Groth16 batch check per rollup batch (see IInferenceOracle).
/// @notice Gas per proof is dominated by its pairing (34,000) and the two ecMuls r*A, r*C (6,000
/// each); public inputs cost a mulmod and their calldata, and each key group adds n + 2 ecMuls and
/// up to 3 pairings (1 when it shares beta and gamma with an earlier group). The per-proof work is
/// in assembly because Solidity's checked arithmetic and calldata indexing cost more there than
/// the checks themselves (~1,300 gas per proof measured). Key checks and storage are in
/// lib/Groth16Key.sol, the result tree in lib/ResultTree.sol, G1 arithmetic in lib/G1.sol
/// (internal functions: no calls), the binding to a batch's committed results in ResultAttestation.sol.
contract InferenceOracle is ResultAttestation {
    /// @dev BN254 base field modulus (coordinates) and scalar field order (public inputs, r_t).
    uint256 internal constant P = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev Bounds memory for the pairing input; a full batch of 1,024 proofs is ~50M gas anyway.
    uint256 internal constant MAX_PROOFS = 1024;
    /// @dev Levels of a tree of MAX_PROOFS leaves: no longer Merkle proof can be valid.
    uint256 internal constant MAX_DEPTH = 10;
    uint256 internal constant PAIR_BYTES = 192;
    uint256 internal constant PROOF_BYTES = 256;

    address public immutable override rollup;
    mapping(bytes32 vkHash => address data) internal _keys;
    /// @dev Every verified submission of a batch, under its own root: a stranger's cannot stand
    /// in the way of another (see IInferenceOracle, "Submission").
    mapping(uint256 batchIndex => mapping(bytes32 root => Submission)) internal _submissions;
    mapping(uint256 batchIndex => mapping(address submitter => bytes32 root)) internal _submittedRoots;

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

    function _rollupAddress() internal view override returns (address) {
        return rollup;
    }

    // ------------------------------------------------------------------------------------- keys

    function addKey(bytes calldata vk) external override returns (bytes32 vkHash) {
        vkHash = keccak256(vk);
        if (_keys[vkHash] != address(0)) revert KeyExists(vkHash);
        bytes memory key = vk;
        uint8 code = Groth16Key.check(key, vkHash);
        if (code != 0) revert InvalidVerifyingKey(vkHash, code);
        uint256 n = Groth16Key.inputCount(key);
        if (n > Groth16Key.MAX_STORED_INPUTS) revert KeyTooLarge(n, Groth16Key.MAX_STORED_INPUTS);
        if (!Groth16Key.inGroup(key)) revert InvalidVerifyingKey(vkHash, Groth16Key.G2_NOT_IN_GROUP);
        address data = Groth16Key.store(key);
        if (data == address(0)) revert KeyStoreFailed(vkHash);
        _keys[vkHash] = data;
        emit KeyAdded(vkHash, n, data);
    }

    function hasKey(bytes32 vkHash) external view override returns (bool) {
        return _keys[vkHash] != address(0);
    }

    function getKey(bytes32 vkHash) external view override returns (bytes memory) {
        address data = _keys[vkHash];
        if (data == address(0)) revert UnknownKey(vkHash);
        return Groth16Key.read(data);
    }

    // ------------------------------------------------------------------------------- submission

    function submitBatchProofs(uint256 batchIndex, ProofGroup[] calldata groups) external override returns (bytes32 root) {
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
        root = ResultTree.root(run.leaves);
        // before the pairing, so a copy of a recorded submission reverts without paying for it
        mapping(bytes32 => Submission) storage recorded = _submissions[batchIndex];
        if (recorded[root].leafCount != 0) revert BatchAlreadySubmitted(batchIndex, root);
        _pairingCheck(pairing);
        recorded[root] = Submission(uint32(total), uint64(block.number), uint64(block.timestamp));
        _submittedRoots[batchIndex][msg.sender] = root;
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
        uint256 n = Groth16Key.inputCount(key);
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
        (uint256 x, uint256 y) = G1.mul(Groth16Key.word(key, 0), Groth16Key.word(key, 1), coef[0]);
        _addPair(run, key, x, y, 2);
        (x, y) = G1.mul(Groth16Key.word(key, 15), Groth16Key.word(key, 16), coef[0]);
        for (uint256 j = 1; j <= n; ++j) {
            if (coef[j] == 0) continue; // an input that is zero in every proof
            (uint256 mx, uint256 my) = G1.mul(Groth16Key.word(key, 15 + 2 * j), Groth16Key.word(key, 16 + 2 * j), coef[j]);
            (x, y) = G1.add(x, y, mx, my);
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
                (uint256 px, uint256 py) = G1.add(_mword(ptr), _mword(ptr + 32), x, y);
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
            return Groth16Key.read(data);
        }
        key = grp.vk;
        bytes32 h = keccak256(key);
        if (h != grp.vkHash) revert KeyHashMismatch(g, grp.vkHash, h);
        uint8 code = Groth16Key.check(key, h);
        if (code != 0) revert InvalidVerifyingKey(h, code);
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

    function _calldataHash() private pure returns (uint256 h) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, 0, calldatasize())
            h := keccak256(m, calldatasize())
        }
    }

    // ----------------------------------------------------------------------------------- reads

    function getSubmission(uint256 batchIndex, bytes32 root) external view override returns (Submission memory) {
        return _submissions[batchIndex][root];
    }

    function submittedRoot(uint256 batchIndex, address submitter) external view override returns (bytes32) {
        return _submittedRoots[batchIndex][submitter];
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

    /// @dev The proof's length and the leaf index fix its shape (lib/ResultTree.sol), so the root
    /// comes first and its record then says whether the shape was that of its tree.
    function isLeafVerified(uint256 batchIndex, bytes32 leaf, uint256 leafIndex, bytes32[] calldata proof) public view override returns (bool) {
        if (leafIndex >= MAX_PROOFS || proof.length > MAX_DEPTH) return false;
        uint256 count = _submissions[batchIndex][ResultTree.rootFromProof(leaf, leafIndex, proof)].leafCount;
        return leafIndex < count && ResultTree.proofLength(leafIndex, count) == proof.length;
    }
}
