"""The steady load of a chaos run: scales posting signed weighings to the weighing service, and a
clerk attesting documents through the registry service. Each resends what was not answered (as
real scales and clerks' software do) and keeps what the service acknowledged."""

from __future__ import annotations

import os
import threading
from typing import Any

import requests

from apps.registry.client import RegistryClient, RegistryClientError
from apps.weighing.simulator import ensure_scales
from devnet.keys import dev_account
from devnet.samples import sample_weighing
from ledger.records import Attestation, Weighing, domain_for

SCALES = 6
HTTP_TIMEOUT = 10


class Load:
    def __init__(self, name: str, rate: float) -> None:
        self.rate = rate
        self.posted = 0
        self.acknowledged: dict[str, None] = {}  # in order, each once
        self.refused: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(HTTP_TIMEOUT * 3)

    def _run(self) -> None:
        while not self._stop.wait(1 / self.rate):
            self.posted += 1
            self.once()

    def once(self) -> None:
        raise NotImplementedError


class ScaleLoad(Load):
    """Scales that post at a steady total rate; a scale resends its current record until the
    service acknowledges it (as a real scale with a per-device counter does), then moves on."""

    def __init__(self, description: dict[str, Any], rate: float) -> None:
        super().__init__("chaos-scales", rate)
        self.url = str(description["apps"]["weighing"])
        self.scales = ensure_scales(description, "aachen", SCALES)
        contracts = description["contracts"]
        self.domain = domain_for(Weighing, description["chainId"], contracts["weighing"])
        self.next_seq = {s.address: 1 for s in self.scales}
        self.current: dict[str, tuple[str, dict[str, Any]]] = {}
        self.index = 0
        self.http = requests.Session()

    def once(self) -> None:
        scale = self.scales[self.index % len(self.scales)]
        self.index += 1
        if scale.address not in self.current:
            record = sample_weighing(scale.address, self.next_seq[scale.address])
            signature = "0x" + record.sign(self.domain, scale.key).hex()
            body: dict[str, Any] = {"record": record.to_json(), "signature": signature}
            self.current[scale.address] = ("0x" + record.record_id.hex(), body)
        record_id, body = self.current[scale.address]
        try:
            reply = self.http.post(f"{self.url}/v1/weighings", json=body, timeout=HTTP_TIMEOUT)
        except requests.RequestException:
            return  # the service is down: resend later
        if reply.status_code in (200, 202):
            self.acknowledged[record_id] = None
            del self.current[scale.address]
            self.next_seq[scale.address] += 1
        elif reply.status_code < 500:
            self.refused.append(f"weighing {reply.status_code} {reply.text[:200]}")
            del self.current[scale.address]


class ClerkLoad(Load):
    """Aachen's clerk attests fresh documents through the registry service: a draft, then the
    clerk's signature; a signed attestation is resent until the service answers it."""

    def __init__(self, description: dict[str, Any], rate: float) -> None:
        super().__init__("chaos-clerk", rate)
        self.client = RegistryClient(str(description["apps"]["registry"]), dev_account("aachen", "clerk"))
        self.client.login()
        self.signed: Attestation | None = None

    def once(self) -> None:
        try:
            if self.signed is None:
                self.signed = self.client.draft(b"%PDF-1.7\n% chaos\n" + os.urandom(32))
            self.client.issue(self.signed)
        except requests.RequestException:
            return  # the service is down: the same attestation again later
        except RegistryClientError as exc:
            if exc.status >= 500:
                return
            self.refused.append(f"attestation {exc}")
            self.signed = None
            return
        self.acknowledged["0x" + self.signed.document_hash.hex()] = None
        self.signed = None
