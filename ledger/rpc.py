"""A plain Ethereum JSON-RPC client bound to a city's own node, falling back to the others."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Any

import requests

from ledger.errors import NodeUnavailableError, RpcCallError

log = logging.getLogger("govchain.ledger")


class RpcClient:
    """Calls go to the first URL (the city's own node); when it does not answer, to the next ones.
    The own node is tried again after `retry_primary` seconds."""

    def __init__(self, urls: list[str], timeout: float = 10, retry_primary: float = 5) -> None:
        if not urls:
            raise ValueError("at least one node URL is needed")
        self.urls = list(urls)
        self.timeout = timeout
        self.retry_primary = retry_primary
        self._current = 0
        self._failed_primary_at = 0.0
        self._ids = itertools.count(1)
        self._local = threading.local()

    @property
    def current_url(self) -> str:
        return self.urls[self._current]

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def _order(self) -> list[int]:
        if self._current != 0 and time.monotonic() - self._failed_primary_at > self.retry_primary:
            self._current = 0
        return [self._current] + [i for i in range(len(self.urls)) if i != self._current]

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        body: dict[str, Any] = {
            "jsonrpc": "2.0",
            "id": next(self._ids),
            "method": method,
            "params": params or [],
        }
        last_error: Exception | None = None
        for index in self._order():
            url = self.urls[index]
            try:
                reply = self._session().post(url, json=body, timeout=self.timeout)
                answer = reply.json()
            except (requests.RequestException, ValueError) as exc:
                last_error = exc
                if index == 0:
                    self._failed_primary_at = time.monotonic()
                log.warning("node %s did not answer %s: %s", url, method, type(exc).__name__)
                continue
            if index != self._current:
                log.warning("using node %s", url)
                self._current = index
            if "error" in answer:
                error = answer["error"]
                raise RpcCallError(
                    method, int(error.get("code", 0)), str(error.get("message")), error.get("data")
                )
            return answer.get("result")
        raise NodeUnavailableError(f"no node answered {method}: {last_error}")
