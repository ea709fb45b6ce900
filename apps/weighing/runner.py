"""Builds and runs the weighing service from its settings."""

from __future__ import annotations

import json

from fastapi import FastAPI

from apps.common import run_service
from apps.weighing.api import create_app
from apps.weighing.service import WeighingService
from apps.weighing.settings import WeighingSettings
from apps.weighing.staff import StaffDirectory
from apps.weighing.store import WeighingStore
from ledger.deploy import ContractAddresses
from ledger.gateway import Gateway, GatewaySettings
from ledger.keys import load_account, passphrase


def build(settings: WeighingSettings) -> tuple[FastAPI, Gateway, WeighingStore]:
    raw = json.loads(settings.gateway.read_text())
    contracts = raw["contracts"]
    gateway = Gateway(
        GatewaySettings(
            outbox=settings.data_dir / "outbox.sqlite",
            node_urls=list(raw["nodes"]),
            chain_id=int(raw["chainId"]),
            contracts=ContractAddresses(
                contracts["consortium"], contracts["weighing"], contracts["registry"]
            ),
        ),
        load_account(settings.gateway.parent / raw["keystore"], passphrase(file=settings.passphrase_file)),
    )
    store = WeighingStore(settings.data_dir / "weighings.sqlite")
    service = WeighingService(raw["city"], gateway, store, settings.salt(), settings.limits())
    return create_app(service, StaffDirectory(settings.staff_tokens_file)), gateway, store


def serve(settings: WeighingSettings) -> None:
    app, gateway, store = build(settings)
    run_service("weighing", app, gateway, store, settings.host, settings.port)
