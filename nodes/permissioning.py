"""Account permissioning: a transaction enters the pool only if the Consortium contract allows it.

The rule is `Consortium.transactionAllowed(sender, target, value, gasPrice, gasLimit, payload)`, the
interface of Besu's former account-rules contract, evaluated on the head state.
"""

from __future__ import annotations

from eth.abc import SignedTransactionAPI, StateAPI
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector

from nodes.chain.calls import CallRequest, call
from nodes.chain.chain import Chain
from nodes.errors import ExecutionRevertedError

SELECTOR = function_signature_to_4byte_selector(
    "transactionAllowed(address,address,uint256,uint256,uint256,bytes)"
)
NODE_SELECTOR = function_signature_to_4byte_selector("nodeAllowed(bytes32)")
CHECK_GAS = 5_000_000


class AccountPermissioning:
    def __init__(self, chain: Chain, contract: bytes) -> None:
        self.chain = chain
        self.contract = contract

    def allowed(self, tx: SignedTransactionAPI) -> bool:
        """The rule on the head state (pool admission)."""
        with self.chain.lock:
            return self.rule(self.chain.state(), tx)

    def rule(self, state: StateAPI, tx: SignedTransactionAPI) -> bool:
        """Consortium.transactionAllowed(sender, target, value, gasPrice, gasLimit, payload) on `state`."""
        target = bytes(tx.to) if tx.to else b"\0" * 20
        price = tx.max_fee_per_gas if hasattr(tx, "max_fee_per_gas") else tx.gas_price
        payload = SELECTOR + abi_encode(
            ["address", "address", "uint256", "uint256", "uint256", "bytes"],
            [bytes(tx.sender), target, tx.value, price, tx.gas, bytes(tx.data)],
        )
        try:
            result = call(state, CallRequest(to=self.contract, data=payload), CHECK_GAS)
        except ExecutionRevertedError:
            return False
        return _true(result)

    def node_allowed(self, fingerprint: bytes) -> bool:
        """Consortium.nodeAllowed(fingerprint) on the head state."""
        payload = NODE_SELECTOR + abi_encode(["bytes32"], [fingerprint])
        with self.chain.lock:
            try:
                result = call(self.chain.state(), CallRequest(to=self.contract, data=payload), CHECK_GAS)
            except ExecutionRevertedError:
                return False
        return _true(result)


def _true(result: bytes) -> bool:
    if len(result) != 32:
        return False
    (allowed,) = abi_decode(["bool"], result)
    return bool(allowed)
