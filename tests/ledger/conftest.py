"""The gateway suite runs against our devnet and against anvil (ENGINES)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devnet.keys import CityKeys
from ledger.deploy import ContractAddresses
from ledger.gateway import Gateway, GatewaySettings
from ledger.submitter import SubmitterConfig
from tests.ledger.backends import anvil_chain, devnet_chain

ENGINES = ("govchain", "anvil")


@pytest.fixture(scope="module", params=ENGINES)
def chain(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp(f"ledger-{request.param}")
    if request.param == "anvil":
        with anvil_chain(folder / "anvil.log") as description:
            yield description
    else:
        with devnet_chain(folder / "devnet") as description:
            yield description


def gateway_settings(chain: dict[str, Any], outbox: Path, urls: list[str] | None = None) -> GatewaySettings:
    c = chain["contracts"]
    return GatewaySettings(
        outbox=outbox,
        node_urls=urls or [chain["rpc"]],
        chain_id=chain["chainId"],
        contracts=ContractAddresses(c["consortium"], c["weighing"], c["registry"]),
        submitter=SubmitterConfig(resend_after=2.0),
    )


@pytest.fixture
def gateway(chain: dict[str, Any], tmp_path: Path) -> Iterator[Gateway]:
    gw = Gateway(gateway_settings(chain, tmp_path / "outbox.sqlite"), CityKeys.derive("aachen").gateway)
    gw.start()
    yield gw
    gw.stop()
