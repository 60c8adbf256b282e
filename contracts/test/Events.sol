// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Emits logs on demand, for eth_getLogs, filters and subscriptions.
contract Events {
    event Ping(uint256 indexed i, address indexed from, bytes data);
    event ValueSet(uint256 indexed v);

    uint256 public value;

    function emitMany(uint256 n) external {
        for (uint256 i = 0; i < n; i++) emit Ping(i, msg.sender, abi.encode(i));
    }

    function setValue(uint256 v) external {
        value = v;
        emit ValueSet(v);
    }
}
