"""Backends of the contract conformance suite."""

from __future__ import annotations

import time

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.types import RPCEndpoint

from contracts.founding import Founding
from contracts.genesis import CONSORTIUM_ADDRESS
from devnet.inprocess import InProcessChain, start_inprocess_chain
from devnet.keys import CityKeys, dev_founding
from ledger.connect import connect
from ledger.deploy import bind, deploy_consortium, deploy_record_contracts
from tests.contracts.harness import Deployment


class InProcessBackend:
    """eth-tester's py-evm chain; the Consortium either pre-allocated in genesis or deployed."""

    def __init__(self, name: str, chain: InProcessChain) -> None:
        self.name = name
        self.chain = chain
        self.w3: Web3 = chain.w3

    def chain_time(self) -> int:
        return self.chain.chain_time()

    def advance_time(self, seconds: int) -> None:
        self.chain.advance_time(seconds)

    def add_signer(self, account: LocalAccount) -> None:
        self.chain.add_signer(account)


class NodeHttpBackend:
    """Our own node over HTTP (a devnet process); time moves with evm_increaseTime + evm_mine."""

    def __init__(self, rpc: str, signers: list[LocalAccount]) -> None:
        self.name = "node-http"
        self.signers = list(signers)
        self.w3: Web3 = connect(rpc, self.signers)

    def chain_time(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance_time(self, seconds: int) -> None:
        self.w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [seconds])
        self.w3.provider.make_request(RPCEndpoint("evm_mine"), [])

    def add_signer(self, account: LocalAccount) -> None:
        self.signers.append(account)
        self.w3.middleware_onion.remove("signer")
        self.w3.middleware_onion.inject(
            SignAndSendRawMiddlewareBuilder.build(tuple(self.signers)), name="signer", layer=0
        )


def node_deployment(rpc: str, cities: tuple[CityKeys, ...], outsider: LocalAccount) -> Deployment:
    """Fresh record contracts on a running node whose genesis holds the suite's Consortium."""
    signers = [a for c in cities for a in c.all()] + [outsider]
    backend = NodeHttpBackend(rpc, signers)
    addresses = deploy_record_contracts(backend.w3, CONSORTIUM_ADDRESS, cities[0].admin.address)
    return Deployment(
        backend=backend,
        cities={c.city: c for c in cities},
        outsider=outsider,
        consortium=bind(backend.w3, "Consortium", addresses.consortium),
        weighing=bind(backend.w3, "WeighingLedger", addresses.weighing),
        registry=bind(backend.w3, "RegistryAttestations", addresses.registry),
    )


def inprocess_deployment(variant: str, cities: tuple[CityKeys, ...], outsider: LocalAccount) -> Deployment:
    founding: Founding = dev_founding(cities, calibration_valid_until=int(time.time()) + 365 * 86400)
    signers = [a for c in cities for a in c.all()] + [outsider]
    admin = cities[0].admin.address
    if variant == "genesis":
        chain = start_inprocess_chain(signers, founding)
        consortium_address = CONSORTIUM_ADDRESS
    else:
        chain = start_inprocess_chain(signers)
        consortium_address = deploy_consortium(chain.w3, founding, admin).address
    addresses = deploy_record_contracts(chain.w3, consortium_address, admin)
    backend = InProcessBackend(f"inprocess-{variant}", chain)
    return Deployment(
        backend=backend,
        cities={c.city: c for c in cities},
        outsider=outsider,
        consortium=bind(chain.w3, "Consortium", addresses.consortium),
        weighing=bind(chain.w3, "WeighingLedger", addresses.weighing),
        registry=bind(chain.w3, "RegistryAttestations", addresses.registry),
    )
