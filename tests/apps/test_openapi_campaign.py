"""Schemathesis against the weighing service's own OpenAPI document (issue 10): for every operation,
schema-valid and schema-violating requests, with and without the staff token, within a fixed
budget. No request may get a 5xx, and no rejected request may change what the service holds."""

from __future__ import annotations

import sqlite3
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from tests.apps.conftest import Weighbridge
from tests.support.campaigns import campaign

EXAMPLES = 25  # per operation, generation mode and credential
CAMPAIGN = "weighing service, schemathesis"


def _holdings(bridge: Weighbridge) -> tuple[int, int, int, int]:
    with sqlite3.connect(bridge.store_path) as db:
        weighings = db.execute("SELECT COUNT(*) FROM weighings").fetchone()[0]
        subjects = db.execute("SELECT COUNT(*) FROM subjects").fetchone()[0]
        erasures = db.execute("SELECT COUNT(*) FROM erasures").fetchone()[0]
    outbox = sum(bridge.get("/health").json()["outbox"].values())
    return weighings, subjects, erasures, outbox


def _probe(
    bridge: Weighbridge, operation: Any, mode: GenerationMode, headers: dict[str, Any], accepted: list[str]
) -> None:
    figures = campaign(CAMPAIGN)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def probe(case: Any) -> None:
        response = case.call(base_url=bridge.url, headers=headers, timeout=30)
        figures.saw(response.status_code, case.as_curl_command())
        if case.method in ("POST", "DELETE") and response.status_code < 300:
            accepted.append(case.as_curl_command())

    try:
        probe()
    except Unsatisfiable:  # nothing of this operation can be negated (e.g. a free-text path value)
        assert mode is GenerationMode.NEGATIVE


def test_schemathesis_finds_no_server_error_and_no_rejected_request_changes_anything(
    weighbridge: Weighbridge,
) -> None:
    schema = schemathesis.openapi.from_url(f"{weighbridge.url}/openapi.json")
    before = _holdings(weighbridge)
    accepted: list[str] = []
    credentials: list[dict[str, Any]] = [{}, {"Authorization": f"Bearer {weighbridge.staff_token}"}]
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for headers in credentials:
                _probe(weighbridge, result.ok(), mode, headers, accepted)
    figures = campaign(CAMPAIGN)
    figures.state_changes = sum(a != b for a, b in zip(before, _holdings(weighbridge), strict=True))
    assert operations == 6  # POST and GET /v1/weighings, status, proof, totals, erasure
    assert figures.server_errors == []
    assert figures.tried >= operations * 2 * len(credentials) * 5
    # random bytes are never a valid scale signature nor a stored reference: nothing was accepted
    assert accepted == []
    assert figures.state_changes == 0
