"""Deploys and binds the project's contracts through any Ethereum JSON-RPC endpoint (web3.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from contracts.artifacts import load_artifact
from contracts.founding import Founding
from ledger.errors import TransactionFailedError


@dataclass(frozen=True)
class ContractAddresses:
    consortium: ChecksumAddress
    weighing: ChecksumAddress
    registry: ChecksumAddress

    def to_json(self) -> dict[str, str]:
        return {"consortium": self.consortium, "weighing": self.weighing, "registry": self.registry}


def bind(w3: Web3, name: str, address: str) -> Contract:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact(name).abi)


def deploy(w3: Web3, name: str, args: tuple[Any, ...], sender: str) -> Contract:
    """Deploys a contract from `sender` (an account the provider can sign for) and waits for it."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx_hash = factory.constructor(*args).transact({"from": Web3.to_checksum_address(sender)})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
    if receipt["status"] != 1 or not receipt["contractAddress"]:
        raise TransactionFailedError(f"deployment of {name} failed", tx_hash=bytes(tx_hash))
    return bind(w3, name, receipt["contractAddress"])


def deploy_consortium(w3: Web3, founding: Founding, sender: str) -> Contract:
    return deploy(w3, "Consortium", founding.constructor_args(), sender)


def deploy_record_contracts(w3: Web3, consortium: str, admin: str) -> ContractAddresses:
    """Deploys WeighingLedger and RegistryAttestations bound to an existing Consortium."""
    weighing = deploy(w3, "WeighingLedger", (Web3.to_checksum_address(consortium),), admin)
    registry = deploy(w3, "RegistryAttestations", (Web3.to_checksum_address(consortium),), admin)
    return ContractAddresses(Web3.to_checksum_address(consortium), weighing.address, registry.address)
