"""Schemathesis against the registry service's own OpenAPI document (issue 10), anonymous and as a
signed-in clerk: no 5xx, and no rejected request changes what the service holds (documents, audit,
sign-in challenges, sessions, outbox)."""

from __future__ import annotations

import sqlite3

from apps.registry.client import RegistryClient
from tests.apps.registry.conftest import AACHEN_CLERK, Registry
from tests.support.openapi_campaign import run_openapi_campaign

EXAMPLES = 10  # per operation, generation mode and credential
COUNTS = (
    "SELECT COUNT(*) FROM documents",
    "SELECT COUNT(*) FROM audit",
    "SELECT COUNT(*) FROM challenges",
    "SELECT COUNT(*) FROM sessions",
)


def _holdings(registry: Registry) -> tuple[int, ...]:
    with sqlite3.connect(registry.store_path) as db:
        counts = [db.execute(query).fetchone()[0] for query in COUNTS]
    with sqlite3.connect(registry.store_path.parent / "outbox.sqlite") as db:
        counts.append(db.execute("SELECT COUNT(*) FROM items").fetchone()[0])
    return tuple(counts)


def test_schemathesis_finds_no_server_error_and_no_rejected_request_changes_anything(
    registry: Registry,
) -> None:
    clerk = RegistryClient(registry.url, AACHEN_CLERK)
    clerk.login()  # a session of its own, so that the campaign cannot end another test's
    assert clerk.token is not None
    figures = run_openapi_campaign(
        "registry service, schemathesis",
        registry.url,
        {"anonymous": {}, "clerk": {"Authorization": f"Bearer {clerk.token}"}},
        lambda: _holdings(registry),
        EXAMPLES,
        skip=lambda method, path, credential: credential == "clerk" and path == "/v1/auth/logout",
    )
    assert figures.server_errors == []
    assert figures.state_changes == 0
    assert figures.tried >= 100
    reply = registry.get("/v1/auth/session", headers={"Authorization": f"Bearer {clerk.token}"})
    assert reply.status_code == 200, reply.text  # the campaign's session survived
