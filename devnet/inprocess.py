"""An in-process py-evm chain (through eth-tester) with the Consortium pre-allocated in its genesis.

Used by the demo and as one backend of the contract conformance suite.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from eth_utils.address import to_canonical_address
from web3 import EthereumTesterProvider, Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.types import Wei

from contracts.founding import Founding
from contracts.genesis import CONSORTIUM_ADDRESS, consortium_genesis_account

DEV_BALANCE = 10**24


@dataclass
class InProcessChain:
    w3: Web3
    tester: EthereumTester
    signers: list[LocalAccount]

    def chain_time(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance_time(self, seconds: int) -> None:
        """Mines a block `seconds` after the latest one."""
        # eth-tester's time_travel lands one second short (it expects mining to add that second).
        self.tester.time_travel(self.chain_time() + seconds + 1)

    def add_signer(self, account: LocalAccount) -> None:
        """Funds `account` and lets web3 sign for it."""
        funder = self.signers[0].address
        self.signers.append(account)
        _install_signer(self.w3, self.signers)
        tx = self.w3.eth.send_transaction(
            {"from": funder, "to": account.address, "value": Wei(DEV_BALANCE // 1000)}
        )
        self.w3.eth.wait_for_transaction_receipt(tx)


def _install_signer(w3: Web3, signers: list[LocalAccount]) -> None:
    if "signer" in w3.middleware_onion:
        w3.middleware_onion.remove("signer")
    # A fresh tuple: web3 caches middleware it considers unchanged, and an equal list would be.
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(tuple(signers)), name="signer", layer=0)


def start_inprocess_chain(
    signers: Iterable[LocalAccount], founding: Founding | None = None
) -> InProcessChain:
    """A fresh chain whose genesis funds `signers` (and pre-allocates the Consortium if given);
    web3 signs locally for every signer."""
    signers = list(signers)
    genesis_state: dict[bytes, dict[str, object]] = {
        to_canonical_address(s.address): {"balance": DEV_BALANCE, "nonce": 0, "code": b"", "storage": {}}
        for s in signers
    }
    if founding is not None:
        account = consortium_genesis_account(founding, timestamp=int(time.time()))
        genesis_state[to_canonical_address(CONSORTIUM_ADDRESS)] = {
            "balance": account.balance,
            "nonce": account.nonce,
            "code": account.code,
            "storage": account.storage,
        }
    tester = EthereumTester(backend=PyEVMBackend(genesis_state=genesis_state))
    w3 = Web3(EthereumTesterProvider(tester))
    _install_signer(w3, signers)
    if signers:
        w3.eth.default_account = signers[0].address  # eth_call needs a funded sender here
    return InProcessChain(w3=w3, tester=tester, signers=signers)
