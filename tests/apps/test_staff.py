"""Who may read and erase: the search, the totals and the erasure need a staff member's personal
token with the right role; the intake (scales sign) and the status and proof of a record (a
random 32-byte id, no personal data) stay open. Tokens are kept hashed and count at once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
import requests

from apps.weighing.staff import StaffRole, issue_token, withdraw_token
from ledger.records import salted_ref
from tests.apps.conftest import TIMEOUT, Weighbridge, assert_error, rid

STAFF_ROUTES = [
    ("get", "/v1/weighings", StaffRole.READER),
    ("get", "/v1/totals", StaffRole.READER),
    ("get", "/v1/totals?format=csv", StaffRole.READER),
    ("delete", "/v1/subjects/0x" + "ab" * 32, StaffRole.PRIVACY),
]


def _call(bridge: Weighbridge, method: str, path: str, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.request(method, f"{bridge.url}{path}", headers=headers, timeout=TIMEOUT)


@pytest.fixture
def staff(weighbridge: Weighbridge) -> Iterator[dict[str, str]]:
    """One token per role, withdrawn again after the test."""
    tokens = {
        "reader": issue_token(weighbridge.staff_tokens, "test-billing", {StaffRole.READER}),
        "privacy": issue_token(weighbridge.staff_tokens, "test-dpo", {StaffRole.PRIVACY}),
    }
    yield tokens
    withdraw_token(weighbridge.staff_tokens, "test-billing")
    withdraw_token(weighbridge.staff_tokens, "test-dpo")


@pytest.mark.parametrize(("method", "path", "role"), STAFF_ROUTES)
def test_staff_routes_refuse_requests_without_a_valid_token(
    weighbridge: Weighbridge, method: str, path: str, role: StaffRole
) -> None:
    for token in (None, "gcw_not-a-token", weighbridge.staff_token + "x", ""):
        reply = _call(weighbridge, method, path, token)
        assert_error(reply, 401, "unauthenticated", "Authorization")
        assert reply.headers["WWW-Authenticate"] == "Bearer"
    basic = requests.request(
        method, f"{weighbridge.url}{path}", auth=("staff", weighbridge.staff_token), timeout=TIMEOUT
    )
    assert_error(basic, 401, "unauthenticated", "Authorization")


@pytest.mark.parametrize(("method", "path", "role"), STAFF_ROUTES)
def test_staff_routes_need_their_role(
    weighbridge: Weighbridge, staff: dict[str, str], method: str, path: str, role: StaffRole
) -> None:
    own = staff[role.value]
    other = staff["privacy" if role is StaffRole.READER else "reader"]
    assert_error(_call(weighbridge, method, path, other), 403, "forbidden", "Authorization")
    assert _call(weighbridge, method, path, own).status_code in (200, 404)  # 404: nothing to erase


def test_scales_and_record_holders_need_no_token(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    posted = requests.post(
        f"{weighbridge.url}/v1/weighings", json=weighbridge.body(record, scale.key), timeout=TIMEOUT
    )
    assert posted.status_code == 202
    weighbridge.wait_state(rid(record))
    for path in (f"/v1/weighings/{rid(record)}", f"/v1/weighings/{rid(record)}/proof"):
        assert _call(weighbridge, "get", path, None).status_code == 200


def test_a_withdrawn_token_stops_working_at_once(weighbridge: Weighbridge) -> None:
    token = issue_token(weighbridge.staff_tokens, "test-temp", {StaffRole.READER})
    assert _call(weighbridge, "get", "/v1/weighings", token).status_code == 200
    assert withdraw_token(weighbridge.staff_tokens, "test-temp")
    assert_error(_call(weighbridge, "get", "/v1/weighings", token), 401, "unauthenticated", "Authorization")
    assert not withdraw_token(weighbridge.staff_tokens, "test-temp")


def test_reissuing_a_token_replaces_the_old_one(weighbridge: Weighbridge) -> None:
    first = issue_token(weighbridge.staff_tokens, "test-reissue", {StaffRole.READER})
    second = issue_token(weighbridge.staff_tokens, "test-reissue", {StaffRole.READER})
    try:
        assert _call(weighbridge, "get", "/v1/weighings", second).status_code == 200
        assert _call(weighbridge, "get", "/v1/weighings", first).status_code == 401
    finally:
        withdraw_token(weighbridge.staff_tokens, "test-reissue")


def test_the_tokens_file_keeps_no_token_in_clear(weighbridge: Weighbridge, staff: dict[str, str]) -> None:
    text = weighbridge.staff_tokens.read_text()
    for token in (*staff.values(), weighbridge.staff_token):
        assert token not in text
        assert token.removeprefix("gcw_") not in text
    assert weighbridge.staff_tokens.stat().st_mode & 0o077 == 0


def test_an_unreadable_tokens_file_lets_nobody_in(weighbridge: Weighbridge) -> None:
    original = weighbridge.staff_tokens.read_text()
    try:
        weighbridge.staff_tokens.write_text("{not json")
        reply = _call(weighbridge, "get", "/v1/weighings", weighbridge.staff_token)
        assert_error(reply, 401, "unauthenticated", "Authorization")
    finally:
        weighbridge.staff_tokens.write_text(original)
    assert _call(weighbridge, "get", "/v1/weighings", weighbridge.staff_token).status_code == 200


def test_an_erasure_is_logged_with_who_and_never_the_clear_value(
    weighbridge: Weighbridge, staff: dict[str, str]
) -> None:
    scale = weighbridge.scale()
    plate = "AC-ER 4242"
    record = weighbridge.record(scale, vehicle_ref=salted_ref(weighbridge.salt, plate))
    weighbridge.accept(record, scale, {"vehicle": plate})
    ref = "0x" + record.vehicle_ref.hex()
    assert _call(weighbridge, "delete", f"/v1/subjects/{ref}", staff["privacy"]).status_code == 204
    with sqlite3.connect(weighbridge.store_path) as db:
        log = db.execute("SELECT ref, kind, erased_by FROM erasures WHERE ref = ?", (ref,)).fetchall()
        dump = "\n".join(db.iterdump())
    assert log == [(ref, "vehicle", "test-dpo")]
    assert plate not in dump
