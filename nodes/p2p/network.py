"""The node's peer-to-peer protocol: hello, consensus messages, transaction gossip, block sync.

Frames (after TLS): HELLO [chainId, genesisHash, headNumber, name] · QBFT <signed message> ·
TX <raw transaction> · GET_BLOCKS [first, count] · BLOCKS [block, ...] · NEW_BLOCK <sealed block>.
A block from a peer is imported only after its seals and re-execution check out, so a lying
peer can waste our time but never make us accept a wrong block; it is disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import rlp
from anyio import to_thread
from cryptography import x509

from nodes.chain.chain import Block
from nodes.errors import InvalidBlockError, NodeError
from nodes.node import Node
from nodes.p2p.pki import fingerprint
from nodes.p2p.transport import Connection, TlsFiles, dial, listen

log = logging.getLogger("govchain.p2p")
HELLO, QBFT, TX, GET_BLOCKS, BLOCKS, NEW_BLOCK = range(6)
SYNC_BATCH = 64
BAN_SECONDS = 60
SYNC_TIMEOUT = 10
REVALIDATE_SECONDS = 2


def _int(value: bytes) -> int:
    return int.from_bytes(value, "big")


class P2PNetwork:
    def __init__(
        self,
        node: Node,
        host: str,
        port: int,
        peers: list[str],
        files: TlsFiles,
        on_consensus: Callable[[bytes], None] = lambda _: None,
    ) -> None:
        self.node = node
        self.host = host
        self.port = port
        self.peer_addresses = peers
        self.files = files
        self.on_consensus = on_consensus
        self.connections: dict[bytes, Connection] = {}
        self.peer_heads: dict[bytes, int] = {}
        self.peer_names: dict[bytes, str] = {}  # as each peer names itself in its HELLO
        self.banned: dict[bytes, float] = {}
        self.own_fingerprint = b""
        self._by_address: dict[str, Connection] = {}
        self._syncing = False
        self._sync_started = 0.0
        self._last_revalidation = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.own_fingerprint = fingerprint(x509.load_pem_x509_certificate(self.files.cert.read_bytes()))
        self._loop = asyncio.get_running_loop()
        self._server = await listen(self.host, self.port, self.files, self.authorize, self._serve)
        self._spawn(self._dial_loop())
        self._spawn(self._sync_loop())
        log.info(
            "p2p listening on %s:%d, peers %s", self.host, self.port, ", ".join(self.peer_addresses) or "-"
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for connection in list(self.connections.values()):
            await connection.close()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------- authorization

    async def authorize(self, fingerprint: bytes) -> bool:
        if self.banned.get(fingerprint, 0) > time.monotonic():
            return False
        return bool(await to_thread.run_sync(self.node.node_allowed, fingerprint))

    def revalidate_soon(self) -> None:
        """Thread-safe; after a block, at most every few seconds."""
        now = time.monotonic()
        if self._loop is None or now - self._last_revalidation < REVALIDATE_SECONDS:
            return
        self._last_revalidation = now
        self._loop.call_soon_threadsafe(lambda: self._spawn(self.revalidate_peers()))

    async def revalidate_peers(self) -> None:
        """Disconnects peers whose certificate the Consortium no longer allows."""
        for fp, connection in list(self.connections.items()):
            if not await self.authorize(fp):
                log.warning("disconnecting peer %s: its certificate is no longer allowed", fp.hex()[:16])
                await connection.close()

    def peer_name_list(self) -> list[str]:
        """Thread-safe enough for a status page: a snapshot of the connected peers' names."""
        return [self.peer_names.get(fp, fp.hex()[:16]) for fp in list(self.connections)]

    # -------------------------------------------------------------- sending

    def broadcast(self, kind: int, payload: bytes) -> None:
        """Thread-safe: sends a frame to every connected peer."""
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(lambda: self._spawn(self._broadcast(kind, payload)))

    async def _broadcast(self, kind: int, payload: bytes) -> None:
        for connection in list(self.connections.values()):
            await connection.send(kind, payload)

    # ----------------------------------------------------------- connections

    async def _dial_loop(self) -> None:
        while True:
            for address in self.peer_addresses:
                existing = self._by_address.get(address)
                if existing is not None and not existing.closed:
                    continue
                host, _, port = address.rpartition(":")
                connection = await dial(host, int(port), self.files, self.authorize)
                if connection is not None:
                    self._by_address[address] = connection
                    self._spawn(self._serve(connection))
            await asyncio.sleep(1)

    def _keep(self, connection: Connection) -> bool:
        """One connection per peer: of two, keep the one dialled by the lower fingerprint."""
        existing = self.connections.get(connection.fingerprint)
        if existing is None or existing.closed:
            return True
        dialer_is_lower = (self.own_fingerprint < connection.fingerprint) == connection.outbound
        return dialer_is_lower

    async def _serve(self, connection: Connection) -> None:
        fp = connection.fingerprint
        if fp == self.own_fingerprint or not self._keep(connection):
            await connection.close()
            return
        previous = self.connections.get(fp)
        self.connections[fp] = connection
        if previous is not None and previous is not connection:
            await previous.close()
        try:
            await connection.send(HELLO, self._hello())
            while not connection.closed:
                kind, payload = await connection.receive()
                await self._handle(connection, kind, payload)
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            log.debug("peer %s gone: %s", fp.hex()[:16], exc)
        except Exception:
            log.exception("peer %s: protocol error", fp.hex()[:16])
        finally:
            await connection.close()
            if self.connections.get(fp) is connection:
                del self.connections[fp]
                self.peer_heads.pop(fp, None)
                self.peer_names.pop(fp, None)

    def _hello(self) -> bytes:
        head = self.node.chain.head
        genesis = self.node.chain.block(0)
        return bytes(
            rlp.encode([self.node.chain.chain_id, genesis.hash, head.number, self.node.config.name.encode()])
        )

    # ------------------------------------------------------------ handling

    async def _handle(self, connection: Connection, kind: int, payload: bytes) -> None:
        if kind == HELLO:
            chain_id, genesis_hash, head, name = rlp.decode(payload)
            if _int(chain_id) != self.node.chain.chain_id or genesis_hash != self.node.chain.block(0).hash:
                log.warning("peer %s is on another chain: disconnecting", connection.fingerprint.hex()[:16])
                await connection.close()
                return
            if isinstance(name, bytes):
                self.peer_names[connection.fingerprint] = name.decode("utf-8", "replace")[:64]
            self._peer_head(connection, _int(head))
        elif kind == QBFT:
            self.on_consensus(payload)
        elif kind == TX:
            await to_thread.run_sync(self._add_remote_transaction, payload)
        elif kind == GET_BLOCKS:
            first, count = (_int(v) for v in rlp.decode(payload))
            blocks = await to_thread.run_sync(self._blocks, first, min(count, SYNC_BATCH))
            await connection.send(BLOCKS, bytes(rlp.encode(blocks)))
        elif kind == BLOCKS:
            await self._import(connection, [Block.decode(raw) for raw in rlp.decode(payload)])
        elif kind == NEW_BLOCK:
            block = Block.decode(payload)
            self._peer_head(connection, block.number)
            if block.number == self.node.chain.head.number + 1:
                await self._import(connection, [block])

    def _add_remote_transaction(self, raw: bytes) -> None:
        with contextlib.suppress(NodeError):  # known, or refused: the sender's node told its client
            self.node.send_raw_transaction(raw, gossip=False)

    def _blocks(self, first: int, count: int) -> list[bytes]:
        head = self.node.chain.head.number
        return [self.node.chain.block(n).encode() for n in range(first, min(head, first + count - 1) + 1)]

    # ----------------------------------------------------------------- sync

    def _peer_head(self, connection: Connection, head: int) -> None:
        fp = connection.fingerprint
        self.peer_heads[fp] = max(head, self.peer_heads.get(fp, 0))
        self._maybe_sync()

    def _maybe_sync(self) -> None:
        if self._syncing and time.monotonic() - self._sync_started < SYNC_TIMEOUT:
            return
        ours = self.node.chain.head.number
        behind = [
            (head, fp) for fp, head in self.peer_heads.items() if head > ours and fp in self.connections
        ]
        if not behind:
            self._syncing = False
            return
        _, fp = max(behind)
        self._syncing = True
        self._sync_started = time.monotonic()
        request = bytes(rlp.encode([ours + 1, SYNC_BATCH]))
        self._spawn(self.connections[fp].send(GET_BLOCKS, request))

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(2)
            self._maybe_sync()

    async def _import(self, connection: Connection, blocks: list[Block]) -> None:
        imported = 0
        for block in blocks:
            if block.number <= self.node.chain.head.number:
                continue
            try:
                await to_thread.run_sync(self.node.import_block, block)
                imported += 1
            except InvalidBlockError as exc:
                if block.number == self.node.chain.head.number + 1:
                    log.warning(
                        "peer %s sent an invalid block: %s; disconnecting",
                        connection.fingerprint.hex()[:16],
                        exc,
                    )
                    self.banned[connection.fingerprint] = time.monotonic() + BAN_SECONDS
                    await connection.close()
                break
        self._syncing = False
        if imported:
            self._maybe_sync()
