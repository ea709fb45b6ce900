"""Free loopback ports for devnets: a node needs three (RPC, WebSocket, peers) and each service one.

Ports are picked below the kernel's ephemeral range (32768-60999 on Linux by default): a port from
that range that a killed node leaves free can be taken at once by any outgoing connection's local
end, and the node could not listen on it again when it is restarted."""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 10_000


def ports_free(base: int, size: int) -> bool:
    """Whether base .. base+size-1 can all be bound on 127.0.0.1 right now."""
    sockets = []
    try:
        for offset in range(size):
            s = socket.socket()
            sockets.append(s)
            s.bind(("127.0.0.1", base + offset))
        return True
    except OSError:
        return False
    finally:
        for s in sockets:
            s.close()


def free_port_block(size: int) -> int:
    """A random base port whose `size` ports are free (spreads parallel test runs apart)."""
    rng = random.Random()  # noqa: S311 - picks ports, nothing secret
    for _ in range(200):
        base = rng.randrange(LOWEST, ephemeral_start() - size)
        if ports_free(base, size):
            return base
    raise RuntimeError(f"no free block of {size} ports")


def free_base_port(preferred: int, size: int, step: int = 50) -> int:
    """`preferred`, or the next multiple of `step` above it, whose `size` ports are all free."""
    for base in range(preferred, 64000 - size, step):
        if ports_free(base, size):
            return base
    raise RuntimeError(f"no free block of {size} ports above {preferred}")


def ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768
