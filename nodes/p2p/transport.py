"""Peer connections: TLS 1.3 with mutual authentication, length-prefixed frames.

Both sides present a certificate of the consortium CA; after the handshake each side checks the
other's certificate fingerprint against the Consortium contract and closes the connection at
once if it is not allowed, before reading or sending any application data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from nodes.p2p.pki import fingerprint_of_der

log = logging.getLogger("govchain.p2p")
MAX_FRAME = 32 * 1024 * 1024
HEADER = 5  # 4-byte length, 1-byte type


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    cert: Path
    key: Path


def server_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(files.ca_cert))
    context.load_cert_chain(str(files.cert), str(files.key))
    return context


def client_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False  # peers are identified by certificate fingerprint, not by name
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(files.ca_cert))
    context.load_cert_chain(str(files.cert), str(files.key))
    return context


class Connection:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, fingerprint: bytes, outbound: bool
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.fingerprint = fingerprint
        self.outbound = outbound
        self.address = writer.get_extra_info("peername")
        self._send_lock = asyncio.Lock()
        self.closed = False

    async def send(self, kind: int, payload: bytes) -> None:
        if self.closed:
            return
        frame = (len(payload) + 1).to_bytes(4, "big") + bytes([kind]) + payload
        async with self._send_lock:
            try:
                self.writer.write(frame)
                await self.writer.drain()
            except (ConnectionError, OSError):
                await self.close()

    async def receive(self) -> tuple[int, bytes]:
        header = await self.reader.readexactly(HEADER)
        length = int.from_bytes(header[:4], "big")
        if not 1 <= length <= MAX_FRAME:
            raise ConnectionError(f"frame length {length} out of bounds")
        payload = await self.reader.readexactly(length - 1)
        return header[4], payload

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.writer.close()
        with contextlib.suppress(TimeoutError, ConnectionError, OSError, ssl.SSLError):
            await asyncio.wait_for(self.writer.wait_closed(), 2)


Authorize = Callable[[bytes], Awaitable[bool]]
OnConnection = Callable[[Connection], Awaitable[None]]


async def _accept_peer(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, authorize: Authorize, outbound: bool
) -> Connection | None:
    ssl_object = writer.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    peer = writer.get_extra_info("peername")
    if der is None:
        log.warning("refused peer %s: no client certificate", peer)
        writer.close()
        return None
    fp = fingerprint_of_der(der)
    if not await authorize(fp):
        log.warning("refused peer %s: certificate %s is not allowed by the Consortium", peer, fp.hex())
        writer.close()
        return None
    return Connection(reader, writer, fp, outbound)


async def listen(
    host: str, port: int, files: TlsFiles, authorize: Authorize, on_connection: OnConnection
) -> asyncio.Server:
    context = server_context(files)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = await _accept_peer(reader, writer, authorize, outbound=False)
        if connection is not None:
            await on_connection(connection)

    return await asyncio.start_server(handle, host, port, ssl=context, ssl_handshake_timeout=10)


async def dial(
    host: str, port: int, files: TlsFiles, authorize: Authorize, timeout: float = 5
) -> Connection | None:
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=client_context(files), ssl_handshake_timeout=timeout),
            timeout,
        )
    except (TimeoutError, ConnectionError, OSError, ssl.SSLError) as exc:
        log.debug("could not reach peer %s:%d: %s", host, port, exc)
        return None
    return await _accept_peer(reader, writer, authorize, outbound=True)
