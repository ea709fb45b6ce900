"""JSON-RPC 2.0 framing: parsing, batches, ids and error objects."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from nodes.rpc.errors import INTERNAL_ERROR, INVALID_REQUEST, PARSE_ERROR, RpcError
from protocol.json_limits import MAX_NESTING, nesting_depth

log = logging.getLogger("govchain.rpc")
Handle = Callable[[str, Any], Any]


def _response(request_id: Any, result: Any = None, error: RpcError | None = None) -> dict[str, Any]:
    if error is not None:
        return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def handle_one(handle: Handle, request: Any) -> dict[str, Any] | None:
    """One request object → its response (None for a notification)."""
    if not isinstance(request, dict):
        return _response(None, error=RpcError(INVALID_REQUEST, "invalid request: expected a JSON object"))
    request_id = request.get("id")
    if not isinstance(request_id, str | int | type(None)) or isinstance(request_id, bool):
        return _response(
            None, error=RpcError(INVALID_REQUEST, "invalid request: id must be a string or a number")
        )
    method = request.get("method")
    if request.get("jsonrpc") != "2.0" or not isinstance(method, str):
        return _response(
            request_id,
            error=RpcError(INVALID_REQUEST, 'invalid request: needs "jsonrpc": "2.0" and a method'),
        )
    params = request.get("params", [])
    try:
        if isinstance(params, dict):
            raise RpcError(-32602, "invalid params: named parameters are not supported, use an array")
        result = handle(method, params)
    except RpcError as exc:
        response = _response(request_id, error=exc)
    except Exception:
        log.exception("internal error in %s", method)
        response = _response(request_id, error=RpcError(INTERNAL_ERROR, "internal error"))
    else:
        response = _response(request_id, result)
    return response if "id" in request else None


def handle_payload(handle: Handle, body: bytes | str, max_batch: int) -> Any:
    """A request body (single or batch) → the response value to send (None: nothing to send)."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if nesting_depth(raw) > MAX_NESTING:
        return _response(
            None, error=RpcError(INVALID_REQUEST, f"invalid request: nested deeper than {MAX_NESTING}")
        )
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # JSONDecodeError, over-long integers
        return _response(None, error=RpcError(PARSE_ERROR, "parse error: the body is not valid JSON"))
    if isinstance(payload, list):
        if not payload:
            return _response(None, error=RpcError(INVALID_REQUEST, "invalid request: empty batch"))
        if len(payload) > max_batch:
            return _response(
                None, error=RpcError(INVALID_REQUEST, f"batch too large: at most {max_batch} requests")
            )
        responses = [r for r in (handle_one(handle, item) for item in payload) if r is not None]
        return responses or None
    return handle_one(handle, payload)
