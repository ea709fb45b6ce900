"""The registry service under test: aachen's registry service process on the apps' shared devnet
(tests/apps/conftest.py), reached over HTTP; clerks sign in with their dev keys by challenge and
response, exactly as a clerk's software would."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount

from apps.registry.client import RegistryClient
from contracts.founding import Role
from devnet.keys import dev_account
from ledger.connect import connect
from ledger.deploy import bind
from ledger.records import Attestation, Domain, domain_for, short_text

TIMEOUT = 30
AACHEN_CLERK = dev_account("aachen", "clerk")
GELSENKIRCHEN_CLERK = dev_account("gelsenkirchen", "clerk")


def document(label: str = "Meldebescheinigung") -> bytes:
    """A fresh 'extract': a PDF header, a label and random bytes (so every call is a new document)."""
    return b"%PDF-1.7\n% " + label.encode() + b"\n" + os.urandom(48)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@dataclass
class Registry:
    data_dir: Path
    description: dict[str, Any]
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return str(self.description["apps"]["registry"])

    @property
    def rpc(self) -> str:
        return str(self.description["nodes"][0]["rpc"])

    @property
    def domain(self) -> Domain:
        return domain_for(Attestation, self.description["chainId"], self.description["contracts"]["registry"])

    @property
    def store_path(self) -> Path:
        return self.data_dir / "apps" / "registry-aachen" / "registry.sqlite"

    @property
    def salt(self) -> bytes:
        return bytes.fromhex((self.data_dir / "gateways" / "aachen-salt.hex").read_text().strip())

    def client(self, account: LocalAccount = AACHEN_CLERK) -> RegistryClient:
        client = RegistryClient(self.url, account)
        client.login()
        return client

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.url + path, timeout=TIMEOUT, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.post(self.url + path, timeout=TIMEOUT, **kwargs)

    def outbox_total(self) -> int:
        reply = self.get("/health")
        assert reply.status_code == 200, reply.text
        return sum(reply.json()["outbox"].values())

    def execute(self, sql: str, *args: Any) -> None:
        """Changes the service's database behind its back (to age a challenge or a session)."""
        with sqlite3.connect(self.store_path) as db:
            db.execute(sql, args)

    def register(self, city: str, role: Role) -> LocalAccount:
        """A new random key registered by the city's admin with `role` (e.g. a second clerk)."""
        account: LocalAccount = Account.from_key(os.urandom(32))
        self.set_role(city, account.address, role)
        return account

    def set_role(self, city: str, address: str, role: Role | None) -> None:
        admin = dev_account(city, "admin")
        w3 = connect(self.rpc, [admin])
        consortium = bind(w3, "Consortium", self.description["contracts"]["consortium"])
        call = (
            consortium.functions.removeAccount(address)
            if role is None
            else consortium.functions.setAccount(address, role, b"\0" * 32, 0)
        )
        tx = call.transact({"from": admin.address, "gas": 300_000})
        assert w3.eth.wait_for_transaction_receipt(tx, timeout=TIMEOUT)["status"] == 1

    def attest_elsewhere(self, city: str, data: bytes) -> bytes:
        """Attests a document as another city does (its clerk signs, its gateway relays), on chain."""
        clerk, gateway = dev_account(city, "clerk"), dev_account(city, "gateway")
        now = int(time.time())
        attestation = Attestation(
            sha(data), short_text("Gewerberegister"), os.urandom(32), now, 0, clerk.address
        )
        w3 = connect(self.rpc, [gateway])
        registry = bind(w3, "RegistryAttestations", self.description["contracts"]["registry"])
        signature = attestation.sign(self.domain, clerk.key)
        tx = registry.functions.attest(attestation.as_abi(), signature).transact(
            {"from": gateway.address, "gas": 400_000}
        )
        assert w3.eth.wait_for_transaction_receipt(tx, timeout=TIMEOUT)["status"] == 1
        return sha(data)


@pytest.fixture(scope="session")
def registry(apps_devnet: tuple[Path, dict[str, Any]]) -> Iterator[Registry]:
    data_dir, description = apps_devnet
    service = Registry(data_dir, description)
    yield service
    service.http.close()


@pytest.fixture(scope="session")
def clerk(registry: Registry) -> RegistryClient:
    """Aachen's clerk, signed in (bearer token)."""
    return registry.client()


def issue(clerk: RegistryClient, **draft: Any) -> tuple[bytes, bytes]:
    """A new document attested by the clerk and final on chain: (document, its hash)."""
    data = document()
    answer = clerk.attest(data, **draft)
    assert answer["status"] == "pending", answer
    final = clerk.wait_status(sha(data), lambda a: a["status"] != "pending", TIMEOUT)
    assert final["status"] == "valid", final
    return data, sha(data)
