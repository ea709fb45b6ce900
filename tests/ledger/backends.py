"""Chains for the gateway suite: our devnet node, and anvil driven through the very same code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from contracts.genesis import CONSORTIUM_ADDRESS
from devnet.anvil import anvil_chain
from tests.support.devnet import running_devnet

__all__ = ["anvil_chain", "devnet_chain"]


@contextmanager
def devnet_chain(data_dir: Path) -> Iterator[dict[str, Any]]:
    with running_devnet(data_dir, nodes=1, members=3) as description:
        yield {
            "chainId": description["chainId"],
            "rpc": description["nodes"][0]["rpc"],
            "contracts": description["contracts"],
            "engine": "govchain",
            "consortium": CONSORTIUM_ADDRESS,
        }
