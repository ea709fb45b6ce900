"""A schemathesis campaign against a running service's OpenAPI document (issue 10): for every
operation, schema-valid and schema-violating requests under each set of credentials, within a
fixed budget. Every response is counted; a rejected request (4xx) must leave `holdings()` as it
was, and no request may get a 5xx."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from tests.support.campaigns import Campaign, campaign


def run_openapi_campaign(
    name: str,
    base_url: str,
    credentials: dict[str, dict[str, str]],
    holdings: Callable[[], Hashable],
    examples: int,
    skip: Callable[[str, str, str], bool] = lambda method, path, credential: False,
) -> Campaign:
    """`credentials`: name -> headers; `skip(method, path, credential)` leaves out an operation for
    a credential (e.g. logging out the session the campaign uses)."""
    figures = campaign(name)
    figures.state_changes = 0
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for credential, headers in credentials.items():
                if not skip(operation.method.upper(), operation.path, credential):
                    _probe(figures, base_url, operation, mode, headers, holdings, examples)
    return figures


def _probe(
    figures: Campaign,
    base_url: str,
    operation: Any,
    mode: GenerationMode,
    headers: dict[str, str],
    holdings: Callable[[], Hashable],
    examples: int,
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def probe(case: Any) -> None:
        before = holdings()
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        figures.saw(response.status_code, case.as_curl_command())
        if 400 <= response.status_code < 500 and holdings() != before:
            assert figures.state_changes is not None
            figures.state_changes += 1
            figures.server_errors.append(f"state changed by a rejected request: {case.as_curl_command()}")

    try:
        probe()
    except Unsatisfiable:  # nothing of this operation can be negated (e.g. a free-text path value)
        assert mode is GenerationMode.NEGATIVE
