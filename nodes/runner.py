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
from nodes.consensus.solo import SoloValidator
from nodes.genesis import Genesis
from nodes.node import Node
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
    producer: threading.Thread | None = None
    validators = node.chain.head.extra.validators
    if key is not None:
        address = key.public_key.to_canonical_address()
        if validators == (address,):
            producer = threading.Thread(
                target=SoloValidator(node, key).run, args=(stop,), name="consensus", daemon=True
            )
            producer.start()
        else:
            log.warning(
                "validator key 0x%s is not this network's sole validator: not producing", address.hex()
            )
    log.info("node %s: chain %d at block %d", config.name, genesis.chain_id, node.chain.head.number)
    try:
        asyncio.run(_serve(node, config))
    finally:
        stop.set()
        if producer is not None:
            producer.join(timeout=10)
        node.close()


class _Server(uvicorn.Server):
    """Two servers share one process; the runner, not each server, owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def _serve(node: Node, config: NodeConfig) -> None:
    api = Api(node)
    servers = [
        _Server(
            uvicorn.Config(
                http_app(node, api), host=config.rpc_host, port=config.rpc_port, log_level="warning"
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
    await asyncio.gather(*(server.serve() for server in servers))
