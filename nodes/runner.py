"""`govchain node run`: one node process — store, consensus thread, HTTP and WebSocket JSON-RPC."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Generator
from pathlib import Path

import uvicorn

from nodes.config import NodeConfig
from nodes.consensus.driver import QbftDriver
from nodes.genesis import Genesis
from nodes.metrics import NodeMetrics
from nodes.node import Node
from nodes.p2p.network import NEW_BLOCK, QBFT, TX, P2PNetwork
from nodes.p2p.transport import TlsFiles
from nodes.rpc.api import Api
from nodes.rpc.server import http_app, ws_app

log = logging.getLogger("govchain.node")


def run_node(config_path: Path) -> None:
    config = NodeConfig.load(config_path)
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s {config.name} %(levelname)s %(name)s: %(message)s",
    )
    genesis = Genesis.load(config.genesis)
    node = Node(config, genesis)
    key = config.validator_key()
    stop = threading.Event()
    driver = QbftDriver(node, key) if key is not None else None
    if driver is not None:
        node.validator_address = driver.address
        node.round_changes = driver.total_round_changes
    metrics = NodeMetrics(node)
    network = _network(node, config, driver)
    consensus: threading.Thread | None = None
    if driver is not None:
        consensus = threading.Thread(target=driver.run, args=(stop,), name="consensus", daemon=True)
        consensus.start()
    log.info("node %s: chain %d at block %d", config.name, genesis.chain_id, node.chain.head.number)
    try:
        asyncio.run(_serve(node, config, network, metrics))
    finally:
        stop.set()
        if consensus is not None:
            consensus.join(timeout=10)
        node.close()


def _network(node: Node, config: NodeConfig, driver: QbftDriver | None) -> P2PNetwork | None:
    if config.p2p_port is None:
        return None
    assert config.tls_ca_cert and config.tls_cert and config.tls_key
    network = P2PNetwork(
        node,
        config.p2p_host,
        config.p2p_port,
        config.peers,
        TlsFiles(config.tls_ca_cert, config.tls_cert, config.tls_key),
    )
    node.on_new_transaction = lambda raw: network.broadcast(TX, raw)
    node.peer_count = lambda: len(network.connections)
    node.peer_names = network.peer_name_list
    node.add_block_listener(lambda _: network.revalidate_soon())
    if driver is not None:
        driver.send = lambda message: network.broadcast(QBFT, message.encode())
        driver.on_commit = lambda block: network.broadcast(NEW_BLOCK, block.encode())
        network.on_consensus = driver.deliver
    return network


class _Server(uvicorn.Server):
    """Two servers share one process; the runner, not each server, owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def _serve(node: Node, config: NodeConfig, network: P2PNetwork | None, metrics: NodeMetrics) -> None:
    api = Api(node)
    if network is not None:
        await network.start()
    servers = [
        _Server(
            uvicorn.Config(
                http_app(node, api, metrics), host=config.rpc_host, port=config.rpc_port, log_level="warning"
            )
        ),
        _Server(
            uvicorn.Config(
                ws_app(node, api),
                host=config.rpc_host,
                port=config.ws_port,
                log_level="warning",
                ws_max_size=config.max_request_bytes,
            )
        ),
    ]
    loop = asyncio.get_running_loop()

    def shutdown() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, shutdown)
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        if network is not None:
            await network.stop()
