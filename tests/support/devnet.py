"""Starting and stopping real node processes for tests (loopback only, free ports)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devnet.network import PORTS_PER_NODE, DevnetOptions, down, up
from devnet.ports import free_port_block

__all__ = ["free_port_block", "running_devnet"]


@contextmanager
def running_devnet(
    data_dir: Path,
    nodes: int = 1,
    members: int = 3,
    block_period: float = 0.1,
    empty_block_period: float = 5,
    request_timeout: float = 4,
) -> Iterator[dict[str, Any]]:
    options = DevnetOptions(
        data_dir=data_dir,
        nodes=nodes,
        members=members,
        block_period=block_period,
        empty_block_period=empty_block_period,
        request_timeout=request_timeout,
        base_port=free_port_block(PORTS_PER_NODE * nodes + 2),  # + the weighing and registry services
    )
    try:
        yield up(options)
    finally:
        if (data_dir / "devnet.json").exists():
            down(data_dir)
