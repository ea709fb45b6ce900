"""Schemathesis against the weighing service's own OpenAPI document (issue 10), with and without the
staff token: no 5xx, and no rejected request changes what the service holds."""

from __future__ import annotations

import sqlite3

from tests.apps.conftest import Weighbridge
from tests.support.openapi_campaign import run_openapi_campaign

EXAMPLES = 25  # per operation, generation mode and credential


COUNTS = (
    "SELECT COUNT(*) FROM weighings",
    "SELECT COUNT(*) FROM subjects",
    "SELECT COUNT(*) FROM erasures",
)


def _holdings(bridge: Weighbridge) -> tuple[int, ...]:
    with sqlite3.connect(bridge.store_path) as db:
        counts = [db.execute(query).fetchone()[0] for query in COUNTS]
    with sqlite3.connect(bridge.data_dir / "apps" / "weighing-aachen" / "outbox.sqlite") as db:
        counts.append(db.execute("SELECT COUNT(*) FROM items").fetchone()[0])
    return tuple(counts)


def test_schemathesis_finds_no_server_error_and_no_rejected_request_changes_anything(
    weighbridge: Weighbridge,
) -> None:
    before = _holdings(weighbridge)
    figures = run_openapi_campaign(
        "weighing service, schemathesis",
        weighbridge.url,
        {"anonymous": {}, "staff": {"Authorization": f"Bearer {weighbridge.staff_token}"}},
        lambda: _holdings(weighbridge),
        EXAMPLES,
    )
    assert figures.server_errors == []
    assert figures.state_changes == 0
    assert figures.tried >= 6 * 2 * 2 * 5  # six operations, two modes, two credentials
    # random bytes are never a valid scale signature nor a stored reference: nothing was accepted
    assert _holdings(weighbridge) == before
