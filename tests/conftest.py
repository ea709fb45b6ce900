"""Shared fixtures. The contract conformance suite runs once per backend in BACKENDS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from devnet.keys import DEV_CITIES, CityKeys
from tests.contracts.backends import inprocess_deployment, node_deployment
from tests.contracts.harness import Deployment
from tests.support.devnet import running_devnet

# The cities the conformance suite founds: three, so that "more than half" is a real question.
SUITE_CITIES = DEV_CITIES[:3]
BACKENDS = ("inprocess-genesis", "inprocess-deployed", "node-http")


@pytest.fixture(scope="session")
def cities() -> tuple[CityKeys, ...]:
    return tuple(CityKeys.derive(c) for c in SUITE_CITIES)


@pytest.fixture(scope="session")
def outsider() -> LocalAccount:
    account: LocalAccount = Account.from_key(b"\x42" * 32)
    return account


@pytest.fixture(scope="session")
def suite_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One running node (a real process) whose genesis founds the suite's cities."""
    with running_devnet(
        tmp_path_factory.mktemp("suite-devnet"), nodes=1, members=len(SUITE_CITIES)
    ) as description:
        yield description


@pytest.fixture(scope="module", params=BACKENDS)
def deployment(
    request: pytest.FixtureRequest, cities: tuple[CityKeys, ...], outsider: LocalAccount
) -> Iterator[Deployment]:
    if request.param == "node-http":
        description = request.getfixturevalue("suite_devnet")
        yield node_deployment(description["nodes"][0]["rpc"], cities, outsider)
        return
    kind, variant = str(request.param).split("-", 1)
    assert kind == "inprocess"
    yield inprocess_deployment(variant, cities, outsider)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.support.campaigns import summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("bad-input campaigns")
        for line in lines:
            terminalreporter.write_line(line)
