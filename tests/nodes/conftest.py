"""One real node process (a 1-node devnet founding 3 member cities) shared by all node tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

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
