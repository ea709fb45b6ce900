"""JSON-RPC errors, and the one place where domain errors become JSON-RPC errors."""

from __future__ import annotations

from typing import Any

from contracts.errors import describe_error
from nodes.errors import ExecutionRevertedError, InvalidBlockError, NodeError, TransactionRejectedError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
RESOURCE_NOT_FOUND = -32001
LIMIT_EXCEEDED = -32005
SENDER_NOT_AUTHORIZED = -32007  # Besu's code for a transaction refused by account permissioning
EXECUTION_REVERTED = 3

_REJECTION_CODES = {
    "not_permitted": SENDER_NOT_AUTHORIZED,
    "invalid": INVALID_PARAMS,
    "oversized": INVALID_PARAMS,
}


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid_params(message: str) -> RpcError:
    return RpcError(INVALID_PARAMS, f"invalid params: {message}")


def to_rpc_error(exc: NodeError) -> RpcError:
    if isinstance(exc, ExecutionRevertedError):
        if not exc.data:
            return RpcError(SERVER_ERROR, exc.message)
        return RpcError(
            EXECUTION_REVERTED, f"execution reverted: {describe_error(exc.data)}", "0x" + exc.data.hex()
        )
    if isinstance(exc, TransactionRejectedError):
        return RpcError(_REJECTION_CODES.get(exc.kind, SERVER_ERROR), exc.message)
    if isinstance(exc, InvalidBlockError):
        return RpcError(SERVER_ERROR, str(exc))
    return RpcError(SERVER_ERROR, str(exc))
