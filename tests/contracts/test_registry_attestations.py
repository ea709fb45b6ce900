"""Conformance tests of RegistryAttestations: attestation, revocation and supersession of registry
extracts by document hash, signed by a CLERK (EIP-712) and relayed by a GATEWAY of the clerk's city.

The deployment is shared by every test of the module and tests run in any order, so each test makes
its own document hashes, and no test relies on how much chain time has passed (advancing time is
global). Every refusal is checked for its custom error and for changing nothing: where the network
would accept the transaction from its sender, the refused transaction is also mined.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from contracts.errors import decode_error
from contracts.founding import Role, city_id
from ledger.records import Attestation, Domain, Revocation, Supersession, TypedRecord, short_text
from tests.contracts.harness import Deployment, revert_data

ZERO_HASH = b"\0" * 32
ZERO_ADDRESS = "0x" + "00" * 20
MAX_CLOCK_SKEW = 300
REGISTER_TYPE = short_text("Melderegister")
TEN_YEARS = 10 * 365 * 86400
# Enough gas for any registry call. Sending with it skips gas estimation, which fails for refused
# calls and, in eth-tester, costs several executions of the call.
TX_GAS = 1_000_000
# Seconds between receipt polls (web3's default, 0.1 s, dominates a transaction's time on a node).
RECEIPT_POLL = 0.005
# RegistryAttestations.Record, in order.
RECORD_FIELDS = (
    "city",
    "registerType",
    "subjectRef",
    "clerk",
    "issuedAt",
    "validUntil",
    "recordedAt",
    "closedAs",
    "closeReason",
    "closedBy",
    "closedAt",
    "successorHash",
)
# secp256k1 group order, to build the high-s twin of a signature.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class Status(IntEnum):
    """Mirrors RegistryAttestations.Status."""

    UNKNOWN = 0
    VALID = 1
    EXPIRED = 2
    REVOKED = 3
    SUPERSEDED = 4


# ------------------------------------------------------------------------------------ helpers


def fresh_hash() -> bytes:
    return os.urandom(32)


def chain_time(d: Deployment) -> int:
    return d.backend.chain_time()


def attestation(
    d: Deployment,
    city: str = "aachen",
    *,
    clerk: LocalAccount | None = None,
    document_hash: bytes | None = None,
    issued_at: int | None = None,
    valid_until: int = 0,
) -> Attestation:
    """An attestation of a fresh document by `clerk` (default: the city's clerk), not yet sent."""
    return Attestation(
        document_hash=document_hash if document_hash is not None else fresh_hash(),
        register_type=REGISTER_TYPE,
        subject_ref=fresh_hash(),
        issued_at=issued_at if issued_at is not None else chain_time(d),
        valid_until=valid_until,
        clerk=(clerk or d.cities[city].clerk).address,
    )


def send(d: Deployment, fn: ContractFunction, sender: LocalAccount) -> TxReceipt:
    """Like Deployment.transact (the transaction must succeed), with a fixed gas limit."""
    tx_hash = fn.transact({"from": sender.address, "gas": TX_GAS})
    receipt = d.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=RECEIPT_POLL)
    assert receipt["status"] == 1, f"transaction {fn.fn_name} failed"
    return receipt


def attest_fn(d: Deployment, a: Attestation, signer: LocalAccount) -> ContractFunction:
    return d.registry.functions.attest(a.as_abi(), a.sign(d.registry_domain, signer.key))


def revoke_fn(d: Deployment, v: Revocation, signer: LocalAccount) -> ContractFunction:
    return d.registry.functions.revoke(v.as_abi(), v.sign(d.registry_domain, signer.key))


def supersede_fn(d: Deployment, s: Supersession, signer: LocalAccount) -> ContractFunction:
    return d.registry.functions.supersede(s.as_abi(), s.sign(d.registry_domain, signer.key))


def attested(d: Deployment, city: str = "aachen", *, valid_until: int = 0) -> Attestation:
    """Attests a fresh document by the city's clerk, relayed by the city's gateway."""
    a = attestation(d, city, valid_until=valid_until)
    send(d, attest_fn(d, a, d.cities[city].clerk), d.cities[city].gateway)
    return a


def revoke(
    d: Deployment, document_hash: bytes, city: str = "aachen", *, clerk: LocalAccount | None = None
) -> TxReceipt:
    signer = clerk or d.cities[city].clerk
    v = Revocation(document_hash, 7, signer.address)
    return send(d, revoke_fn(d, v, signer), d.cities[city].gateway)


def supersede(
    d: Deployment,
    document_hash: bytes,
    successor_hash: bytes,
    city: str = "aachen",
    *,
    clerk: LocalAccount | None = None,
    reason: int = 2,
) -> TxReceipt:
    signer = clerk or d.cities[city].clerk
    s = Supersession(document_hash, successor_hash, reason, signer.address)
    return send(d, supersede_fn(d, s, signer), d.cities[city].gateway)


def status(d: Deployment, document_hash: bytes) -> Status:
    return Status(d.registry.functions.status(document_hash).call())


def record_of(d: Deployment, document_hash: bytes) -> dict[str, Any]:
    """getAttestation as a dict keyed by the Record field names, plus `current` (its Status)."""
    record, current = d.registry.functions.getAttestation(document_hash).call()
    out = dict(zip(RECORD_FIELDS, record, strict=True))
    out["current"] = Status(current)
    return out


def attestation_count(d: Deployment) -> int:
    return int(d.registry.functions.attestationCount().call())


def block_time(d: Deployment, receipt: TxReceipt) -> int:
    return int(d.w3.eth.get_block(receipt["blockNumber"])["timestamp"])


def snapshot(d: Deployment, watched: tuple[bytes, ...]) -> tuple[int, list[Any]]:
    """Everything a refusal must leave alone: the count and the full records (with their status)."""
    return attestation_count(d), [d.registry.functions.getAttestation(h).call() for h in watched]


def may_transact(d: Deployment, sender: LocalAccount) -> bool:
    """Whether the permissioned network would accept a transaction from `sender` to the registry."""
    allowed = d.consortium.functions.transactionAllowed(
        sender.address, d.registry.address, 0, 0, 0, b""
    ).call()
    return bool(allowed)


def call_error(d: Deployment, fn: ContractFunction, sender: LocalAccount, block: int) -> tuple[str, Any]:
    """The custom error of `fn` executed on top of `block`, or ("none", None) if it succeeds."""
    try:
        fn.call({"from": sender.address}, block_identifier=block)
    except Exception as exc:
        data = revert_data(exc)
        if data is None:
            raise
        return decode_error(data)
    return "none", None


@dataclass(frozen=True)
class Refusal:
    """A call that must revert with `error` (whose arguments include `args`) and change nothing."""

    fn: ContractFunction
    sender: LocalAccount
    error: str
    args: dict[str, Any]
    watched: tuple[bytes, ...]


def normalized(value: Any) -> Any:
    """Error arguments as the tests write them: addresses checksummed (decode_error gives lower case)."""
    return Web3.to_checksum_address(value) if isinstance(value, str) and Web3.is_address(value) else value


def assert_refused(d: Deployment, refusal: Refusal) -> None:
    before = snapshot(d, refusal.watched)
    args = d.expect_revert(refusal.fn, refusal.sender, refusal.error)
    assert {k: normalized(args[k]) for k in refusal.args} == refusal.args
    if may_transact(d, refusal.sender):
        tx_hash = refusal.fn.transact({"from": refusal.sender.address, "gas": TX_GAS})
        receipt = d.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=RECEIPT_POLL)
        assert receipt["status"] == 0, f"refused {refusal.error} was mined successfully"
        assert not receipt["logs"]
    assert snapshot(d, refusal.watched) == before


def high_s_twin(signature: bytes) -> bytes:
    """The malleated signature (r, n - s, flipped v): recovers the same signer with raw ecrecover."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


def domain_separator(domain: Domain) -> bytes:
    """The EIP-712 domain separator as eth_account computes it (the header of any signable record)."""
    any_record = Attestation(b"\x01" * 32, REGISTER_TYPE, b"\x02" * 32, 1, 0, ZERO_ADDRESS)
    return bytes(any_record.signable(domain).header)


# ------------------------------------------------------------------- Python/Solidity agreement


@pytest.mark.parametrize(
    ("issued_at", "valid_until", "register"),
    [
        (1_700_000_000, 0, "Melderegister"),
        (1_700_000_000, 1_800_000_000, "Personenstandsregister"),
        (1, 2**64 - 1, ""),
    ],
)
def test_attestation_digest_equals_hash_attestation(
    deployment: Deployment, issued_at: int, valid_until: int, register: str
) -> None:
    d = deployment
    a = Attestation(
        fresh_hash(), short_text(register), fresh_hash(), issued_at, valid_until, d.outsider.address
    )
    assert d.registry.functions.hashAttestation(a.as_abi()).call() == a.digest(d.registry_domain)


@pytest.mark.parametrize(
    ("getter", "record_type"),
    [
        ("ATTESTATION_TYPEHASH", Attestation),
        ("REVOCATION_TYPEHASH", Revocation),
        ("SUPERSESSION_TYPEHASH", Supersession),
    ],
)
def test_type_hashes_equal_python_records(
    deployment: Deployment, getter: str, record_type: type[TypedRecord]
) -> None:
    assert getattr(deployment.registry.functions, getter)().call() == record_type.type_hash()


def test_eip712_domain_is_govchain_registry_version_1_on_this_chain_and_contract(
    deployment: Deployment,
) -> None:
    d = deployment
    fields, name, version, chain_id, verifying_contract, salt, extensions = (
        d.registry.functions.eip712Domain().call()
    )
    assert fields == b"\x0f"  # name, version, chainId, verifyingContract
    assert (name, version) == ("govchain-registry", "1")
    assert chain_id == d.chain_id
    assert verifying_contract == d.registry.address
    assert (salt, extensions) == (ZERO_HASH, [])
    assert (d.registry_domain.name, d.registry_domain.version) == (name, version)
    assert d.registry.functions.domainSeparator().call() == domain_separator(d.registry_domain)


def test_max_clock_skew_is_300_seconds(deployment: Deployment) -> None:
    assert deployment.registry.functions.MAX_CLOCK_SKEW().call() == MAX_CLOCK_SKEW


# ----------------------------------------------------------------------------------- attest()


def test_attest_relayed_by_the_clerks_city_gateway_is_stored_and_emitted(deployment: Deployment) -> None:
    d = deployment
    aachen = d.cities["aachen"]
    now = chain_time(d)
    a = attestation(d, issued_at=now - 60, valid_until=now + TEN_YEARS)
    count = attestation_count(d)
    assert status(d, a.document_hash) == Status.UNKNOWN

    receipt = send(d, attest_fn(d, a, aachen.clerk), aachen.gateway)

    assert attestation_count(d) == count + 1
    assert record_of(d, a.document_hash) == {
        "city": city_id("aachen"),
        "registerType": REGISTER_TYPE,
        "subjectRef": a.subject_ref,
        "clerk": aachen.clerk.address,
        "issuedAt": a.issued_at,
        "validUntil": a.valid_until,
        "recordedAt": block_time(d, receipt),
        "closedAs": Status.UNKNOWN,
        "closeReason": 0,
        "closedBy": ZERO_ADDRESS,
        "closedAt": 0,
        "successorHash": ZERO_HASH,
        "current": Status.VALID,
    }
    assert status(d, a.document_hash) == Status.VALID
    (log,) = d.registry.events.Attested().process_receipt(receipt)
    assert dict(log["args"]) == {
        "documentHash": a.document_hash,
        "city": city_id("aachen"),
        "clerk": aachen.clerk.address,
        "registerType": REGISTER_TYPE,
        "subjectRef": a.subject_ref,
        "issuedAt": a.issued_at,
        "validUntil": a.valid_until,
        "digest": a.digest(d.registry_domain),
    }


def test_attest_by_each_member_city_is_stored_under_that_city(deployment: Deployment) -> None:
    d = deployment
    for name in d.cities:
        a = attested(d, name)
        assert record_of(d, a.document_hash)["city"] == city_id(name)


@pytest.mark.parametrize("sender", ["clerk", "admin", "scale", "outsider", "other-city-clerk"])
def test_attest_not_sent_by_a_gateway_is_refused(deployment: Deployment, sender: str) -> None:
    d = deployment
    aachen = d.cities["aachen"]
    relay = {
        "clerk": aachen.clerk,
        "admin": aachen.admin,
        "scale": aachen.scales[0],
        "outsider": d.outsider,
        "other-city-clerk": d.cities["gelsenkirchen"].clerk,
    }[sender]
    a = attestation(d)
    assert_refused(
        d,
        Refusal(
            attest_fn(d, a, aachen.clerk), relay, "NotAGateway", {"sender": relay.address}, (a.document_hash,)
        ),
    )


@pytest.mark.parametrize("signer", ["gateway", "admin", "scale", "unknown-key"])
def test_attest_signed_by_an_account_that_is_not_a_clerk_is_refused(
    deployment: Deployment, signer: str
) -> None:
    d = deployment
    aachen = d.cities["aachen"]
    account: LocalAccount = {
        "gateway": aachen.gateway,
        "admin": aachen.admin,
        "scale": aachen.scales[0],
        "unknown-key": Account.from_key(fresh_hash()),
    }[signer]
    a = attestation(d, clerk=account)
    assert_refused(
        d,
        Refusal(
            attest_fn(d, a, account),
            aachen.gateway,
            "NotAClerk",
            {"clerk": account.address},
            (a.document_hash,),
        ),
    )


def test_attest_of_a_clerk_relayed_by_another_citys_gateway_is_refused(deployment: Deployment) -> None:
    d = deployment
    clerk = d.cities["gelsenkirchen"].clerk
    a = attestation(d, "gelsenkirchen")
    assert_refused(
        d,
        Refusal(
            attest_fn(d, a, clerk),
            d.cities["aachen"].gateway,
            "WrongCity",
            {"expected": city_id("gelsenkirchen"), "actual": city_id("aachen")},
            (a.document_hash,),
        ),
    )


def _sign_with_another_key(d: Deployment, a: Attestation) -> bytes:
    return a.sign(d.registry_domain, d.cities["aachen"].admin.key)


def _sign_other_content(d: Deployment, a: Attestation) -> bytes:
    other = Attestation(a.document_hash, a.register_type, fresh_hash(), a.issued_at, a.valid_until, a.clerk)
    return other.sign(d.registry_domain, d.cities["aachen"].clerk.key)


def _sign_for_the_weighing_contract(d: Deployment, a: Attestation) -> bytes:
    domain = Domain(d.registry_domain.name, d.chain_id, d.weighing.address)
    return a.sign(domain, d.cities["aachen"].clerk.key)


def _sign_for_another_chain(d: Deployment, a: Attestation) -> bytes:
    domain = Domain(d.registry_domain.name, d.chain_id + 1, d.registry.address)
    return a.sign(domain, d.cities["aachen"].clerk.key)


def _sign_high_s(d: Deployment, a: Attestation) -> bytes:
    return high_s_twin(a.sign(d.registry_domain, d.cities["aachen"].clerk.key))


BAD_ATTESTATION_SIGNATURES: list[Any] = [
    pytest.param(_sign_with_another_key, id="signed-by-another-key"),
    pytest.param(_sign_other_content, id="signature-for-different-content"),
    pytest.param(_sign_for_the_weighing_contract, id="signature-for-another-contract"),
    pytest.param(_sign_for_another_chain, id="signature-for-another-chain"),
    pytest.param(_sign_high_s, id="malleated-high-s-signature"),
    pytest.param(lambda d, a: b"\x5a" * 65, id="garbage-65-bytes"),
    pytest.param(lambda d, a: bytes.fromhex("deadbeef"), id="garbage-short"),
    pytest.param(lambda d, a: b"", id="empty"),
]


@pytest.mark.parametrize("make_signature", BAD_ATTESTATION_SIGNATURES)
def test_attest_with_a_signature_not_by_the_clerk_over_this_record_is_refused(
    deployment: Deployment, make_signature: Callable[[Deployment, Attestation], bytes]
) -> None:
    d = deployment
    aachen = d.cities["aachen"]
    a = attestation(d)
    fn = d.registry.functions.attest(a.as_abi(), make_signature(d, a))
    assert_refused(
        d,
        Refusal(
            fn, aachen.gateway, "BadSignature", {"expectedSigner": aachen.clerk.address}, (a.document_hash,)
        ),
    )


def test_attest_of_the_zero_document_hash_is_refused(deployment: Deployment) -> None:
    d = deployment
    a = attestation(d, document_hash=ZERO_HASH)
    assert_refused(
        d,
        Refusal(
            attest_fn(d, a, d.cities["aachen"].clerk), d.cities["aachen"].gateway, "ZeroDocumentHash", {}, ()
        ),
    )
    assert status(d, ZERO_HASH) == Status.UNKNOWN


@pytest.mark.parametrize(
    ("first_state", "second_city"),
    [
        ("valid", "aachen"),
        ("revoked", "aachen"),
        ("superseded", "aachen"),
        ("valid", "gelsenkirchen"),
    ],
)
def test_attest_of_an_already_attested_hash_is_refused_whatever_its_state(
    deployment: Deployment, first_state: str, second_city: str
) -> None:
    d = deployment
    first = attested(d)
    if first_state == "revoked":
        revoke(d, first.document_hash)
    elif first_state == "superseded":
        supersede(d, first.document_hash, attested(d).document_hash)
    again = attestation(d, second_city, document_hash=first.document_hash)
    city = d.cities[second_city]
    assert_refused(
        d,
        Refusal(
            attest_fn(d, again, city.clerk),
            city.gateway,
            "AlreadyAttested",
            {"documentHash": first.document_hash},
            (first.document_hash,),
        ),
    )
    assert record_of(d, first.document_hash)["subjectRef"] == first.subject_ref


@pytest.mark.parametrize("offset", [-3600, -1, 0])
def test_attest_valid_until_not_after_issued_at_is_refused(deployment: Deployment, offset: int) -> None:
    d = deployment
    issued_at = chain_time(d)
    a = attestation(d, issued_at=issued_at, valid_until=issued_at + offset)
    assert_refused(
        d,
        Refusal(
            attest_fn(d, a, d.cities["aachen"].clerk),
            d.cities["aachen"].gateway,
            "BadValidity",
            {"issuedAt": issued_at, "validUntil": issued_at + offset},
            (a.document_hash,),
        ),
    )


@pytest.mark.parametrize("valid_until", ["no-expiry-0", "issued-at-plus-1", "ten-years"])
def test_attest_valid_until_zero_or_after_issued_at_is_accepted(
    deployment: Deployment, valid_until: str
) -> None:
    d = deployment
    issued_at = chain_time(d)
    until = {"no-expiry-0": 0, "issued-at-plus-1": issued_at + 1, "ten-years": issued_at + TEN_YEARS}[
        valid_until
    ]
    a = attestation(d, issued_at=issued_at, valid_until=until)
    count = attestation_count(d)
    send(d, attest_fn(d, a, d.cities["aachen"].clerk), d.cities["aachen"].gateway)
    assert attestation_count(d) == count + 1
    record = record_of(d, a.document_hash)
    assert record["validUntil"] == until
    assert record["current"] in (Status.VALID, Status.EXPIRED)
    if until == 0:
        assert record["current"] == Status.VALID


def test_attest_issued_up_to_max_clock_skew_ahead_is_accepted_and_beyond_refused(
    deployment: Deployment,
) -> None:
    d = deployment
    aachen = d.cities["aachen"]
    latest = d.w3.eth.get_block("latest")
    limit = int(latest["timestamp"]) + MAX_CLOCK_SKEW
    at_limit = attestation(d, issued_at=limit)
    beyond = attestation(d, issued_at=limit + 1)
    # Both judged against the same block, whose timestamp is the chain time the contract sees.
    assert call_error(d, attest_fn(d, at_limit, aachen.clerk), aachen.gateway, latest["number"]) == (
        "none",
        None,
    )
    assert call_error(d, attest_fn(d, beyond, aachen.clerk), aachen.gateway, latest["number"]) == (
        "IssuedInFuture",
        {"issuedAt": limit + 1, "chainTime": latest["timestamp"]},
    )
    send(d, attest_fn(d, at_limit, aachen.clerk), aachen.gateway)
    assert status(d, at_limit.document_hash) == Status.VALID
    # Far enough ahead that it is still too early in whichever block mines the refused transaction.
    far = attestation(d, issued_at=chain_time(d) + MAX_CLOCK_SKEW + 3600)
    assert_refused(
        d,
        Refusal(
            attest_fn(d, far, aachen.clerk),
            aachen.gateway,
            "IssuedInFuture",
            {"issuedAt": far.issued_at},
            (far.document_hash,),
        ),
    )


# ----------------------------------------------------------------------------------- status()


def test_status_of_an_unseen_hash_is_unknown(deployment: Deployment) -> None:
    d = deployment
    h = fresh_hash()
    assert status(d, h) == Status.UNKNOWN
    assert record_of(d, h)["current"] == Status.UNKNOWN
    assert record_of(d, h)["recordedAt"] == 0


def test_status_is_valid_through_valid_until_and_expired_after_it(deployment: Deployment) -> None:
    d = deployment
    now = chain_time(d)
    a = attestation(d, issued_at=now, valid_until=now + 60)
    receipt = send(d, attest_fn(d, a, d.cities["aachen"].clerk), d.cities["aachen"].gateway)
    assert status(d, a.document_hash) == Status.VALID
    while chain_time(d) <= a.valid_until:
        d.backend.advance_time(max(2, a.valid_until - chain_time(d)))
    assert status(d, a.document_hash) == Status.EXPIRED
    assert record_of(d, a.document_hash)["current"] == Status.EXPIRED
    # Every block since the attestation: Valid while its time <= validUntil, Expired after.
    seen = set()
    for number in range(receipt["blockNumber"], d.w3.eth.block_number + 1):
        block_ts = int(d.w3.eth.get_block(number)["timestamp"])
        expected = Status.VALID if block_ts <= a.valid_until else Status.EXPIRED
        assert d.registry.functions.status(a.document_hash).call(block_identifier=number) == expected
        seen.add(expected)
    assert seen == {Status.VALID, Status.EXPIRED}


def test_status_without_expiry_stays_valid_as_time_passes(deployment: Deployment) -> None:
    d = deployment
    a = attested(d, valid_until=0)
    d.backend.advance_time(86400)
    assert status(d, a.document_hash) == Status.VALID


# ----------------------------------------------------------------------------------- revoke()


@pytest.mark.parametrize("by", ["issuing-clerk", "another-clerk-of-the-city"])
def test_revoke_by_a_clerk_of_the_issuing_city_closes_the_document(deployment: Deployment, by: str) -> None:
    d = deployment
    aachen = d.cities["aachen"]
    a = attested(d)
    clerk = aachen.clerk if by == "issuing-clerk" else d.add_account("aachen", Role.CLERK)
    count = attestation_count(d)
    v = Revocation(a.document_hash, 5, clerk.address)

    receipt = send(d, revoke_fn(d, v, clerk), aachen.gateway)

    assert status(d, a.document_hash) == Status.REVOKED
    record = record_of(d, a.document_hash)
    assert record["current"] == record["closedAs"] == Status.REVOKED
    assert (record["closeReason"], record["closedBy"], record["closedAt"]) == (
        5,
        clerk.address,
        block_time(d, receipt),
    )
    assert record["successorHash"] == ZERO_HASH
    assert (record["clerk"], record["subjectRef"]) == (aachen.clerk.address, a.subject_ref)
    assert attestation_count(d) == count
    (log,) = d.registry.events.Revoked().process_receipt(receipt)
    assert dict(log["args"]) == {
        "documentHash": a.document_hash,
        "city": city_id("aachen"),
        "clerk": clerk.address,
        "reason": 5,
    }


def test_revoke_of_an_expired_document_is_allowed(deployment: Deployment) -> None:
    d = deployment
    now = chain_time(d)
    a = attested(d, valid_until=now + 5)
    d.backend.advance_time(20)
    assert status(d, a.document_hash) == Status.EXPIRED
    revoke(d, a.document_hash)
    assert status(d, a.document_hash) == Status.REVOKED


def _revocation(
    d: Deployment,
    document_hash: bytes,
    *,
    city: str = "aachen",
    reason: int = 1,
    signer: LocalAccount | None = None,
    relay: LocalAccount | None = None,
    error: str,
    args: dict[str, Any] | None = None,
) -> Refusal:
    clerk = signer or d.cities[city].clerk
    v = Revocation(document_hash, reason, clerk.address)
    return Refusal(
        revoke_fn(d, v, clerk), relay or d.cities[city].gateway, error, args or {}, (document_hash,)
    )


def _revoke_reason_zero(d: Deployment) -> Refusal:
    return _revocation(d, attested(d).document_hash, reason=0, error="MissingReason")


def _revoke_unknown(d: Deployment) -> Refusal:
    h = fresh_hash()
    return _revocation(d, h, error="UnknownDocument", args={"documentHash": h})


def _revoke_by_other_city(d: Deployment) -> Refusal:
    a = attested(d)
    return _revocation(
        d,
        a.document_hash,
        city="gelsenkirchen",
        error="WrongCity",
        args={"expected": city_id("aachen"), "actual": city_id("gelsenkirchen")},
    )


def _revoke_relayed_by_other_city(d: Deployment) -> Refusal:
    a = attested(d)
    return _revocation(
        d,
        a.document_hash,
        relay=d.cities["gelsenkirchen"].gateway,
        error="WrongCity",
        args={"expected": city_id("aachen"), "actual": city_id("gelsenkirchen")},
    )


def _revoke_twice(d: Deployment) -> Refusal:
    a = attested(d)
    revoke(d, a.document_hash)
    return _revocation(
        d, a.document_hash, error="NotOpen", args={"documentHash": a.document_hash, "status": Status.REVOKED}
    )


def _revoke_superseded(d: Deployment) -> Refusal:
    a = attested(d)
    supersede(d, a.document_hash, attested(d).document_hash)
    return _revocation(
        d,
        a.document_hash,
        error="NotOpen",
        args={"documentHash": a.document_hash, "status": Status.SUPERSEDED},
    )


def _revoke_signed_by_another_key(d: Deployment) -> Refusal:
    a = attested(d)
    aachen = d.cities["aachen"]
    v = Revocation(a.document_hash, 1, aachen.clerk.address)
    fn = d.registry.functions.revoke(v.as_abi(), v.sign(d.registry_domain, aachen.admin.key))
    return Refusal(
        fn, aachen.gateway, "BadSignature", {"expectedSigner": aachen.clerk.address}, (a.document_hash,)
    )


def _revoke_signature_for_another_document(d: Deployment) -> Refusal:
    a, b = attested(d), attested(d)
    aachen = d.cities["aachen"]
    v = Revocation(a.document_hash, 1, aachen.clerk.address)
    other = Revocation(b.document_hash, 1, aachen.clerk.address)
    fn = d.registry.functions.revoke(v.as_abi(), other.sign(d.registry_domain, aachen.clerk.key))
    return Refusal(
        fn,
        aachen.gateway,
        "BadSignature",
        {"expectedSigner": aachen.clerk.address},
        (a.document_hash, b.document_hash),
    )


def _revoke_signature_for_another_reason(d: Deployment) -> Refusal:
    a = attested(d)
    aachen = d.cities["aachen"]
    v = Revocation(a.document_hash, 1, aachen.clerk.address)
    fn = d.registry.functions.revoke(
        v.as_abi(), Revocation(a.document_hash, 2, v.clerk).sign(d.registry_domain, aachen.clerk.key)
    )
    return Refusal(
        fn, aachen.gateway, "BadSignature", {"expectedSigner": aachen.clerk.address}, (a.document_hash,)
    )


def _revoke_with_attestation_signature(d: Deployment) -> Refusal:
    a = attested(d)
    aachen = d.cities["aachen"]
    v = Revocation(a.document_hash, 1, aachen.clerk.address)
    fn = d.registry.functions.revoke(v.as_abi(), a.sign(d.registry_domain, aachen.clerk.key))
    return Refusal(
        fn, aachen.gateway, "BadSignature", {"expectedSigner": aachen.clerk.address}, (a.document_hash,)
    )


def _revoke_garbage_signature(d: Deployment) -> Refusal:
    a = attested(d)
    aachen = d.cities["aachen"]
    v = Revocation(a.document_hash, 1, aachen.clerk.address)
    fn = d.registry.functions.revoke(v.as_abi(), b"\x5a" * 65)
    return Refusal(
        fn, aachen.gateway, "BadSignature", {"expectedSigner": aachen.clerk.address}, (a.document_hash,)
    )


def _revoke_signed_by_gateway(d: Deployment) -> Refusal:
    a = attested(d)
    gateway = d.cities["aachen"].gateway
    return _revocation(d, a.document_hash, signer=gateway, error="NotAClerk", args={"clerk": gateway.address})


def _revoke_signed_by_admin(d: Deployment) -> Refusal:
    a = attested(d)
    admin = d.cities["aachen"].admin
    return _revocation(d, a.document_hash, signer=admin, error="NotAClerk", args={"clerk": admin.address})


def _revoke_sent_by_clerk(d: Deployment) -> Refusal:
    a = attested(d)
    clerk = d.cities["aachen"].clerk
    return _revocation(d, a.document_hash, relay=clerk, error="NotAGateway", args={"sender": clerk.address})


def _revoke_sent_by_outsider(d: Deployment) -> Refusal:
    a = attested(d)
    return _revocation(
        d, a.document_hash, relay=d.outsider, error="NotAGateway", args={"sender": d.outsider.address}
    )


REVOKE_REFUSALS: list[Any] = [
    pytest.param(_revoke_reason_zero, id="reason-0-MissingReason"),
    pytest.param(_revoke_unknown, id="unattested-hash-UnknownDocument"),
    pytest.param(_revoke_by_other_city, id="clerk-of-another-city-WrongCity"),
    pytest.param(_revoke_relayed_by_other_city, id="relayed-by-another-citys-gateway-WrongCity"),
    pytest.param(_revoke_twice, id="revoked-twice-NotOpen"),
    pytest.param(_revoke_superseded, id="superseded-document-NotOpen"),
    pytest.param(_revoke_signed_by_another_key, id="signed-by-another-key-BadSignature"),
    pytest.param(_revoke_signature_for_another_document, id="signature-for-another-document-BadSignature"),
    pytest.param(_revoke_signature_for_another_reason, id="signature-for-another-reason-BadSignature"),
    pytest.param(_revoke_with_attestation_signature, id="attestation-signature-BadSignature"),
    pytest.param(_revoke_garbage_signature, id="garbage-signature-BadSignature"),
    pytest.param(_revoke_signed_by_gateway, id="signed-by-gateway-NotAClerk"),
    pytest.param(_revoke_signed_by_admin, id="signed-by-admin-NotAClerk"),
    pytest.param(_revoke_sent_by_clerk, id="sent-by-clerk-NotAGateway"),
    pytest.param(_revoke_sent_by_outsider, id="sent-by-outsider-NotAGateway"),
]


@pytest.mark.parametrize("make_refusal", REVOKE_REFUSALS)
def test_revoke_refusals_revert_with_their_error_and_change_nothing(
    deployment: Deployment, make_refusal: Callable[[Deployment], Refusal]
) -> None:
    assert_refused(deployment, make_refusal(deployment))


def test_removed_clerk_can_no_longer_revoke_but_the_citys_other_clerks_can(deployment: Deployment) -> None:
    d = deployment
    aachen = d.cities["aachen"]
    clerk = d.add_account("aachen", Role.CLERK)
    a = attestation(d, clerk=clerk)
    send(d, attest_fn(d, a, clerk), aachen.gateway)
    v = Revocation(a.document_hash, 3, clerk.address)
    # While active, the clerk could revoke it.
    d.registry.functions.revoke(v.as_abi(), v.sign(d.registry_domain, clerk.key)).call(
        {"from": aachen.gateway.address}
    )

    send(d, d.consortium.functions.removeAccount(clerk.address), aachen.admin)

    assert_refused(
        d,
        Refusal(
            revoke_fn(d, v, clerk), aachen.gateway, "NotAClerk", {"clerk": clerk.address}, (a.document_hash,)
        ),
    )
    late = attestation(d, clerk=clerk)
    assert_refused(
        d,
        Refusal(
            attest_fn(d, late, clerk),
            aachen.gateway,
            "NotAClerk",
            {"clerk": clerk.address},
            (late.document_hash,),
        ),
    )
    assert status(d, a.document_hash) == Status.VALID
    revoke(d, a.document_hash)
    assert record_of(d, a.document_hash)["closedBy"] == aachen.clerk.address


# --------------------------------------------------------------------------------- supersede()


def test_supersede_marks_the_old_document_superseded_by_its_successor(deployment: Deployment) -> None:
    d = deployment
    aachen = d.cities["aachen"]
    old, new = attested(d), attested(d)
    clerk = d.add_account("aachen", Role.CLERK)
    count = attestation_count(d)

    receipt = supersede(d, old.document_hash, new.document_hash, clerk=clerk, reason=4)

    assert status(d, old.document_hash) == Status.SUPERSEDED
    assert status(d, new.document_hash) == Status.VALID
    record = record_of(d, old.document_hash)
    assert record["current"] == record["closedAs"] == Status.SUPERSEDED
    assert record["successorHash"] == new.document_hash
    assert (record["closeReason"], record["closedBy"], record["closedAt"]) == (
        4,
        clerk.address,
        block_time(d, receipt),
    )
    assert record_of(d, new.document_hash)["closedAs"] == Status.UNKNOWN
    assert attestation_count(d) == count
    (log,) = d.registry.events.Superseded().process_receipt(receipt)
    assert dict(log["args"]) == {
        "documentHash": old.document_hash,
        "successorHash": new.document_hash,
        "city": city_id("aachen"),
        "clerk": clerk.address,
        "reason": 4,
    }
    assert aachen.clerk.address == record["clerk"]


def _supersession(
    d: Deployment,
    old: bytes,
    new: bytes,
    *,
    city: str = "aachen",
    reason: int = 1,
    error: str,
    args: dict[str, Any] | None = None,
    signature: bytes | None = None,
) -> Refusal:
    clerk = d.cities[city].clerk
    s = Supersession(old, new, reason, clerk.address)
    sig = signature if signature is not None else s.sign(d.registry_domain, clerk.key)
    fn = d.registry.functions.supersede(s.as_abi(), sig)
    return Refusal(fn, d.cities[city].gateway, error, args or {}, (old, new))


def _supersede_reason_zero(d: Deployment) -> Refusal:
    return _supersession(
        d, attested(d).document_hash, attested(d).document_hash, reason=0, error="MissingReason"
    )


def _supersede_by_itself(d: Deployment) -> Refusal:
    h = attested(d).document_hash
    return _supersession(d, h, h, error="SelfSupersession", args={"documentHash": h})


def _supersede_unknown_old(d: Deployment) -> Refusal:
    h = fresh_hash()
    return _supersession(d, h, attested(d).document_hash, error="UnknownDocument", args={"documentHash": h})


def _supersede_by_unknown_successor(d: Deployment) -> Refusal:
    h = fresh_hash()
    return _supersession(d, attested(d).document_hash, h, error="UnknownDocument", args={"documentHash": h})


def _supersede_by_other_citys_successor(d: Deployment) -> Refusal:
    return _supersession(
        d,
        attested(d).document_hash,
        attested(d, "gelsenkirchen").document_hash,
        error="WrongCity",
        args={"expected": city_id("aachen"), "actual": city_id("gelsenkirchen")},
    )


def _supersede_by_clerk_of_other_city(d: Deployment) -> Refusal:
    return _supersession(
        d,
        attested(d).document_hash,
        attested(d, "gelsenkirchen").document_hash,
        city="gelsenkirchen",
        error="WrongCity",
        args={"expected": city_id("aachen"), "actual": city_id("gelsenkirchen")},
    )


def _supersede_by_revoked_successor(d: Deployment) -> Refusal:
    new = attested(d).document_hash
    revoke(d, new)
    return _supersession(
        d,
        attested(d).document_hash,
        new,
        error="SuccessorNotValid",
        args={"successorHash": new, "status": Status.REVOKED},
    )


def _supersede_by_superseded_successor(d: Deployment) -> Refusal:
    new, newest = attested(d).document_hash, attested(d).document_hash
    supersede(d, new, newest)
    return _supersession(
        d,
        attested(d).document_hash,
        new,
        error="SuccessorNotValid",
        args={"successorHash": new, "status": Status.SUPERSEDED},
    )


def _supersede_by_expired_successor(d: Deployment) -> Refusal:
    new = attested(d, valid_until=chain_time(d) + 5).document_hash
    d.backend.advance_time(20)
    assert status(d, new) == Status.EXPIRED
    return _supersession(
        d,
        attested(d).document_hash,
        new,
        error="SuccessorNotValid",
        args={"successorHash": new, "status": Status.EXPIRED},
    )


def _supersede_superseded(d: Deployment) -> Refusal:
    old = attested(d).document_hash
    supersede(d, old, attested(d).document_hash)
    return _supersession(
        d,
        old,
        attested(d).document_hash,
        error="NotOpen",
        args={"documentHash": old, "status": Status.SUPERSEDED},
    )


def _supersede_revoked(d: Deployment) -> Refusal:
    old = attested(d).document_hash
    revoke(d, old)
    return _supersession(
        d,
        old,
        attested(d).document_hash,
        error="NotOpen",
        args={"documentHash": old, "status": Status.REVOKED},
    )


def _supersede_signed_by_another_key(d: Deployment) -> Refusal:
    old, new = attested(d).document_hash, attested(d).document_hash
    aachen = d.cities["aachen"]
    sig = Supersession(old, new, 1, aachen.clerk.address).sign(d.registry_domain, aachen.admin.key)
    return _supersession(
        d, old, new, signature=sig, error="BadSignature", args={"expectedSigner": aachen.clerk.address}
    )


def _supersede_signature_for_another_successor(d: Deployment) -> Refusal:
    old, new, other = attested(d).document_hash, attested(d).document_hash, attested(d).document_hash
    aachen = d.cities["aachen"]
    sig = Supersession(old, other, 1, aachen.clerk.address).sign(d.registry_domain, aachen.clerk.key)
    return _supersession(
        d, old, new, signature=sig, error="BadSignature", args={"expectedSigner": aachen.clerk.address}
    )


def _supersede_with_revocation_signature(d: Deployment) -> Refusal:
    old, new = attested(d).document_hash, attested(d).document_hash
    aachen = d.cities["aachen"]
    sig = Revocation(old, 1, aachen.clerk.address).sign(d.registry_domain, aachen.clerk.key)
    return _supersession(
        d, old, new, signature=sig, error="BadSignature", args={"expectedSigner": aachen.clerk.address}
    )


def _supersede_sent_by_clerk(d: Deployment) -> Refusal:
    refusal = _supersession(d, attested(d).document_hash, attested(d).document_hash, error="NotAGateway")
    clerk = d.cities["aachen"].clerk
    return Refusal(refusal.fn, clerk, "NotAGateway", {"sender": clerk.address}, refusal.watched)


def _supersede_signed_by_scale(d: Deployment) -> Refusal:
    old, new = attested(d).document_hash, attested(d).document_hash
    aachen = d.cities["aachen"]
    scale = aachen.scales[0]
    s = Supersession(old, new, 1, scale.address)
    return Refusal(
        supersede_fn(d, s, scale), aachen.gateway, "NotAClerk", {"clerk": scale.address}, (old, new)
    )


SUPERSEDE_REFUSALS: list[Any] = [
    pytest.param(_supersede_reason_zero, id="reason-0-MissingReason"),
    pytest.param(_supersede_by_itself, id="successor-is-itself-SelfSupersession"),
    pytest.param(_supersede_unknown_old, id="unattested-old-UnknownDocument"),
    pytest.param(_supersede_by_unknown_successor, id="unattested-successor-UnknownDocument"),
    pytest.param(_supersede_by_other_citys_successor, id="successor-of-another-city-WrongCity"),
    pytest.param(_supersede_by_clerk_of_other_city, id="clerk-of-another-city-WrongCity"),
    pytest.param(_supersede_by_revoked_successor, id="revoked-successor-SuccessorNotValid"),
    pytest.param(_supersede_by_superseded_successor, id="superseded-successor-SuccessorNotValid"),
    pytest.param(_supersede_by_expired_successor, id="expired-successor-SuccessorNotValid"),
    pytest.param(_supersede_superseded, id="already-superseded-NotOpen"),
    pytest.param(_supersede_revoked, id="revoked-old-NotOpen"),
    pytest.param(_supersede_signed_by_another_key, id="signed-by-another-key-BadSignature"),
    pytest.param(
        _supersede_signature_for_another_successor, id="signature-for-another-successor-BadSignature"
    ),
    pytest.param(_supersede_with_revocation_signature, id="revocation-signature-BadSignature"),
    pytest.param(_supersede_sent_by_clerk, id="sent-by-clerk-NotAGateway"),
    pytest.param(_supersede_signed_by_scale, id="signed-by-scale-NotAClerk"),
]


@pytest.mark.parametrize("make_refusal", SUPERSEDE_REFUSALS)
def test_supersede_refusals_revert_with_their_error_and_change_nothing(
    deployment: Deployment, make_refusal: Callable[[Deployment], Refusal]
) -> None:
    assert_refused(deployment, make_refusal(deployment))


# ----------------------------------------------------- property: random operation sequences

N_DOCS = 3
MODEL_CITIES = ("aachen", "gelsenkirchen")
# Chain time is shared (on the node, by the whole session), so the steps are kept short.
VALIDITY = 900  # an expiring document's validUntil - issuedAt
SHORT_STEP = 30  # the longest run of short steps (and blocks) stays far below VALIDITY
LONG_STEP = VALIDITY + 100  # expires everything attested before it


@dataclass(frozen=True)
class AttestOp:
    doc: int
    city: str
    expires: bool


@dataclass(frozen=True)
class RevokeOp:
    """Revocation of `doc` by the clerk of its city, or with `foreign` of the other city."""

    doc: int
    foreign: bool


@dataclass(frozen=True)
class SupersedeOp:
    """Supersession of `doc` by `successor`, signed as RevokeOp is."""

    doc: int
    successor: int
    foreign: bool


@dataclass(frozen=True)
class AdvanceOp:
    seconds: int


Op = AttestOp | RevokeOp | SupersedeOp | AdvanceOp

_docs = st.integers(0, N_DOCS - 1)
# Mostly the first city and mostly the document's own city, so that the accepted paths are common.
_cities = st.sampled_from((*[MODEL_CITIES[0]] * 3, MODEL_CITIES[1]))
_foreign = st.sampled_from((False, False, False, True))
_attest = st.builds(AttestOp, doc=_docs, city=_cities, expires=st.booleans())
# The successor is mostly another of the documents, now and then the document itself.
_supersede = st.builds(
    lambda doc, step, foreign: SupersedeOp(doc, (doc + step) % N_DOCS, foreign),
    doc=_docs,
    step=st.sampled_from((1, 2, 1, 2, 0)),
    foreign=_foreign,
)
OPS: st.SearchStrategy[Op] = st.one_of(
    _attest,
    st.builds(RevokeOp, doc=_docs, foreign=_foreign),
    _supersede,
    _supersede,
    st.builds(AdvanceOp, seconds=st.sampled_from([SHORT_STEP, LONG_STEP])),
)


@dataclass
class ModelDoc:
    city: str
    valid_until: int
    closed: Status = Status.UNKNOWN

    def status(self, now: int) -> Status:
        if self.closed != Status.UNKNOWN:
            return self.closed
        if self.valid_until != 0 and now > self.valid_until:
            return Status.EXPIRED
        return Status.VALID


def model_status(docs: dict[int, ModelDoc], i: int, now: int) -> Status:
    doc = docs.get(i)
    return Status.UNKNOWN if doc is None else doc.status(now)


def acting_city(op: AttestOp | RevokeOp | SupersedeOp, docs: dict[int, ModelDoc]) -> str:
    """The city whose clerk signs `op` and whose gateway relays it."""
    if isinstance(op, AttestOp):
        return op.city
    own = docs[op.doc].city if op.doc in docs else MODEL_CITIES[0]
    return next(c for c in MODEL_CITIES if c != own) if op.foreign else own


def expected_refusal(
    op: AttestOp | RevokeOp | SupersedeOp, city: str, docs: dict[int, ModelDoc], now: int
) -> str | None:
    """The error the contract must refuse `op` by `city` with, or None if it must accept it."""
    if isinstance(op, AttestOp):
        return "AlreadyAttested" if op.doc in docs else None
    if isinstance(op, SupersedeOp) and op.successor == op.doc:
        return "SelfSupersession"
    doc = docs.get(op.doc)
    if doc is None:
        return "UnknownDocument"
    if doc.city != city:
        return "WrongCity"
    if doc.closed != Status.UNKNOWN:
        return "NotOpen"
    if isinstance(op, SupersedeOp):
        successor = docs.get(op.successor)
        if successor is None:
            return "UnknownDocument"
        if successor.city != doc.city:
            return "WrongCity"
        if successor.status(now) != Status.VALID:
            return "SuccessorNotValid"
    return None


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    initial=st.lists(
        st.tuples(st.sampled_from((True, True, True, False)), _cities, st.booleans()),
        min_size=N_DOCS,
        max_size=N_DOCS,
    ),
    later=st.lists(OPS, min_size=2, max_size=10),
)
def test_random_operation_sequences_follow_the_status_model(
    deployment: Deployment, initial: list[tuple[bool, str, bool]], later: list[Op]
) -> None:
    """Attestations of some of a few fresh documents (`initial`: whether, by which city and whether
    it expires), then random attest / revoke / supersede / time steps: accepted exactly when the model
    accepts, refused with the model's error otherwise, and the status of every document the step may
    have changed (and the attestation count) as the model says after each step."""
    d = deployment
    hashes = [fresh_hash() for _ in range(N_DOCS)]
    docs: dict[int, ModelDoc] = {}
    count = attestation_count(d)

    def check(indices: Iterable[int], after: Op | None) -> None:
        now = chain_time(d)
        for i in indices:
            assert status(d, hashes[i]) == model_status(docs, i, now), f"document {i} after {after}"
        assert attestation_count(d) == count

    first: list[Op] = [AttestOp(i, city, expires) for i, (made, city, expires) in enumerate(initial) if made]
    for op in [*first, *later]:
        now = chain_time(d)
        if isinstance(op, AdvanceOp):
            d.backend.advance_time(op.seconds)
            check(range(N_DOCS), op)
            continue
        city = acting_city(op, docs)
        clerk, gateway = d.cities[city].clerk, d.cities[city].gateway
        fn: ContractFunction
        valid_until = now + VALIDITY if isinstance(op, AttestOp) and op.expires else 0
        if isinstance(op, AttestOp):
            a = attestation(d, city, document_hash=hashes[op.doc], issued_at=now, valid_until=valid_until)
            fn = attest_fn(d, a, clerk)
        elif isinstance(op, RevokeOp):
            fn = revoke_fn(d, Revocation(hashes[op.doc], 1, clerk.address), clerk)
        else:
            fn = supersede_fn(d, Supersession(hashes[op.doc], hashes[op.successor], 1, clerk.address), clerk)
        refusal = expected_refusal(op, city, docs, now)
        event(f"{type(op).__name__} -> {refusal or 'accepted'}")
        if refusal is not None:
            d.expect_revert(fn, gateway, refusal)  # a call: it cannot change anything
            continue
        send(d, fn, gateway)
        if isinstance(op, AttestOp):
            docs[op.doc] = ModelDoc(city, valid_until)
            count += 1
        else:
            docs[op.doc].closed = Status.REVOKED if isinstance(op, RevokeOp) else Status.SUPERSEDED
        check({op.doc, op.successor} if isinstance(op, SupersedeOp) else {op.doc}, op)
    check(range(N_DOCS), None)
