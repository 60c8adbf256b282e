// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test contracts for call traces: every kind of call frame in one transaction.
contract TraceCallee {
    uint256 public x;

    event Set(uint256 v);

    function set(uint256 v) external returns (uint256) {
        x = v;
        emit Set(v);
        return v * 2;
    }

    function fail() external pure {
        revert("callee says no");
    }
}

contract TraceCaller {
    /// slot 0, written by the DELEGATECALL to TraceCallee.set
    uint256 public x;
    TraceCallee public callee;

    event Ran(uint256 r);

    constructor() {
        callee = new TraceCallee();
    }

    function run(uint256 v) external returns (uint256 r) {
        r = callee.set(v);
        try callee.fail() {} catch {}
        (bool ok, ) = address(callee).staticcall(abi.encodeWithSignature("x()"));
        require(ok, "staticcall");
        (ok, ) = address(callee).delegatecall(abi.encodeWithSignature("set(uint256)", v + 1));
        require(ok, "delegatecall");
        r += uint256(sha256(abi.encode(v))) % 7;
        new TraceCallee();
        new TraceCallee{salt: bytes32(v)}();
        emit Ran(r);
    }

    function boom() external {
        callee.set(1);
        revert("caller says no");
    }
}

/// @notice Gone at the end of the transaction that creates it (EIP-6780 deletes a contract that
/// self-destructs in the transaction that created it), its value sent on to `heir`.
contract TraceDoomed {
    constructor(address payable heir) payable {
        selfdestruct(heir);
    }
}

/// @notice For prestate traces: a creation that self-destructs, and the opcodes that touch an
/// account without calling it (BALANCE, EXTCODEHASH).
contract TraceDoomer {
    function doom(address payable heir, address other) external payable returns (bytes32) {
        new TraceDoomed{value: msg.value}(heir);
        return bytes32(heir.balance + other.balance) ^ other.codehash;
    }
}
