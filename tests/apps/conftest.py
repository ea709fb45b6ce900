"""The app services under test: one devnet for the whole package (a node process and aachen's
weighing and registry service processes, as `devnet up` starts them) and a `Weighbridge` that talks
to the weighing service over HTTP. Every test takes fresh scales from a pool registered once, so seq
numbers never collide. The registry's tests (tests/apps/registry/) share the same devnet."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount

from apps.weighing.simulator import ensure_scales
from contracts.founding import Role
from devnet.keys import dev_account
from devnet.samples import sample_weighing
from ledger.connect import connect
from ledger.deploy import bind
from ledger.records import Domain, Weighing, domain_for
from tests.support.devnet import running_devnet

SCALES = 40  # registered at a time; tests take fresh ones
TIMEOUT = 30  # seconds, per HTTP request and per wait for finality
ERROR_KEYS = {"code", "message", "field"}


def rid(record: Weighing) -> str:
    """A record id as the service spells it (0x-hex, lower case)."""
    return "0x" + record.record_id.hex()


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Weighbridge:
    """The service under test plus what a scale needs to talk to it."""

    description: dict[str, Any]
    data_dir: Path
    domain: Domain
    salt: bytes
    scales: list[LocalAccount]
    session: requests.Session = field(default_factory=requests.Session)
    _next_scale: int = 0

    @property
    def url(self) -> str:
        return str(self.description["apps"]["weighing"])

    @property
    def rpc(self) -> str:
        return str(self.description["nodes"][0]["rpc"])

    @property
    def staff_tokens(self) -> Path:
        return self.data_dir / "apps" / "weighing-aachen" / "staff-tokens.json"

    @property
    def staff_token(self) -> str:
        return (self.data_dir / "apps" / "weighing-aachen-DEV-STAFF-TOKEN.txt").read_text().strip()

    @property
    def store_path(self) -> Path:
        return self.data_dir / "apps" / "weighing-aachen" / "weighings.sqlite"

    def scale(self) -> LocalAccount:
        """A registered aachen scale that no other test has used (its next seq is 1)."""
        if self._next_scale >= len(self.scales):  # register the next dev scales
            self.scales = ensure_scales(self.description, "aachen", len(self.scales) + SCALES)
        scale = self.scales[self._next_scale]
        self._next_scale += 1
        return scale

    def register_scale(self, calibration_valid_until: int) -> LocalAccount:
        """A new random key registered as a SCALE of aachen with the given calibration expiry."""
        scale: LocalAccount = Account.from_key(os.urandom(32))
        admin = dev_account("aachen", "admin")
        w3 = connect(self.rpc, [admin])
        consortium = bind(w3, "Consortium", self.description["contracts"]["consortium"])
        tx = consortium.functions.setAccount(
            scale.address, Role.SCALE, b"DE-M-TEST".ljust(32, b"\0"), calibration_valid_until
        ).transact({"from": admin.address, "gas": 300_000})
        assert w3.eth.wait_for_transaction_receipt(tx, timeout=TIMEOUT)["status"] == 1
        return scale

    # ------------------------------------------------------------ bodies

    def record(self, scale: LocalAccount, seq: int = 1, **overrides: Any) -> Weighing:
        return sample_weighing(scale.address, seq, **overrides)

    def signature(self, record: Weighing, key: bytes) -> str:
        return "0x" + record.sign(self.domain, key).hex()

    def body(self, record: Weighing, key: bytes, clear: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"record": record.to_json(), "signature": self.signature(record, key)}
        if clear is not None:
            body["clear"] = clear
        return body

    # ------------------------------------------------------------- HTTP

    def post(self, payload: Any) -> requests.Response:
        return self.session.post(f"{self.url}/v1/weighings", json=payload, timeout=TIMEOUT)

    def post_raw(self, data: bytes) -> requests.Response:
        return self.session.post(
            f"{self.url}/v1/weighings",
            data=data,
            headers={"Content-Type": "application/json"},
            timeout=TIMEOUT,
        )

    def submit(
        self, record: Weighing, scale: LocalAccount, clear: dict[str, Any] | None = None
    ) -> requests.Response:
        return self.post(self.body(record, scale.key, clear))

    def accept(
        self, record: Weighing, scale: LocalAccount, clear: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Posts a record that must be newly accepted (202); returns the answer."""
        reply = self.submit(record, scale, clear)
        assert reply.status_code == 202, reply.text
        answer: dict[str, Any] = reply.json()
        assert answer["recordId"] == rid(record)
        return answer

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.url}{path}", params=params, timeout=TIMEOUT)

    def status(self, record_id: str) -> requests.Response:
        return self.get(f"/v1/weighings/{record_id}")

    def outbox_total(self) -> int:
        reply = self.get("/health")
        assert reply.status_code == 200, reply.text
        counts: dict[str, int] = reply.json()["outbox"]
        return sum(counts.values())

    def wait_state(self, record_id: str, states: tuple[str, ...] = ("final",)) -> dict[str, Any]:
        """Polls the record's status until it is in `states`; fails after TIMEOUT seconds."""
        deadline = time.monotonic() + TIMEOUT
        last: Any = None
        while time.monotonic() < deadline:
            reply = self.status(record_id)
            assert reply.status_code == 200, reply.text
            last = reply.json()
            if last["status"] in states:
                answer: dict[str, Any] = last
                return answer
            assert last["status"] == "pending", last
            time.sleep(0.1)
        raise AssertionError(f"{record_id} is not {'/'.join(states)} after {TIMEOUT} s: {last}")

    def clear_value(self, ref: str) -> str | None:
        """The clear value the service keeps for a salted reference, read from its database."""
        with sqlite3.connect(f"file:{self.store_path}?mode=ro", uri=True) as db:
            row = db.execute("SELECT clear_value FROM subjects WHERE ref = ?", (ref,)).fetchone()
        return None if row is None else str(row[0])


def assert_error(
    reply: requests.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The service's error shape: exactly {"error": {"code", "message"[, "field"]}}."""
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    expected_keys = {"code", "message"} | ({"field"} if field is not None else set())
    assert set(error) == expected_keys, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    if field is not None:
        assert error["field"] == field, error
    return error


def assert_refused(
    wb: Weighbridge,
    payload: Any,
    status: int,
    code: str,
    field: str | None,
    record_ids: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Posts `payload`, expects the error, and that nothing changed: the outbox holds as many items
    as before and none of `record_ids` is known."""
    before = wb.outbox_total()
    error = assert_error(wb.post(payload), status, code, field)
    assert wb.outbox_total() == before
    for record_id in record_ids:
        assert_error(wb.status(record_id), 404, "not_found", "recordId")
    return error


def follow_up_is_accepted(wb: Weighbridge, scale: LocalAccount, seq: int = 1) -> None:
    """After a refusal, a valid record with the same seq is accepted without a gap: the refused
    record used up nothing."""
    answer = wb.accept(wb.record(scale, seq), scale)
    assert answer["status"] == "pending"
    assert answer["seqGap"] is False


@pytest.fixture(scope="session")
def apps_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """One devnet for the app tests: a node process with aachen's weighing and registry services."""
    data_dir = tmp_path_factory.mktemp("apps") / "devnet"
    with running_devnet(data_dir, nodes=1, members=3) as description:
        yield data_dir, description


@pytest.fixture(scope="session")
def weighbridge(apps_devnet: tuple[Path, dict[str, Any]]) -> Iterator[Weighbridge]:
    data_dir, description = apps_devnet
    scales = ensure_scales(description, "aachen", SCALES)
    salt = bytes.fromhex((data_dir / "gateways" / "aachen-salt.hex").read_text().strip())
    domain = domain_for(Weighing, description["chainId"], description["contracts"]["weighing"])
    bridge = Weighbridge(description, data_dir, domain, salt, scales)
    # the tests query as the devnet's staff member (reader and privacy); test_staff checks
    # what happens without a token or with the wrong role
    bridge.session.headers["Authorization"] = f"Bearer {bridge.staff_token}"
    yield bridge
    bridge.session.close()
