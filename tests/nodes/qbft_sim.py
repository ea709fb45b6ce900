"""In-process QBFT network: real nodes (chain, store, pool) and drivers, a simulated wire and clock.

Each validator is a `Node` with its own SQLite store and a `QbftDriver`; messages travel through
`SimNetwork`, which can drop, delay or rewrite them, and time only moves when the test says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey

from devnet.keys import DEV_CITIES, CityKeys, dev_founding
from nodes.chain.chain import Block
from nodes.config import NodeConfig
from nodes.consensus.driver import QbftDriver
from nodes.genesis import make_genesis
from nodes.node import Node
from nodes.qbft.messages import Signed

# A filter sees (sender index, receiver index, message) and returns the message to deliver or None.
WireFilter = Callable[[int, int, Signed], Signed | None]


@dataclass
class SimValidator:
    index: int
    account: LocalAccount
    node: Node
    driver: QbftDriver
    online: bool = True


@dataclass
class SimNetwork:
    validators: list[SimValidator] = field(default_factory=list)
    filters: list[WireFilter] = field(default_factory=list)
    now: float = 0.0
    sent: list[tuple[int, Signed]] = field(default_factory=list)
    decided: dict[int, list[int]] = field(default_factory=dict)  # validator -> heights it decided itself

    def announce_from(self, sender: int) -> Callable[[Block], None]:
        """Like the NEW_BLOCK frame: peers one block behind import the sealed block."""

        def announce(block: Block) -> None:
            self.decided.setdefault(sender, []).append(block.number)
            for v in self.validators:
                if v.index != sender and v.online and v.node.chain.head.number == block.number - 1:
                    v.node.import_block(block)

        return announce

    def send_from(self, sender: int) -> Callable[[Signed], None]:
        def send(message: Signed) -> None:
            if not self.validators[sender].online:
                return
            self.sent.append((sender, message))
            for receiver in self.validators:
                if receiver.index == sender or not receiver.online:
                    continue
                delivered: Signed | None = message
                for wire_filter in self.filters:
                    if delivered is None:
                        break
                    delivered = wire_filter(sender, receiver.index, delivered)
                if delivered is not None:
                    receiver.driver.deliver(delivered.encode())

        return send

    def settle(self, rounds: int = 200) -> None:
        """Lets every online validator process its inbox and timers at the current time."""
        for _ in range(rounds):
            busy = False
            for v in self.validators:
                if not v.online:
                    continue
                if not v.driver.inbox.empty():
                    busy = True
                v.driver.step(self.now, wait=0)
            if not busy:
                return

    def run(self, seconds: float, tick: float = 0.25) -> None:
        end = self.now + seconds
        while self.now < end:
            self.now += tick
            self.settle()

    def run_until(self, height: int, limit: float = 120, tick: float = 0.25) -> float:
        """Advances time until every online validator has `height`; returns the time it took."""
        start = self.now
        while any(v.online and v.node.chain.head.number < height for v in self.validators):
            if self.now - start > limit:
                raise AssertionError(f"height {height} not reached in {limit} simulated seconds")
            self.now += tick
            self.settle()
        return self.now - start

    def heads(self) -> set[bytes]:
        return {v.node.chain.head.hash for v in self.validators if v.online}

    def close(self) -> None:
        for v in self.validators:
            v.node.close()


def build_network(tmp: Path, count: int, request_timeout: float = 2, heartbeat: float = 1) -> SimNetwork:
    cities = tuple(CityKeys.derive(c) for c in DEV_CITIES[:count])
    genesis_time = int(time.time()) - 1000
    genesis = make_genesis(
        4242,
        dev_founding(cities, genesis_time + 10**8),
        [c.validator.address for c in cities],
        genesis_time,
        block_period=1,
        empty_block_period=heartbeat,
        request_timeout=request_timeout,
    )
    genesis_path = tmp / "genesis.json"
    genesis.write(genesis_path)
    network = SimNetwork(now=float(genesis_time + 10))
    for index, city in enumerate(cities):
        config = NodeConfig(name=city.city, data_dir=tmp / city.city, genesis=genesis_path, devnet=True,
                            rpc_port=20000 + 2 * index, ws_port=20001 + 2 * index)  # fmt: skip
        node = Node(config, genesis)
        driver = QbftDriver(node, PrivateKey(city.validator.key), send=network.send_from(index))
        driver.on_commit = network.announce_from(index)
        network.validators.append(SimValidator(index, city.validator, node, driver))
    return network
