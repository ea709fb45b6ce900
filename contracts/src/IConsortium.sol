// SPDX-License-Identifier: EUPL-1.2
pragma solidity 0.8.30;

/// @notice What the record contracts and the nodes need to know about the consortium.
interface IConsortium {
    enum Role {
        NONE,
        ADMIN,
        GATEWAY,
        CLERK,
        SCALE
    }

    /// @return city the member city of `account` (zero if it has no active role)
    /// @return role the account's role, NONE when its city is no longer a member
    /// @return calibrationValidUntil unix seconds; only set for SCALE accounts
    function roleOf(address account) external view returns (bytes32 city, Role role, uint64 calibrationValidUntil);

    /// @notice Account permissioning, same interface as Besu's former account rules contract.
    function transactionAllowed(
        address sender,
        address target,
        uint256 value,
        uint256 gasPrice,
        uint256 gasLimit,
        bytes calldata payload
    ) external view returns (bool);

    /// @notice Whether a node TLS certificate with this SHA-256 fingerprint may join the network.
    function nodeAllowed(bytes32 fingerprint) external view returns (bool);

    function validators() external view returns (address[] memory);
}
