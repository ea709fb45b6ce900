"""Conformance tests of WeighingLedger: its EIP-712 agreement with ledger.records, submit, check,
submitBatch, and every reason for which a weighing is refused.

The `deployment` is shared by every test of this module (once per backend) and the tests run in any
order, so each test makes its own scales and record ids and only ever compares counters with the
values it read itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import Signature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxReceipt

from contracts.artifacts import load_artifact
from contracts.founding import Role, city_id
from ledger.records import Weighing
from tests.contracts.harness import Deployment, weighing


class Reason(IntEnum):
    """Mirrors WeighingLedger.Reason, in the contract's order."""

    NONE = 0
    BAD_SIGNATURE = 1
    NOT_A_SCALE = 2
    WRONG_CITY = 3
    CALIBRATION_EXPIRED = 4
    BAD_NET_WEIGHT = 5
    BAD_TARE_MODE = 6
    ZERO_RECORD_ID = 7
    DUPLICATE_RECORD = 8
    SEQ_REPLAY = 9


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ZERO_ID = b"\0" * 32
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
# A fixed gas limit skips gas estimation, which eth-tester does by re-running the transaction many
# times (a 100-item batch: 3.7 s instead of 0.5 s; a single submit: 5x).
SEND_GAS = 25_000_000

# The deployment is module-scoped; `scale`-like fixtures are function-scoped on purpose: one scale
# per test, shared by that test's examples, which read its lastSeq instead of assuming a fresh one.
FUZZ = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# ------------------------------------------------------------------------------------ helpers


def gateway(d: Deployment, city: str = "aachen") -> LocalAccount:
    return d.cities[city].gateway


def sign(d: Deployment, w: Weighing, signer: LocalAccount) -> bytes:
    return w.sign(d.weighing_domain, signer.key)


def submit_fn(d: Deployment, w: Weighing, signature: bytes) -> ContractFunction:
    return d.weighing.functions.submit(w.as_abi(), signature)


def batch_fn(d: Deployment, items: list[tuple[Weighing, bytes]]) -> ContractFunction:
    return d.weighing.functions.submitBatch([w.as_abi() for w, _ in items], [sig for _, sig in items])


def check(d: Deployment, w: Weighing, signature: bytes) -> tuple[Reason, bool]:
    reason, seq_gap = d.weighing.functions.check(w.as_abi(), signature).call()
    return Reason(reason), bool(seq_gap)


def last_seq(d: Deployment, scale: str) -> int:
    return int(d.weighing.functions.lastSeq(scale).call())


def record_count(d: Deployment) -> int:
    return int(d.weighing.functions.recordCount().call())


def is_recorded(d: Deployment, record_id: bytes) -> bool:
    return bool(d.weighing.functions.isRecorded(record_id).call())


def entry(d: Deployment, record_id: bytes) -> tuple[bytes, str, int, int]:
    digest, scale, seq, block_number = d.weighing.functions.getWeighing(record_id).call()
    return bytes(digest), str(scale), int(seq), int(block_number)


def calibrated_until(d: Deployment, account: LocalAccount) -> int:
    return int(d.consortium.functions.roleOf(account.address).call()[2])


def send(d: Deployment, fn: ContractFunction, sender: LocalAccount) -> TxReceipt:
    """Deployment.transact with a fixed gas limit instead of an estimate (see SEND_GAS)."""
    tx_hash = fn.transact({"from": sender.address, "gas": SEND_GAS})
    receipt = d.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
    assert receipt["status"] == 1, f"transaction {fn.fn_name} failed"
    return receipt


def send_reverting(d: Deployment, fn: ContractFunction, sender: LocalAccount) -> None:
    """Really sends `fn` (no eth_call) and asserts that the mined transaction reverted."""
    tx_hash = fn.transact({"from": sender.address, "gas": 1_000_000})
    receipt = d.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
    assert receipt["status"] == 0, f"transaction {fn.fn_name} did not revert"


def record(d: Deployment, scale: LocalAccount, seq: int, **overrides: Any) -> Weighing:
    """Submits a valid weighing of `scale` through its city's gateway."""
    w = weighing(scale.address, seq, **overrides)
    send(d, submit_fn(d, w, sign(d, w, scale)), gateway(d))
    assert is_recorded(d, w.record_id)
    return w


@dataclass(frozen=True)
class Recorded:
    """The arguments of a WeighingRecorded event."""

    record_id: bytes
    scale: str
    city: bytes
    seq: int
    seq_gap: bool
    digest: bytes


def expected_recorded(d: Deployment, w: Weighing, seq_gap: bool, city: str = "aachen") -> Recorded:
    return Recorded(w.record_id, w.scale, city_id(city), w.seq, seq_gap, w.digest(d.weighing_domain))


def recorded_events(d: Deployment, receipt: TxReceipt) -> list[Recorded]:
    events = d.weighing.events.WeighingRecorded().process_receipt(receipt, errors=DISCARD)
    return [
        Recorded(
            bytes(e["args"]["recordId"]),
            str(e["args"]["scale"]),
            bytes(e["args"]["city"]),
            int(e["args"]["seq"]),
            bool(e["args"]["seqGap"]),
            bytes(e["args"]["digest"]),
        )
        for e in events
    ]


def rejected_events(d: Deployment, receipt: TxReceipt) -> list[tuple[bytes, str, Reason]]:
    events = d.weighing.events.WeighingRejected().process_receipt(receipt, errors=DISCARD)
    return [
        (bytes(e["args"]["recordId"]), str(e["args"]["scale"]), Reason(e["args"]["reason"])) for e in events
    ]


def submit_expecting(
    d: Deployment, w: Weighing, signature: bytes, reason: Reason, seq_gap: bool = False
) -> None:
    """Submits `w` through aachen's gateway: recorded (with the gap flag) if `reason` is NONE, else
    refused with WeighingInvalid(recordId, reason). check() must predict the same outcome."""
    assert check(d, w, signature) == (reason, seq_gap)
    fn = submit_fn(d, w, signature)
    if reason is Reason.NONE:
        count = record_count(d)
        receipt = send(d, fn, gateway(d))
        assert recorded_events(d, receipt) == [expected_recorded(d, w, seq_gap)]
        assert entry(d, w.record_id) == (w.digest(d.weighing_domain), w.scale, w.seq, receipt["blockNumber"])
        assert (record_count(d), last_seq(d, w.scale)) == (count + 1, w.seq)
    else:
        args = d.expect_revert(fn, gateway(d), "WeighingInvalid")
        assert args == {"recordId": w.record_id, "reason": reason}


@dataclass(frozen=True)
class Snapshot:
    last_seq: int
    record_count: int
    recorded: bool
    entry: tuple[bytes, str, int, int]


def snapshot(d: Deployment, w: Weighing) -> Snapshot:
    return Snapshot(last_seq(d, w.scale), record_count(d), is_recorded(d, w.record_id), entry(d, w.record_id))


# ----------------------------------------------------------------------------------- fixtures


@pytest.fixture
def scale(deployment: Deployment) -> LocalAccount:
    """A fresh scale of aachen, calibrated for a year."""
    return deployment.new_scale("aachen")


@pytest.fixture
def foreign_scale(deployment: Deployment) -> LocalAccount:
    """A fresh scale of gelsenkirchen, which aachen's gateway may not submit for."""
    return deployment.new_scale("gelsenkirchen")


@pytest.fixture
def recorded_scale(deployment: Deployment) -> tuple[LocalAccount, Weighing]:
    """A fresh scale of aachen with one weighing (seq 1) already recorded."""
    s = deployment.new_scale("aachen")
    return s, record(deployment, s, 1)


# ------------------------------------------------------------------ Python/Solidity agreement


def test_weighing_typehash_equals_python_type_hash(deployment: Deployment) -> None:
    assert bytes(deployment.weighing.functions.WEIGHING_TYPEHASH().call()) == Weighing.type_hash()


def test_python_record_fields_are_the_contract_struct_in_order() -> None:
    (fn,) = [i for i in load_artifact("WeighingLedger").abi if i.get("name") == "hashWeighing"]
    components = fn["inputs"][0]["components"]
    assert [(c["name"], c["type"]) for c in components] == list(Weighing.FIELDS)


def test_domain_separator_is_eip712_of_govchain_weighing_v1(deployment: Deployment) -> None:
    d = deployment
    domain_typehash = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    expected = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                domain_typehash,
                keccak(text="govchain-weighing"),
                keccak(text="1"),
                d.chain_id,
                d.weighing.address,
            ],
        )
    )
    assert bytes(d.weighing.functions.domainSeparator().call()) == expected
    # eth_account's typed-data header is the domain separator the Python side signs under.
    assert weighing(d.outsider.address, 1).signable(d.weighing_domain).header == expected


def test_eip712_domain_reports_name_version_chain_id_and_contract(deployment: Deployment) -> None:
    d = deployment
    fields_, name, version, chain_id, verifying_contract, salt, extensions = (
        d.weighing.functions.eip712Domain().call()
    )
    assert (fields_, name, version, chain_id, verifying_contract, salt, extensions) == (
        b"\x0f",  # name, version, chainId, verifyingContract
        "govchain-weighing",
        "1",
        d.chain_id,
        d.weighing.address,
        ZERO_ID,
        [],
    )
    domain = d.weighing_domain
    assert (domain.name, domain.version, domain.chain_id, domain.verifying_contract) == (
        name,
        version,
        chain_id,
        verifying_contract,
    )


def _uint(bits: int) -> st.SearchStrategy[int]:
    return st.integers(0, 2**bits - 1)


_bytes32 = st.binary(min_size=32, max_size=32)
weighings: st.SearchStrategy[Weighing] = st.builds(
    Weighing,
    record_id=_bytes32,
    scale=st.binary(min_size=20, max_size=20).map(to_checksum_address),
    seq=_uint(64),
    measured_at=_uint(64),
    time_synced=st.booleans(),
    gross_kg=_uint(32),
    tare_kg=_uint(32),
    net_kg=_uint(32),
    tare_mode=_uint(8),
    avv_code=_uint(32),
    vehicle_ref=_bytes32,
    container_ref=_bytes32,
    customer_ref=_bytes32,
    status_flags=_uint(16),
)


@settings(max_examples=25, deadline=None, database=None)
@given(w=weighings)
def test_hash_weighing_equals_python_digest(deployment: Deployment, w: Weighing) -> None:
    d = deployment
    digest = w.digest(d.weighing_domain)
    assert bytes(d.weighing.functions.hashWeighing(w.as_abi()).call()) == digest
    # ... and both equal the EIP-712 formula computed by hand.
    struct_hash = keccak(
        encode(["bytes32", *(t for _, t in Weighing.FIELDS)], [Weighing.type_hash(), *w.as_abi()])
    )
    separator = bytes(d.weighing.functions.domainSeparator().call())
    assert digest == keccak(b"\x19\x01" + separator + struct_hash)


def test_json_round_trip_keeps_digest_and_signature_valid_on_chain(
    deployment: Deployment, scale: LocalAccount
) -> None:
    d = deployment
    w = weighing(scale.address, 1, status_flags=0x8001, tare_mode=1, time_synced=False)
    signature = sign(d, w, scale)
    wire = w.to_json()
    assert list(wire) == [n for n, _ in Weighing.FIELDS]
    again = Weighing.from_json(wire)
    assert again == w
    assert again.recover(d.weighing_domain, signature) == scale.address
    submit_expecting(d, again, signature, Reason.NONE)


# -------------------------------------------------------------------------------------- submit


SENDERS: dict[str, Callable[[Deployment, LocalAccount], LocalAccount]] = {
    "admin": lambda d, s: d.cities["aachen"].admin,
    "clerk": lambda d, s: d.cities["aachen"].clerk,
    "scale": lambda d, s: s,
    "outsider": lambda d, s: d.outsider,
    "admin-of-other-city": lambda d, s: d.cities["gelsenkirchen"].admin,
}


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


def _valid(d: Deployment, s: LocalAccount, seq: int = 1, **overrides: Any) -> tuple[Weighing, bytes]:
    w = weighing(s.address, seq, **overrides)
    return w, sign(d, w, s)


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


# --------------------------------------------------------------------------- seq and check()


@pytest.mark.parametrize(
    ("seqs", "gaps"),
    [
        pytest.param((1, 2, 3), (False, False, False), id="consecutive"),
        pytest.param((1, 5), (False, True), id="1-then-5"),
        pytest.param((4,), (True,), id="first-seq-not-1"),
        pytest.param((1, 2, 10, 11), (False, False, True, False), id="gap-then-consecutive"),
    ],
)
def test_seq_gap_is_accepted_and_flagged_only_when_seq_skips(
    deployment: Deployment, scale: LocalAccount, seqs: tuple[int, ...], gaps: tuple[bool, ...]
) -> None:
    d = deployment
    for seq, gap in zip(seqs, gaps, strict=True):
        w, signature = _valid(d, scale, seq)
        submit_expecting(d, w, signature, Reason.NONE, seq_gap=gap)
        assert last_seq(d, scale.address) == seq


def test_seq_at_uint64_max_is_accepted_and_then_everything_is_a_replay(
    deployment: Deployment, scale: LocalAccount
) -> None:
    d = deployment
    submit_expecting(d, *_valid(d, scale, UINT64_MAX), Reason.NONE, seq_gap=True)
    assert last_seq(d, scale.address) == UINT64_MAX
    for seq in (UINT64_MAX, 1):
        submit_expecting(d, *_valid(d, scale, seq), Reason.SEQ_REPLAY)


def test_check_is_a_dry_run_that_records_nothing(deployment: Deployment, scale: LocalAccount) -> None:
    d = deployment
    w, signature = _valid(d, scale, 1)
    gapped, gapped_signature = _valid(d, scale, 3)
    before = snapshot(d, w)

    assert check(d, w, signature) == (Reason.NONE, False)
    assert check(d, w, signature) == (Reason.NONE, False)
    assert check(d, gapped, gapped_signature) == (Reason.NONE, True)
    assert snapshot(d, w) == before
    assert not is_recorded(d, gapped.record_id)

    send(d, submit_fn(d, w, signature), gateway(d))
    assert check(d, w, signature) == (Reason.DUPLICATE_RECORD, False)
    assert check(d, *_valid(d, scale, 1)) == (Reason.SEQ_REPLAY, False)
    assert check(d, gapped, gapped_signature) == (Reason.NONE, True)
    assert check(d, *_valid(d, scale, 2)) == (Reason.NONE, False)


# --------------------------------------------------------------------------------- submitBatch


@pytest.mark.parametrize(("n_records", "n_signatures"), [(2, 1), (1, 2), (0, 1), (1, 0)])
def test_batch_with_unequal_lengths_reverts_length_mismatch(
    deployment: Deployment, scale: LocalAccount, n_records: int, n_signatures: int
) -> None:
    d = deployment
    items = [_valid(d, scale, seq) for seq in range(1, max(n_records, n_signatures) + 1)]
    fn = d.weighing.functions.submitBatch(
        [w.as_abi() for w, _ in items[:n_records]], [sig for _, sig in items[:n_signatures]]
    )
    args = d.expect_revert(fn, gateway(d), "LengthMismatch")
    assert args == {"records": n_records, "signatures": n_signatures}


@pytest.mark.parametrize("n_items", [0, 2])
@pytest.mark.parametrize("sender_name", SENDERS)
def test_batch_only_by_a_gateway(
    deployment: Deployment, scale: LocalAccount, sender_name: str, n_items: int
) -> None:
    d = deployment
    sender = SENDERS[sender_name](d, scale)
    items = [_valid(d, scale, seq) for seq in range(1, n_items + 1)]
    args = d.expect_revert(batch_fn(d, items), sender, "NotAGateway")
    assert to_checksum_address(args["sender"]) == sender.address
    assert int(batch_fn(d, items).call({"from": gateway(d).address})) == n_items


@dataclass
class BatchPlan:
    """A batch for one scale together with what the contract must make of it."""

    d: Deployment
    scale: LocalAccount
    foreign: LocalAccount  # a scale of another city
    last_seq: int
    known: dict[bytes, bytes]  # record id -> digest of what is (or will be) recorded under it
    until: int = 0
    items: list[tuple[Weighing, bytes]] = field(default_factory=list)
    recorded: list[tuple[Weighing, bool]] = field(default_factory=list)
    rejected: list[tuple[bytes, str, Reason]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.until = calibrated_until(self.d, self.scale)

    def add(self, kind: Reason, step: int = 1) -> None:
        """Appends an item that is valid (NONE, `step` after the last seq) or fails only by `kind`."""
        d, s = self.d, self.scale
        signer = s
        w = weighing(s.address, self.last_seq + (step if kind is Reason.NONE else 1))
        if kind is Reason.BAD_SIGNATURE:
            signer = self.foreign
        elif kind is Reason.NOT_A_SCALE:
            signer = d.cities["aachen"].clerk
            w = weighing(signer.address, 1)
        elif kind is Reason.WRONG_CITY:
            signer = self.foreign
            w = weighing(signer.address, 1)
        elif kind is Reason.CALIBRATION_EXPIRED:
            w = replace(w, measured_at=(self.until + 1) * 1000)
        elif kind is Reason.BAD_NET_WEIGHT:
            w = replace(w, net_kg=w.net_kg + 1)
        elif kind is Reason.BAD_TARE_MODE:
            w = replace(w, tare_mode=2)
        elif kind is Reason.ZERO_RECORD_ID:
            w = replace(w, record_id=ZERO_ID)
        elif kind is Reason.DUPLICATE_RECORD:
            w = replace(w, record_id=list(self.known)[-1])
        elif kind is Reason.SEQ_REPLAY:
            w = replace(w, seq=self.last_seq)
        self.items.append((w, sign(d, w, signer)))
        if kind is Reason.NONE:
            self.recorded.append((w, step != 1))
            self.last_seq = w.seq
            self.known[w.record_id] = w.digest(d.weighing_domain)
        else:
            self.rejected.append((w.record_id, w.scale, kind))

    def run(self) -> None:
        """Sends the batch through aachen's gateway and checks every outcome."""
        d = self.d
        fn = batch_fn(d, self.items)
        count = record_count(d)
        assert int(fn.call({"from": gateway(d).address})) == len(self.recorded)

        receipt = send(d, fn, gateway(d))

        assert recorded_events(d, receipt) == [expected_recorded(d, w, gap) for w, gap in self.recorded]
        assert rejected_events(d, receipt) == self.rejected
        assert record_count(d) == count + len(self.recorded)
        assert last_seq(d, self.scale.address) == self.last_seq
        assert last_seq(d, self.foreign.address) == 0
        for w, _ in self.recorded:
            assert entry(d, w.record_id) == (self.known[w.record_id], w.scale, w.seq, receipt["blockNumber"])
        for record_id, _, _ in self.rejected:
            if record_id in self.known:  # a duplicate keeps the first record
                assert entry(d, record_id)[0] == self.known[record_id]
            else:
                assert not is_recorded(d, record_id)


def plan_for(
    d: Deployment, recorded_scale: tuple[LocalAccount, Weighing], foreign: LocalAccount
) -> BatchPlan:
    s, first = recorded_scale
    return BatchPlan(
        d, s, foreign, last_seq(d, s.address), {first.record_id: first.digest(d.weighing_domain)}
    )


def test_batch_records_the_valid_items_and_rejects_each_invalid_one_with_an_event(
    deployment: Deployment, recorded_scale: tuple[LocalAccount, Weighing], foreign_scale: LocalAccount
) -> None:
    plan = plan_for(deployment, recorded_scale, foreign_scale)
    for kind in Reason:
        plan.add(kind)
        plan.add(Reason.NONE)
    assert len(plan.rejected) == len(Reason) - 1
    plan.run()


@pytest.mark.parametrize("same_seq", [False, True], ids=["new-seq", "same-record"])
def test_batch_duplicate_within_the_batch_is_rejected(
    deployment: Deployment, scale: LocalAccount, same_seq: bool
) -> None:
    d = deployment
    first = weighing(scale.address, 1)
    second = first if same_seq else replace(first, seq=2)
    receipt = send(d, batch_fn(d, [(w, sign(d, w, scale)) for w in (first, second)]), gateway(d))
    assert recorded_events(d, receipt) == [expected_recorded(d, first, False)]
    assert rejected_events(d, receipt) == [(first.record_id, scale.address, Reason.DUPLICATE_RECORD)]
    assert entry(d, first.record_id)[:3] == (first.digest(d.weighing_domain), scale.address, 1)
    assert last_seq(d, scale.address) == 1


@pytest.mark.parametrize(
    ("seqs", "outcomes"),
    [
        pytest.param((1, 2, 3), [(Reason.NONE, False)] * 3, id="ascending"),
        pytest.param((2, 1), [(Reason.NONE, True), (Reason.SEQ_REPLAY, False)], id="descending"),
        pytest.param(
            (1, 3, 3, 4),
            [(Reason.NONE, False), (Reason.NONE, True), (Reason.SEQ_REPLAY, False), (Reason.NONE, False)],
            id="gap-repeat-resume",
        ),
        pytest.param((0, 1), [(Reason.SEQ_REPLAY, False), (Reason.NONE, False)], id="zero-then-one"),
    ],
)
def test_batch_applies_seq_rules_in_item_order(
    deployment: Deployment, scale: LocalAccount, seqs: tuple[int, ...], outcomes: list[tuple[Reason, bool]]
) -> None:
    d = deployment
    items = [_valid(d, scale, seq) for seq in seqs]
    receipt = send(d, batch_fn(d, items), gateway(d))
    expected = list(zip(items, outcomes, strict=True))
    assert recorded_events(d, receipt) == [
        expected_recorded(d, w, gap) for (w, _), (reason, gap) in expected if reason is Reason.NONE
    ]
    assert rejected_events(d, receipt) == [
        (w.record_id, w.scale, reason) for (w, _), (reason, _) in expected if reason is not Reason.NONE
    ]
    assert last_seq(d, scale.address) == max(seqs)


def test_batch_of_100_valid_weighings_records_all_of_them(
    deployment: Deployment, scale: LocalAccount
) -> None:
    d = deployment
    items = [_valid(d, scale, seq) for seq in range(1, 101)]
    fn = batch_fn(d, items)
    count = record_count(d)
    assert int(fn.call({"from": gateway(d).address})) == 100
    receipt = send(d, fn, gateway(d))
    assert recorded_events(d, receipt) == [expected_recorded(d, w, False) for w, _ in items]
    assert rejected_events(d, receipt) == []
    assert record_count(d) == count + 100
    assert last_seq(d, scale.address) == 100
    assert all(is_recorded(d, w.record_id) for w, _ in items)


@pytest.mark.parametrize("n_items", [0, 3])
def test_batch_without_valid_items_succeeds_and_records_nothing(
    deployment: Deployment, scale: LocalAccount, n_items: int
) -> None:
    d = deployment
    items = [_valid(d, scale, seq, tare_mode=2) for seq in range(1, n_items + 1)]
    fn = batch_fn(d, items)
    count = record_count(d)
    assert int(fn.call({"from": gateway(d).address})) == 0
    receipt = send(d, fn, gateway(d))
    assert recorded_events(d, receipt) == []
    assert rejected_events(d, receipt) == [(w.record_id, w.scale, Reason.BAD_TARE_MODE) for w, _ in items]
    assert record_count(d) == count
    assert last_seq(d, scale.address) == 0


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


@FUZZ
@given(seqs=st.lists(st.integers(0, 10), min_size=1, max_size=6))
def test_property_seq_numbers_follow_the_reference_model(deployment: Deployment, seqs: list[int]) -> None:
    d = deployment
    s = d.new_scale("aachen")
    last = 0  # the model: the last accepted seq
    for seq in seqs:
        accepted = seq > last
        reason = Reason.NONE if accepted else Reason.SEQ_REPLAY
        submit_expecting(d, *_valid(d, s, seq), reason, seq_gap=accepted and seq != last + 1)
        if accepted:
            last = seq
        assert last_seq(d, s.address) == last


@FUZZ
@given(kinds=st.lists(st.tuples(st.sampled_from(Reason), st.integers(1, 3)), min_size=1, max_size=12))
def test_property_batch_records_exactly_the_valid_items(
    deployment: Deployment,
    recorded_scale: tuple[LocalAccount, Weighing],
    foreign_scale: LocalAccount,
    kinds: list[tuple[Reason, int]],
) -> None:
    plan = plan_for(deployment, recorded_scale, foreign_scale)
    for kind, step in kinds:
        plan.add(kind, step)
    plan.run()
