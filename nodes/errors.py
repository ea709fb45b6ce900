"""The node package's exceptions: one root, typed attributes. JSON-RPC maps them in nodes/rpc/errors.py."""

from __future__ import annotations


class NodeError(Exception):
    """Root of every error the node raises on purpose."""


class ConfigError(NodeError):
    """A configuration or genesis file that cannot be used; the node refuses to start."""


class TamperedStoreError(NodeError):
    """The database does not match itself: a changed byte in a block or in the state."""

    def __init__(self, block: int, reason: str) -> None:
        super().__init__(f"block {block}: {reason}")
        self.block = block
        self.reason = reason


class InvalidBlockError(NodeError):
    """A block that must not be imported (bad seals, wrong parent, state root mismatch...)."""

    def __init__(self, number: int, reason: str) -> None:
        super().__init__(f"block {number} rejected: {reason}")
        self.number = number
        self.reason = reason


class TransactionRejectedError(NodeError):
    """A transaction refused by the pool; `kind` is a stable machine-readable reason."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class ExecutionRevertedError(NodeError):
    """eth_call / eth_estimateGas hit a REVERT; `data` is the revert data."""

    def __init__(self, data: bytes, message: str = "execution reverted") -> None:
        super().__init__(message)
        self.data = data
        self.message = message
