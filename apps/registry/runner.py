"""Builds and runs the registry service from its settings."""

from __future__ import annotations

import json

from fastapi import FastAPI

from apps.common import run_service
from apps.registry.api import create_app
from apps.registry.auth import ClerkAuth
from apps.registry.chain import RegistryChain
from apps.registry.reader import RegistryReader
from apps.registry.service import Limits, RegistryService
from apps.registry.settings import RegistrySettings
from apps.registry.store import RegistryStore
from ledger.deploy import ContractAddresses
from ledger.gateway import Gateway, GatewaySettings
from ledger.keys import load_account, passphrase


def build(settings: RegistrySettings) -> tuple[FastAPI, Gateway, RegistryStore]:
    raw = json.loads(settings.gateway.read_text())
    contracts = ContractAddresses(
        raw["contracts"]["consortium"], raw["contracts"]["weighing"], raw["contracts"]["registry"]
    )
    gateway = Gateway(
        GatewaySettings(
            outbox=settings.data_dir / "outbox.sqlite",
            node_urls=list(raw["nodes"]),
            chain_id=int(raw["chainId"]),
            contracts=contracts,
        ),
        load_account(settings.gateway.parent / raw["keystore"], passphrase(file=settings.passphrase_file)),
    )
    city = str(raw["city"])
    store = RegistryStore(settings.data_dir / "registry.sqlite")
    chain = RegistryChain(gateway.rpc, contracts.consortium, contracts.registry)
    auth = ClerkAuth(
        city,
        settings.display_name or city.capitalize(),
        settings.public_url,
        int(raw["chainId"]),
        chain,
        store,
        settings.session_ttl_s,
        settings.challenge_ttl_s,
    )
    reader = RegistryReader(city, settings.public_url, gateway, chain)
    limits = Limits(settings.register_types, settings.max_signature_age_s, settings.max_upload_bytes)
    service = RegistryService(city, gateway, store, reader, auth, settings.salt(), limits)
    return create_app(service, secure_cookie=settings.secure_cookie), gateway, store


def serve(settings: RegistrySettings) -> None:
    app, gateway, store = build(settings)
    run_service("registry", app, gateway, store, settings.host, settings.port)
