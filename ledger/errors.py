"""The ledger package's exceptions: one root, typed attributes."""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error the ledger raises."""


class TransactionFailedError(LedgerError):
    def __init__(self, message: str, tx_hash: bytes | None = None, revert: str | None = None) -> None:
        super().__init__(message if revert is None else f"{message}: {revert}")
        self.tx_hash = tx_hash
        self.revert = revert
