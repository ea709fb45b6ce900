"""One real node process (a 1-node devnet founding 3 member cities) shared by all node tests, and
for the JSON-RPC modules (test_rpc_*.py) aachen's keys, a web3 client, the Consortium and `sent`: a
mined setAccount transaction, all module-scoped (one of each per test module)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract

from devnet.keys import CityKeys
from ledger.connect import connect
from ledger.deploy import bind
from tests.nodes.rpc_support import CONSORTIUM_ADDRESS, Sent, register_clerk
from tests.support.devnet import running_devnet


@pytest.fixture(scope="session")
def node_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The devnet.json dict of a running node (aachen, the only validator) with the record contracts
    deployed; gelsenkirchen and paderborn are founding members without nodes."""
    with running_devnet(tmp_path_factory.mktemp("node-devnet"), nodes=1, members=3) as description:
        yield description


@pytest.fixture(scope="session")
def rpc_url(node_devnet: dict[str, Any]) -> str:
    return str(node_devnet["nodes"][0]["rpc"])


@pytest.fixture(scope="session")
def ws_url(node_devnet: dict[str, Any]) -> str:
    return str(node_devnet["nodes"][0]["ws"])


@pytest.fixture(scope="module")
def aachen() -> CityKeys:
    return CityKeys.derive("aachen")


@pytest.fixture(scope="module")
def w3(rpc_url: str, aachen: CityKeys) -> Web3:
    return connect(rpc_url, [aachen.admin])


@pytest.fixture(scope="module")
def consortium(w3: Web3) -> Contract:
    return bind(w3, "Consortium", CONSORTIUM_ADDRESS)


@pytest.fixture(scope="module")
def sent(w3: Web3, consortium: Contract, aachen: CityKeys) -> Sent:
    """A mined setAccount transaction of aachen's ADMIN (one AccountSet log)."""
    return register_clerk(w3, consortium, aachen.admin)
