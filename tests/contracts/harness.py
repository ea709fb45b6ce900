"""What the contract conformance suite needs from a chain, whatever runs it.

The suite talks to the chain only through `ChainBackend` (web3 + a clock) and `Deployment`, so the
same tests run against the in-process chain, our node over HTTP and anvil. Tests never assume a
fresh chain: they make their own scales, record ids and, for governance, their own Consortium.
"""

from __future__ import annotations

import ast
import os
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.types import TxParams, TxReceipt

from contracts.errors import decode_error
from contracts.founding import Founding, Role
from devnet.keys import CityKeys
from ledger.deploy import deploy_consortium
from ledger.records import Attestation, Domain, Weighing, domain_for


class ChainBackend(Protocol):
    name: str
    w3: Web3

    def chain_time(self) -> int: ...

    def advance_time(self, seconds: int) -> None:
        """Lets at least `seconds` of chain time pass and mines a block."""

    def add_signer(self, account: LocalAccount) -> None:
        """Makes `account` usable as `from` (funded where gas costs something)."""


class RevertExpectedError(AssertionError):
    pass


@dataclass
class Deployment:
    backend: ChainBackend
    cities: dict[str, CityKeys]
    outsider: LocalAccount
    consortium: Contract
    weighing: Contract
    registry: Contract
    _nonce: int = field(default=0)

    @property
    def w3(self) -> Web3:
        return self.backend.w3

    @property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    @property
    def weighing_domain(self) -> Domain:
        return domain_for(Weighing, self.chain_id, self.weighing.address)

    @property
    def registry_domain(self) -> Domain:
        return domain_for(Attestation, self.chain_id, self.registry.address)

    def transact(self, fn: ContractFunction, sender: LocalAccount, gas: int | None = None) -> TxReceipt:
        """Sends and waits; a fixed `gas` skips estimation (slow for big batches in-process)."""
        params: TxParams = {"from": sender.address}
        if gas is not None:
            params["gas"] = gas
        tx_hash = fn.transact(params)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
        assert receipt["status"] == 1, f"transaction {fn.fn_name} failed"
        return receipt

    def expect_revert(self, fn: ContractFunction, sender: LocalAccount, error: str) -> dict[str, Any]:
        """Asserts that `fn` from `sender` reverts with the custom error `error`; returns its args."""
        try:
            fn.call({"from": sender.address})
        except Exception as exc:
            data = revert_data(exc)
            if data is None:
                raise
            name, args = decode_error(data)
            assert name == error, f"expected {error}, got {name}({args})"
            return args
        raise RevertExpectedError(f"{fn.fn_name} did not revert (expected {error})")

    def new_account(self) -> LocalAccount:
        account: LocalAccount = Account.from_key(os.urandom(32))
        self.backend.add_signer(account)
        return account

    def add_account(
        self,
        city: str,
        role: Role,
        calibration_valid_until: int = 0,
        calibration_ref: bytes = b"\0" * 32,
    ) -> LocalAccount:
        """A fresh account with `role` in `city`, registered by the city's admin."""
        account = self.new_account()
        self.transact(
            self.consortium.functions.setAccount(
                account.address, role, calibration_ref, calibration_valid_until
            ),
            self.cities[city].admin,
        )
        return account

    def new_scale(self, city: str, valid_for: int = 365 * 86400) -> LocalAccount:
        return self.add_account(
            city, Role.SCALE, self.backend.chain_time() + valid_for, b"DE-TEST-CAL".ljust(32, b"\0")
        )

    def new_consortium(self, founding: Founding, deployer: LocalAccount) -> Contract:
        """A separate Consortium for tests that change membership."""
        return deploy_consortium(self.w3, founding, deployer.address)

    def next_record_id(self) -> bytes:
        return os.urandom(32)


def revert_data(exc: BaseException) -> bytes | None:
    """The revert data carried by a failed eth_call, as web3 raises it over JSON-RPC, or as
    eth-tester raises it in-process: there the original exception carries the bytes, or only
    their Python repr, which literal_eval reads back safely."""
    if isinstance(exc, ContractCustomError | ContractLogicError) and isinstance(exc.data, str):
        return bytes.fromhex(exc.data.removeprefix("0x"))
    pending: list[BaseException] = [exc]
    while pending:
        seen = pending.pop()
        first = seen.args[0] if seen.args else None
        if isinstance(first, bytes):
            return first
        if isinstance(first, str) and first.startswith(("b'", 'b"')):
            value = ast.literal_eval(first)
            if isinstance(value, bytes):
                return value
        if isinstance(first, BaseException):
            pending.append(first)
        if seen.__context__ is not None:
            pending.append(seen.__context__)
    return None


def weighing(scale: str, seq: int, record_id: bytes | None = None, **overrides: Any) -> Weighing:
    """A plausible weighing; keyword overrides use the Python field names."""
    values: dict[str, Any] = {
        "record_id": record_id if record_id is not None else os.urandom(32),
        "scale": scale,
        "seq": seq,
        "measured_at": int(time.time() * 1000),
        "time_synced": True,
        "gross_kg": 18_420,
        "tare_kg": 11_900,
        "net_kg": 6_520,
        "tare_mode": 0,
        "avv_code": 200301,
        "vehicle_ref": b"\x01" * 32,
        "container_ref": b"\x02" * 32,
        "customer_ref": b"\x03" * 32,
        "status_flags": 0,
    }
    values.update(overrides)
    return Weighing(**values)
