"""HTTP and WebSocket JSON-RPC servers (Starlette on uvicorn), and eth_subscribe."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from typing import Any

from anyio import to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from nodes.chain.chain import Block
from nodes.metrics import CONTENT_TYPE, NodeMetrics
from nodes.node import Node
from nodes.rpc import params as p
from nodes.rpc.api import Api
from nodes.rpc.dispatch import handle_payload
from nodes.rpc.errors import INVALID_REQUEST, RpcError, invalid_params
from nodes.rpc.format import format_header
from nodes.rpc.logs import LogFilter, parse_filter
from nodes.status import node_status, render_status_page

log = logging.getLogger("govchain.rpc")
_subscription_ids = itertools.count(1)


async def _read_limited(request: Request, limit: int) -> bytes | None:
    if int(request.headers.get("content-length") or 0) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


def _too_large(limit: int) -> JSONResponse:
    error = RpcError(INVALID_REQUEST, f"request too large: at most {limit} bytes")
    return JSONResponse({"jsonrpc": "2.0", "id": None, "error": error.to_json()}, status_code=413)


def http_app(node: Node, api: Api, metrics: NodeMetrics | None = None) -> Starlette:
    """JSON-RPC at POST /, plus GET /health, GET /status (HTML) and GET /metrics (Prometheus)."""
    limit = node.config.max_request_bytes

    async def rpc(request: Request) -> Response:
        body = await _read_limited(request, limit)
        if body is None:
            return _too_large(limit)
        result = await to_thread.run_sync(handle_payload, api.handle, body, node.config.max_batch_requests)
        if result is None:
            return Response(status_code=204)
        return JSONResponse(result)

    async def health(_: Request) -> Response:
        head = node.chain.head
        return JSONResponse({"name": node.config.name, "head": head.number, "hash": "0x" + head.hash.hex()})

    async def status(_: Request) -> Response:
        return HTMLResponse(render_status_page(await to_thread.run_sync(node_status, node)))

    async def prometheus(_: Request) -> Response:
        if metrics is None:
            return Response("metrics are off\n", status_code=404, media_type="text/plain")
        return Response(await to_thread.run_sync(metrics.render), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[
            Route("/", rpc, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/status", status, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
        ]
    )


class Subscriptions:
    """The eth_subscribe subscriptions of one WebSocket connection."""

    def __init__(self, api: Api, loop: asyncio.AbstractEventLoop) -> None:
        self.api = api
        self.loop = loop
        self.queue: asyncio.Queue[Block] = asyncio.Queue(maxsize=1000)
        self.active: dict[str, tuple[str, LogFilter | None]] = {}

    def on_block(self, block: Block) -> None:  # called from the block producer's thread
        self.loop.call_soon_threadsafe(self._enqueue, block)

    def _enqueue(self, block: Block) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # a slow client loses the oldest notification, never the node
        self.queue.put_nowait(block)

    def handle(self, method: str, params: Any) -> Any:
        if method == "eth_subscribe":
            kind, filter_raw = p.positional(params, 1, 2)
            if kind == "newHeads":
                log_filter = None
            elif kind == "logs":
                log_filter = parse_filter(p.obj(filter_raw or {}, "filter"))
            else:
                raise invalid_params(f"unsupported subscription {kind!r} (newHeads, logs)")
            sub_id = hex(next(_subscription_ids) * 0x9E3779B1 % 2**64)
            self.active[sub_id] = (kind, log_filter)
            return sub_id
        if method == "eth_unsubscribe":
            (sub_id,) = p.positional(params, 1, 1)
            return self.active.pop(str(sub_id), None) is not None
        return self.api.handle(method, params)

    def notifications(self, block: Block) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for sub_id, (kind, log_filter) in list(self.active.items()):
            if kind == "newHeads":
                results: list[Any] = [format_header(block)]
            else:
                assert log_filter is not None
                results = self.api.logs_of_block(block, log_filter)
            out.extend(
                {
                    "jsonrpc": "2.0",
                    "method": "eth_subscription",
                    "params": {"subscription": sub_id, "result": r},
                }
                for r in results
            )
        return out


def ws_app(node: Node, api: Api) -> Starlette:
    limit = node.config.max_request_bytes

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        subs = Subscriptions(api, asyncio.get_running_loop())
        node.add_block_listener(subs.on_block)
        pusher = asyncio.create_task(_push(websocket, subs))
        try:
            while True:
                message = await websocket.receive_text()
                if len(message) > limit:
                    error = RpcError(INVALID_REQUEST, f"request too large: at most {limit} bytes")
                    await websocket.send_text(
                        json.dumps({"jsonrpc": "2.0", "id": None, "error": error.to_json()})
                    )
                    continue
                result = await to_thread.run_sync(
                    handle_payload, subs.handle, message, node.config.max_batch_requests
                )
                if result is not None:
                    await websocket.send_text(json.dumps(result))
        except WebSocketDisconnect:
            pass
        finally:
            node.remove_block_listener(subs.on_block)
            pusher.cancel()

    return Starlette(routes=[WebSocketRoute("/", endpoint)])


async def _push(websocket: WebSocket, subs: Subscriptions) -> None:
    while True:
        block = await subs.queue.get()
        for notification in await to_thread.run_sync(subs.notifications, block):
            await websocket.send_text(json.dumps(notification))
