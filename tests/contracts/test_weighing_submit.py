"""Conformance tests of WeighingLedger.submit: only a gateway may submit, a recorded weighing and its
WeighingRecorded event, every reason for which a weighing is refused (check() predicting it, nothing
changed), and a property test of the net weight rule.

See weighing_support for how the tests share the deployment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import Signature
from eth_utils.address import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from contracts.founding import Role, city_id
from ledger.records import Weighing
from tests.contracts.harness import Deployment, weighing
from tests.contracts.weighing_support import (
    FUZZ,
    SECP256K1_N,
    SENDERS,
    UINT32_MAX,
    ZERO_ID,
    Reason,
    Recorded,
    _uint,
    _valid,
    calibrated_until,
    check,
    entry,
    gateway,
    is_recorded,
    last_seq,
    record,
    record_count,
    recorded_events,
    rejected_events,
    send,
    send_reverting,
    sign,
    snapshot,
    submit_expecting,
    submit_fn,
)
from tests.contracts.weighing_support import scale as scale  # a pytest fixture

# -------------------------------------------------------------------------------------- submit


@pytest.mark.parametrize("sender_name", SENDERS)
def test_submit_only_by_a_gateway(deployment: Deployment, scale: LocalAccount, sender_name: str) -> None:
    d = deployment
    sender = SENDERS[sender_name](d, scale)
    w = weighing(scale.address, 1)
    signature = sign(d, w, scale)
    args = d.expect_revert(submit_fn(d, w, signature), sender, "NotAGateway")
    assert to_checksum_address(args["sender"]) == sender.address
    assert not is_recorded(d, w.record_id)
    submit_expecting(d, w, signature, Reason.NONE)  # the same record is fine from the gateway


def test_submit_from_a_removed_gateway_is_not_a_gateway(deployment: Deployment, scale: LocalAccount) -> None:
    d = deployment
    former = d.add_account("aachen", Role.GATEWAY)
    fn = submit_fn(d, *_valid(d, scale))
    # eth_call only: on every backend, accounts added by add_signer cannot send transactions, as
    # web3 keeps using its cached signing middleware (see InProcessChain/NodeHttpBackend.add_signer).
    fn.call({"from": former.address})  # accepted while it is a gateway
    d.transact(d.consortium.functions.removeAccount(former.address), d.cities["aachen"].admin)
    args = d.expect_revert(fn, former, "NotAGateway")
    assert to_checksum_address(args["sender"]) == former.address


@pytest.mark.parametrize("city", ["aachen", "gelsenkirchen"])
def test_submit_records_the_weighing_and_emits_weighing_recorded(deployment: Deployment, city: str) -> None:
    d = deployment
    s = d.new_scale(city)
    w = weighing(s.address, 1)
    count = record_count(d)
    assert not is_recorded(d, w.record_id)

    receipt = send(d, submit_fn(d, w, sign(d, w, s)), gateway(d, city))

    digest = w.digest(d.weighing_domain)
    assert entry(d, w.record_id) == (digest, s.address, 1, receipt["blockNumber"])
    assert is_recorded(d, w.record_id)
    assert record_count(d) == count + 1
    assert last_seq(d, s.address) == 1
    assert recorded_events(d, receipt) == [Recorded(w.record_id, s.address, city_id(city), 1, False, digest)]
    assert rejected_events(d, receipt) == []


# ------------------------------------------------------------------------- refused weighings


Build = Callable[[Deployment, LocalAccount], tuple[Weighing, bytes]]


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    build: Build
    # What check() says: it assumes the scale's own city's gateway, so it cannot see WrongCity.
    check_reason: Reason | None = None


def _signed_by_another_key(d: Deployment, s: LocalAccount) -> tuple[Weighing, bytes]:
    w = weighing(s.address, 1)
    return w, w.sign(d.weighing_domain, Account.create().key)


def _signature_bytes(mangle: Callable[[bytes], bytes]) -> Build:
    def build(d: Deployment, s: LocalAccount) -> tuple[Weighing, bytes]:
        w, signature = _valid(d, s)
        return w, mangle(signature)

    return build


def _signature_of_another_record(d: Deployment, s: LocalAccount) -> tuple[Weighing, bytes]:
    w = weighing(s.address, 1)
    other = replace(w, net_kg=w.net_kg - 1, gross_kg=w.gross_kg - 1)
    return w, sign(d, other, s)


def _high_s(d: Deployment, s: LocalAccount) -> tuple[Weighing, bytes]:
    """The malleable twin (r, n - s, flipped v) of a valid signature: plain ecrecover accepts it."""
    w, signature = _valid(d, s)
    r, low_s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    high_s = SECP256K1_N - low_s
    twin = Signature(vrs=(1 - (v - 27), int.from_bytes(r, "big"), high_s))
    assert (
        twin.recover_public_key_from_msg_hash(w.digest(d.weighing_domain)).to_checksum_address() == s.address
    )
    return w, r + high_s.to_bytes(32, "big") + bytes([55 - v])


def _self_signed_by(account: Callable[[Deployment], LocalAccount]) -> Build:
    """A weighing that names `account` as its scale and is signed by it."""

    def build(d: Deployment, s: LocalAccount) -> tuple[Weighing, bytes]:
        return _valid(d, account(d))

    return build


def _removed_scale(d: Deployment, s: LocalAccount) -> tuple[Weighing, bytes]:
    record(d, s, 1)
    d.transact(d.consortium.functions.removeAccount(s.address), d.cities["aachen"].admin)
    return _valid(d, s, 2)


def _scale_of_other_city(d: Deployment, s: LocalAccount) -> tuple[Weighing, bytes]:
    return _valid(d, d.new_scale("gelsenkirchen"))


def _measured_after_calibration(d: Deployment, s: LocalAccount) -> tuple[Weighing, bytes]:
    return _valid(d, s, measured_at=(calibrated_until(d, s) + 1) * 1000)


def _with(**overrides: Any) -> Build:
    def build(d: Deployment, s: LocalAccount) -> tuple[Weighing, bytes]:
        return _valid(d, s, **overrides)

    return build


def _same_id_new_seq(d: Deployment, s: LocalAccount) -> tuple[Weighing, bytes]:
    first = record(d, s, 1)
    return _valid(d, s, 2, record_id=first.record_id)


def _same_record_again(d: Deployment, s: LocalAccount) -> tuple[Weighing, bytes]:
    first = record(d, s, 1)
    return first, sign(d, first, s)


def _seq_after(recorded: int, seq: int) -> Build:
    def build(d: Deployment, s: LocalAccount) -> tuple[Weighing, bytes]:
        if recorded:
            record(d, s, recorded)
        return _valid(d, s, seq)

    return build


REFUSALS = [
    pytest.param(Refusal(Reason.BAD_SIGNATURE, _signed_by_another_key), id="bad-signature-other-key"),
    pytest.param(
        Refusal(Reason.BAD_SIGNATURE, _signature_bytes(lambda b: b[:64])), id="bad-signature-64-bytes"
    ),
    pytest.param(
        Refusal(Reason.BAD_SIGNATURE, _signature_bytes(lambda b: b + b"\0")), id="bad-signature-66-bytes"
    ),
    pytest.param(Refusal(Reason.BAD_SIGNATURE, _signature_bytes(lambda b: b"")), id="bad-signature-empty"),
    pytest.param(
        Refusal(Reason.BAD_SIGNATURE, _signature_bytes(lambda b: b[:64] + bytes([b[64] - 27]))),
        id="bad-signature-v-0-or-1",
    ),
    pytest.param(
        Refusal(Reason.BAD_SIGNATURE, _signature_of_another_record), id="bad-signature-other-record"
    ),
    pytest.param(Refusal(Reason.BAD_SIGNATURE, _high_s), id="bad-signature-high-s"),
    pytest.param(
        Refusal(Reason.NOT_A_SCALE, _self_signed_by(lambda d: d.cities["aachen"].clerk)),
        id="not-a-scale-clerk",
    ),
    pytest.param(
        Refusal(Reason.NOT_A_SCALE, _self_signed_by(lambda d: d.cities["aachen"].gateway)),
        id="not-a-scale-gateway",
    ),
    pytest.param(
        Refusal(Reason.NOT_A_SCALE, _self_signed_by(lambda d: d.cities["aachen"].admin)),
        id="not-a-scale-admin",
    ),
    pytest.param(
        Refusal(Reason.NOT_A_SCALE, _self_signed_by(lambda d: Account.create())), id="not-a-scale-unknown-key"
    ),
    pytest.param(Refusal(Reason.NOT_A_SCALE, _removed_scale), id="not-a-scale-removed-scale"),
    pytest.param(
        Refusal(Reason.WRONG_CITY, _scale_of_other_city, check_reason=Reason.NONE),
        id="wrong-city-gelsenkirchen",
    ),
    pytest.param(
        Refusal(Reason.CALIBRATION_EXPIRED, _measured_after_calibration), id="calibration-expired-next-second"
    ),
    pytest.param(
        Refusal(Reason.BAD_NET_WEIGHT, _with(gross_kg=1000, tare_kg=400, net_kg=601)),
        id="net-weight-too-high",
    ),
    pytest.param(
        Refusal(Reason.BAD_NET_WEIGHT, _with(gross_kg=1000, tare_kg=400, net_kg=599)), id="net-weight-too-low"
    ),
    pytest.param(
        Refusal(Reason.BAD_NET_WEIGHT, _with(gross_kg=400, tare_kg=401, net_kg=0)), id="tare-above-gross"
    ),
    pytest.param(
        Refusal(Reason.BAD_NET_WEIGHT, _with(gross_kg=400, tare_kg=401, net_kg=UINT32_MAX)),
        id="tare-above-gross-net-wrapped",
    ),
    pytest.param(Refusal(Reason.BAD_TARE_MODE, _with(tare_mode=2)), id="tare-mode-2"),
    pytest.param(Refusal(Reason.BAD_TARE_MODE, _with(tare_mode=255)), id="tare-mode-255"),
    pytest.param(Refusal(Reason.ZERO_RECORD_ID, _with(record_id=ZERO_ID)), id="zero-record-id"),
    pytest.param(Refusal(Reason.DUPLICATE_RECORD, _same_id_new_seq), id="duplicate-id-new-seq"),
    pytest.param(Refusal(Reason.DUPLICATE_RECORD, _same_record_again), id="duplicate-same-record"),
    pytest.param(Refusal(Reason.SEQ_REPLAY, _seq_after(1, 1)), id="seq-replay-same-seq"),
    pytest.param(Refusal(Reason.SEQ_REPLAY, _seq_after(3, 2)), id="seq-replay-lower-seq"),
    pytest.param(Refusal(Reason.SEQ_REPLAY, _seq_after(0, 0)), id="seq-replay-zero-on-fresh-scale"),
]


@pytest.mark.parametrize("refusal", REFUSALS)
def test_invalid_weighing_is_refused_with_its_reason_and_changes_nothing(
    deployment: Deployment, scale: LocalAccount, refusal: Refusal
) -> None:
    d = deployment
    w, signature = refusal.build(d, scale)
    before = snapshot(d, w)

    expected_check = refusal.reason if refusal.check_reason is None else refusal.check_reason
    assert check(d, w, signature) == (expected_check, False)
    fn = submit_fn(d, w, signature)
    assert d.expect_revert(fn, gateway(d), "WeighingInvalid") == {
        "recordId": w.record_id,
        "reason": refusal.reason,
    }
    send_reverting(d, fn, gateway(d))

    assert snapshot(d, w) == before


@pytest.mark.parametrize(
    ("offset_ms", "reason"),
    [
        pytest.param(-1, Reason.NONE, id="last-millisecond-before"),
        pytest.param(0, Reason.NONE, id="start-of-last-second"),
        pytest.param(999, Reason.NONE, id="end-of-last-second"),
        pytest.param(1000, Reason.CALIBRATION_EXPIRED, id="next-second"),
    ],
)
def test_calibration_is_valid_through_its_last_second(
    deployment: Deployment, scale: LocalAccount, offset_ms: int, reason: Reason
) -> None:
    d = deployment
    w, signature = _valid(d, scale, measured_at=calibrated_until(d, scale) * 1000 + offset_ms)
    submit_expecting(d, w, signature, reason)
    assert is_recorded(d, w.record_id) == (reason is Reason.NONE)


# ------------------------------------------------------------------------------------ properties


_weights = st.one_of(st.integers(0, 40), _uint(32))


@FUZZ
@given(gross=_weights, tare=_weights, net=st.one_of(st.none(), _weights))
def test_property_net_weight_accepted_iff_tare_fits_and_net_is_gross_minus_tare(
    deployment: Deployment, scale: LocalAccount, gross: int, tare: int, net: int | None
) -> None:
    d = deployment
    net_kg = (gross - tare) % 2**32 if net is None else net  # None: the (wrapped) difference
    accepted = tare <= gross and net_kg == gross - tare
    w, signature = _valid(
        d, scale, last_seq(d, scale.address) + 1, gross_kg=gross, tare_kg=tare, net_kg=net_kg
    )
    submit_expecting(d, w, signature, Reason.NONE if accepted else Reason.BAD_NET_WEIGHT)
