"""A Hypothesis fuzz of random JSON-RPC-ish payloads: every answer well formed, never -32603 or HTTP 5xx.

Its figures are the campaign FUZZ_CAMPAIGN (tests/support/campaigns.py); the closing check of the
package (conftest.py) sets its state changes.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.nodes.bad_input.conftest import (
    FUZZ_CAMPAIGN,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    PARSE_ERROR,
    node_methods,
    post,
)
from tests.support.campaigns import campaign


def _json_values() -> st.SearchStrategy[Any]:
    hexish = st.one_of(
        st.sampled_from(
            ["latest", "pending", "earliest", "safe", "finalized", "0x", "0x0", "0x1", "0xzz", "newest"]
        ),
        st.binary(max_size=40).map(lambda b: "0x" + b.hex()),
        st.integers(min_value=0, max_value=2**80).map(hex),
    )
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        hexish,
    )
    keys = st.one_of(
        st.sampled_from(
            ["from", "to", "gas", "value", "data", "input", "fromBlock", "toBlock", "address", "topics"]
        ),
        st.sampled_from(["blockHash", "blockNumber"]),
        st.text(max_size=8),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)),
        max_leaves=20,
    )


# Methods whose valid calls change the shared node for good: evm_increaseTime moves its clock, a
# validator vote for a random address would make the 1-validator devnet wait for a validator that
# does not exist. Random calls of them would upset the rest of the session.
STATEFUL_METHODS = {"evm_increaseTime", "qbft_proposeValidatorVote", "qbft_discardValidatorVote"}
FUZZ_METHODS = [m for m in node_methods() if m not in STATEFUL_METHODS]
JSON_VALUES = _json_values()
REQUESTS = st.fixed_dictionaries(
    {
        "jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "1.0"]),
        "method": st.one_of(st.sampled_from(FUZZ_METHODS), st.text(max_size=30)),
    },
    optional={
        "id": st.one_of(st.integers(), st.text(max_size=10), st.none(), st.booleans()),
        "params": st.one_of(st.lists(JSON_VALUES, max_size=4), JSON_VALUES),
    },
)
PAYLOADS = st.one_of(REQUESTS, REQUESTS, st.lists(REQUESTS, min_size=1, max_size=4), JSON_VALUES)


def _answered(request: Any) -> bool:
    """Whether the node must answer this request object (everything but a valid notification)."""
    valid = (
        isinstance(request, dict)
        and request.get("jsonrpc") == "2.0"
        and isinstance(request.get("method"), str)
    )
    return not (valid and "id" not in request)


def _check_response(response: Any, request: Any) -> None:
    assert isinstance(response, dict), response
    assert response.get("jsonrpc") == "2.0", response
    assert "id" in response, response
    assert ("result" in response) != ("error" in response), response
    if "error" in response:
        err = response["error"]
        assert isinstance(err, dict), response
        assert isinstance(err.get("code"), int), response
        assert isinstance(err.get("message"), str), response
        assert err["code"] != INTERNAL_ERROR, (request, response)
        if err["code"] not in (INVALID_REQUEST, PARSE_ERROR):
            assert response["id"] == request["id"], (request, response)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=PAYLOADS)
def test_fuzz_random_payloads_get_well_formed_answers(rpc_url: str, payload: Any) -> None:
    response = post(rpc_url, json.dumps(payload))
    internal = b'"code":%d' % INTERNAL_ERROR in response.content.replace(b" ", b"")
    campaign(FUZZ_CAMPAIGN).saw(500 if internal else response.status_code, json.dumps(payload)[:200])
    assert response.status_code < 500, response.text
    expected = payload if isinstance(payload, list) and payload else [payload]
    answered = [r for r in expected if _answered(r)]
    if not answered:
        assert response.status_code == 204
        assert response.content == b""
        return
    assert response.status_code == 200
    body = response.json()
    if isinstance(payload, list) and payload:
        assert isinstance(body, list), body
        assert len(body) == len(answered), (payload, body)
        for item, request in zip(body, answered, strict=True):
            _check_response(item, request)
    else:
        _check_response(body, payload)
