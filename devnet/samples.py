"""Plausible sample records and free-gas transactions for the demo, benchmarks and simulators."""

from __future__ import annotations

import os
import time
from typing import Any

from ledger.records import Weighing


def sample_weighing(scale: str, seq: int, **overrides: Any) -> Weighing:
    """A garbage-truck weighing (18 t gross, 12 t tare, mixed municipal waste 200301) with random ids
    and references; keyword overrides use the Python field names."""
    values: dict[str, Any] = {
        "record_id": os.urandom(32),
        "scale": scale,
        "seq": seq,
        "measured_at": int(time.time() * 1000),
        "time_synced": True,
        "gross_kg": 18_000,
        "tare_kg": 12_000,
        "net_kg": 6_000,
        "tare_mode": 0,
        "avv_code": 200301,
        "vehicle_ref": os.urandom(32),
        "container_ref": os.urandom(32),
        "customer_ref": os.urandom(32),
        "status_flags": 0,
    }
    values.update(overrides)
    return Weighing(**values)


def free_gas_transaction(
    nonce: int, to: str | None, data: bytes | str, gas: int, chain_id: int
) -> dict[str, Any]:
    """An EIP-1559 transaction with fee 0, as every transaction on this network is."""
    tx: dict[str, Any] = {
        "nonce": nonce,
        "data": data,
        "gas": gas,
        "value": 0,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
        "chainId": chain_id,
        "type": 2,
    }
    if to is not None:
        tx["to"] = to
    return tx
