"""What every group of JSON-RPC methods shares: the registration decorator and block lookup."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from nodes.chain.chain import Block
from nodes.errors import NodeError
from nodes.node import Node
from nodes.rpc import params as p
from nodes.rpc.errors import RESOURCE_NOT_FOUND, RpcError, to_rpc_error
from nodes.rpc.format import d

RPC_NAME = "_rpc_name"
Handler = Callable[[Any], Any]
F = TypeVar("F", bound=Callable[..., Any])


def rpc(name: str) -> Callable[[F], F]:
    """Marks a method as the handler of the JSON-RPC method `name`."""

    def mark(method: F) -> F:
        setattr(method, RPC_NAME, name)
        return method

    return mark


class ApiBase:
    """Collects the @rpc methods of the subclasses into `methods`."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.chain = node.chain
        self.methods: dict[str, Handler] = {}
        for attribute in dir(type(self)):
            method_name = getattr(getattr(type(self), attribute), RPC_NAME, None)
            if method_name is None or (method_name.startswith("evm_") and not node.config.devnet):
                continue  # the evm_ methods move the clock: devnet only
            self.methods[method_name] = getattr(self, attribute)

    def handle(self, method: str, params: Any) -> Any:
        handler = self.methods.get(method)
        if handler is None:
            raise RpcError(-32601, f"the method {method} does not exist/is not available")
        try:
            return handler(params)
        except NodeError as exc:
            raise to_rpc_error(exc) from None

    # ------------------------------------------------------------ helpers

    def _block(self, ref: p.BlockRef) -> Block:
        head = self.chain.head
        if ref.hash is not None:
            block = self.chain.block_by_hash(ref.hash)
            if block is None:
                raise RpcError(RESOURCE_NOT_FOUND, f"block {d(ref.hash)} not found")
            return block
        if ref.tag == "earliest":
            return self.chain.block(0)
        if ref.tag is not None:  # latest, pending, safe, finalized: every committed block is final
            return head
        assert ref.number is not None
        if ref.number > head.number:
            raise RpcError(RESOURCE_NOT_FOUND, f"block {ref.number} not found (head is {head.number})")
        return self.chain.block(ref.number)

    def _maybe_block(self, ref: p.BlockRef) -> Block | None:
        try:
            return self._block(ref)
        except RpcError as exc:
            if exc.code == RESOURCE_NOT_FOUND:
                return None
            raise
