"""The ledger package's exceptions: one root, typed attributes."""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    """Root of every error the ledger raises."""


class TransactionFailedError(LedgerError):
    def __init__(self, message: str, tx_hash: bytes | None = None, revert: str | None = None) -> None:
        super().__init__(message if revert is None else f"{message}: {revert}")
        self.tx_hash = tx_hash
        self.revert = revert


class NodeUnavailableError(LedgerError):
    """No configured node answered."""


class RpcCallError(LedgerError):
    """A node answered a JSON-RPC call with an error object."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message} ({code})")
        self.method = method
        self.code = code
        self.message = message
        self.data = data


class ConflictError(LedgerError):
    """A different record was already submitted under the same record id."""

    def __init__(self, record_id: str) -> None:
        super().__init__(f"record id {record_id} is already used by a different record")
        self.record_id = record_id


class KeystoreError(LedgerError):
    """A keystore that cannot be opened (missing file, wrong passphrase, no passphrase given)."""


class BundleError(LedgerError):
    """A proof bundle that does not verify; `check` names the failing check."""

    def __init__(self, check: str, reason: str) -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        self.reason = reason
