"""Starting and stopping real node processes for tests (loopback only, free ports)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devnet.network import PORTS_PER_NODE, DevnetOptions, down, up


def free_port_block(size: int) -> int:
    """A base port such that base .. base+size-1 are free on 127.0.0.1 right now."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + size >= 65000:
            continue
        sockets = []
        try:
            for offset in range(size):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free block of ports")


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
        base_port=free_port_block(PORTS_PER_NODE * nodes + 1),  # + the weighing service
    )
    try:
        yield up(options)
    finally:
        if (data_dir / "devnet.json").exists():
            down(data_dir)
