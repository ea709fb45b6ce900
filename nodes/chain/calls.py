"""eth_call and eth_estimateGas on a throw-away state."""

from __future__ import annotations

from dataclasses import dataclass

from eth.abc import ComputationAPI, StateAPI
from eth.exceptions import Revert
from eth.vm.spoof import SpoofTransaction
from eth_typing import Address
from eth_utils.exceptions import ValidationError

from nodes.chain.execution import TX_BUILDER
from nodes.errors import ExecutionRevertedError, NodeError

CALL_GAS_CAP = 50_000_000


@dataclass(frozen=True)
class CallRequest:
    sender: bytes = b"\0" * 20
    to: bytes | None = None
    data: bytes = b""
    value: int = 0
    gas: int | None = None


def run_call(state: StateAPI, request: CallRequest, gas: int) -> ComputationAPI:
    """Executes `request` on `state` and reverts the state afterwards."""
    nonce = state.get_nonce(Address(request.sender))
    unsigned = TX_BUILDER.create_unsigned_transaction(
        nonce=nonce,
        gas_price=0,
        gas=gas,
        to=Address(request.to or b""),
        value=request.value,
        data=request.data,
    )
    spoofed = SpoofTransaction(unsigned, from_=Address(request.sender))
    snapshot = state.snapshot()
    try:
        computation: ComputationAPI = state.apply_transaction(spoofed)  # type: ignore[arg-type]
    except ValidationError as exc:  # e.g. gas below intrinsic, value above the balance
        raise ExecutionRevertedError(b"", f"invalid call: {exc}") from None
    finally:
        state.revert(snapshot)
    return computation


def call(state: StateAPI, request: CallRequest, gas_cap: int) -> bytes:
    """eth_call: the return data, or ExecutionRevertedError with the revert data."""
    computation = run_call(state, request, min(request.gas or gas_cap, gas_cap))
    if computation.is_error:
        raise _as_error(computation)
    return bytes(computation.output)


def estimate_gas(state: StateAPI, request: CallRequest, gas_cap: int) -> int:
    """The least gas limit with which `request` succeeds (binary search, as geth does)."""
    high = min(request.gas or gas_cap, gas_cap)
    computation = run_call(state, request, high)
    if computation.is_error:
        raise _as_error(computation)
    used = high - computation.get_gas_remaining()
    low = max(used - 1, 21_000 - 1)
    # Refunds and the 63/64 rule can make the least sufficient limit higher than the gas used.
    while low + 1 < high:
        middle = (low + high) // 2
        if run_call(state, request, middle).is_error:
            low = middle
        else:
            high = middle
    return high


def _as_error(computation: ComputationAPI) -> NodeError:
    if isinstance(computation.error, Revert):
        return ExecutionRevertedError(bytes(computation.output))
    return ExecutionRevertedError(b"", f"execution failed: {type(computation.error).__name__}")
