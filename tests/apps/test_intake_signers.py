"""POST /v1/weighings, who signed: malformed, missing and forged signatures, signers that are not
a scale of aachen, and a scale whose calibration has expired."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from devnet.keys import dev_account
from ledger.records import Weighing, domain_for
from tests.apps.conftest import Weighbridge, assert_refused, follow_up_is_accepted, now_ms, rid

# ------------------------------------------------------------ signature


@pytest.mark.parametrize(
    "signature",
    [None, 5, "", "0x1234", "ab" * 66, "0X" + "ab" * 65, "0x" + "zz" * 65, "0x" + "ab" * 66],
    ids=["null", "number", "empty", "short", "no-0x", "0X", "not-hex", "66-bytes"],
)
def test_a_malformed_signature_is_422_invalid_field(weighbridge: Weighbridge, signature: Any) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    body = weighbridge.body(record, scale.key) | {"signature": signature}
    assert_refused(weighbridge, body, 422, "invalid_field", "signature", (rid(record),))


def test_a_missing_signature_is_422_invalid_field(weighbridge: Weighbridge) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    assert_refused(
        weighbridge, {"record": record.to_json()}, 422, "invalid_field", "signature", (rid(record),)
    )


def _other_key(wb: Weighbridge, record: Weighing, scale: LocalAccount) -> str:
    return wb.signature(record, os.urandom(32))


def _other_scale(wb: Weighbridge, record: Weighing, scale: LocalAccount) -> str:
    return wb.signature(record, wb.scales[0].key)  # a registered aachen scale, not this one


def _zero_bytes(wb: Weighbridge, record: Weighing, scale: LocalAccount) -> str:
    return "0x" + "00" * 65


def _other_domain(wb: Weighbridge, record: Weighing, scale: LocalAccount) -> str:
    contracts = wb.description["contracts"]
    domain = domain_for(Weighing, wb.description["chainId"], contracts["registry"])
    return "0x" + record.sign(domain, scale.key).hex()


def _other_chain(wb: Weighbridge, record: Weighing, scale: LocalAccount) -> str:
    domain = domain_for(Weighing, 1, wb.description["contracts"]["weighing"])
    return "0x" + record.sign(domain, scale.key).hex()


def _other_record(wb: Weighbridge, record: Weighing, scale: LocalAccount) -> str:
    return wb.signature(wb.record(scale, record.seq, record_id=record.record_id, net_kg=6001), scale.key)


@pytest.mark.parametrize(
    "forge", [_other_key, _other_scale, _zero_bytes, _other_domain, _other_chain, _other_record]
)
def test_a_signature_that_is_not_the_scales_is_422_bad_signature(
    weighbridge: Weighbridge, forge: Callable[[Weighbridge, Weighing, LocalAccount], str]
) -> None:
    scale = weighbridge.scale()
    record = weighbridge.record(scale)
    body = {"record": record.to_json(), "signature": forge(weighbridge, record, scale)}
    assert_refused(weighbridge, body, 422, "bad_signature", "signature", (rid(record),))
    follow_up_is_accepted(weighbridge, scale)


# ---------------------------------------------------------------- scale


@pytest.mark.parametrize(
    "signer",
    [
        Account.from_key(b"\x42" * 32),  # registered nowhere
        dev_account("gelsenkirchen", "scale", 0),  # a registered scale, of another city
        dev_account("aachen", "gateway"),  # registered in aachen, but not as a scale
    ],
    ids=["unregistered", "other-city", "not-a-scale"],
)
def test_a_signer_that_is_not_a_scale_of_aachen_is_403_unknown_scale(
    weighbridge: Weighbridge, signer: LocalAccount
) -> None:
    record = weighbridge.record(signer)
    body = weighbridge.body(record, signer.key)
    error = assert_refused(weighbridge, body, 403, "unknown_scale", "record.scale", (rid(record),))
    assert signer.address in error["message"]


def test_a_measurement_after_the_calibration_expired_is_422(weighbridge: Weighbridge) -> None:
    until = int(now_ms() / 1000) - 3600  # expired an hour ago
    scale = weighbridge.register_scale(until)
    late = weighbridge.record(scale, measured_at=until * 1000 + 1000)
    assert_refused(
        weighbridge,
        weighbridge.body(late, scale.key),
        422,
        "calibration_expired",
        "record.measuredAt",
        (rid(late),),
    )
    # the last millisecond of the calibration's last second is still covered
    answer = weighbridge.accept(weighbridge.record(scale, measured_at=until * 1000 + 999), scale)
    assert answer["seqGap"] is False
