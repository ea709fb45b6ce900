"""Shared fixtures. The contract conformance suite runs once per backend in BACKENDS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from devnet.keys import DEV_CITIES, CityKeys
from tests.contracts.backends import inprocess_deployment
from tests.contracts.harness import Deployment

# The cities the conformance suite founds: three, so that "more than half" is a real question.
SUITE_CITIES = DEV_CITIES[:3]
BACKENDS = ("inprocess-genesis", "inprocess-deployed")


@pytest.fixture(scope="session")
def cities() -> tuple[CityKeys, ...]:
    return tuple(CityKeys.derive(c) for c in SUITE_CITIES)


@pytest.fixture(scope="session")
def outsider() -> LocalAccount:
    account: LocalAccount = Account.from_key(b"\x42" * 32)
    return account


@pytest.fixture(scope="module", params=BACKENDS)
def deployment(
    request: pytest.FixtureRequest, cities: tuple[CityKeys, ...], outsider: LocalAccount
) -> Iterator[Deployment]:
    kind, variant = str(request.param).split("-", 1)
    assert kind == "inprocess"
    yield inprocess_deployment(variant, cities, outsider)
