"""Starting and stopping real node processes for tests (loopback only, free ports)."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devnet.network import PORTS_PER_NODE, DevnetOptions, down, up


def free_port_block(size: int) -> int:
    """A base port such that base .. base+size-1 are free on 127.0.0.1 right now.

    Picked below the kernel's ephemeral range (32768-60999 here): a port from that range that a
    killed node leaves free can be taken at once by any outgoing connection's local end, and the
    node could not listen on it again when the test restarts it."""
    low, high = 10_000, _ephemeral_start() - size
    rng = random.Random()  # spreads parallel runs apart
    for _ in range(200):
        base = rng.randrange(low, high)
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


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


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
