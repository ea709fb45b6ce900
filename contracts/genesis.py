"""Pre-allocates the Consortium in a genesis.

The real constructor runs once on a scratch py-evm state; every storage slot it writes is
recorded, and the resulting runtime code and storage become the genesis account at
CONSORTIUM_ADDRESS. So the genesis contract is exactly what a normal deployment would give,
with no hand-written storage layout to keep in step with the Solidity source. This relies on
the Consortium constructor not storing its own address (it does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth.abc import StateAPI
from eth.db.atomic import AtomicDB
from eth.vm.execution_context import ExecutionContext
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.state import PragueState
from eth.vm.message import Message
from eth_typing import Address
from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak

from contracts.errors import describe_error
from contracts.founding import Founding

# The address of Besu's account-permissioning rules contract, so existing tooling finds it.
CONSORTIUM_ADDRESS = "0x0000000000000000000000000000000000008888"
_SCRATCH_DEPLOYER = to_canonical_address("0x" + "47" * 20)
_BLANK_ROOT = keccak(b"\x80")
_GAS = 1_000_000_000


class GenesisError(Exception):
    """The founding configuration was refused by the Consortium constructor."""


@dataclass(frozen=True)
class GenesisAccount:
    code: bytes
    storage: dict[int, int]
    nonce: int = 1
    balance: int = 0

    def to_json(self) -> dict[str, Any]:
        """The geth/Besu genesis `alloc` entry."""
        return {
            "balance": hex(self.balance),
            "nonce": hex(self.nonce),
            "code": "0x" + self.code.hex(),
            "storage": {f"0x{slot:064x}": f"0x{value:064x}" for slot, value in sorted(self.storage.items())},
        }


def consortium_genesis_account(founding: Founding, timestamp: int = 0) -> GenesisAccount:
    written: set[tuple[Address, int]] = set()

    class RecordingState(PragueState):
        def set_storage(self, address: Address, slot: int, value: int) -> None:
            written.add((address, slot))
            super().set_storage(address, slot, value)

    context = ExecutionContext(
        coinbase=Address(b"\0" * 20),
        timestamp=timestamp,
        block_number=0,  # type: ignore[arg-type]
        difficulty=0,
        mix_hash=b"\0" * 32,  # type: ignore[arg-type]
        gas_limit=_GAS,
        prev_hashes=(),
        chain_id=1,
        base_fee_per_gas=0,
        excess_blob_gas=0,
    )
    state: StateAPI = RecordingState(AtomicDB(), context, _BLANK_ROOT)  # type: ignore[arg-type]
    target = Address(keccak(b"govchain/genesis/consortium")[:20])
    message = Message(
        gas=_GAS,
        to=b"",  # type: ignore[arg-type]
        sender=_SCRATCH_DEPLOYER,
        value=0,
        data=b"",
        code=founding.creation_code(),
        create_address=target,
    )
    tx_context = PragueVM.get_state_class().get_transaction_context_class()(
        gas_price=0, origin=_SCRATCH_DEPLOYER
    )
    computation = state.computation_class.apply_create_message(state, message, tx_context)
    if computation.is_error:
        raise GenesisError(
            f"Consortium constructor refused the founding configuration: {_reason(computation)}"
        )
    storage = {slot: state.get_storage(target, slot) for address, slot in written if address == target}
    return GenesisAccount(code=state.get_code(target), storage={k: v for k, v in storage.items() if v})


def _reason(computation: Any) -> str:
    data = computation.output
    return describe_error(data) if data else repr(computation.error)
