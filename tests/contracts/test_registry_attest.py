"""Conformance tests of RegistryAttestations: its EIP-712 agreement with ledger.records, and attest():
attestation of registry extracts by document hash, signed by a CLERK (EIP-712) and relayed by a
GATEWAY of the clerk's city, with every reason for which an attestation is refused.

See registry_support for how the tests share the deployment and check refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from contracts.founding import city_id
from ledger.records import Attestation, Domain, Revocation, Supersession, TypedRecord, short_text
from tests.contracts.harness import Deployment
from tests.contracts.registry_support import (
    MAX_CLOCK_SKEW,
    REGISTER_TYPE,
    TEN_YEARS,
    ZERO_ADDRESS,
    ZERO_HASH,
    Refusal,
    Status,
    assert_refused,
    attest_fn,
    attestation,
    attestation_count,
    attested,
    block_time,
    call_error,
    chain_time,
    domain_separator,
    fresh_hash,
    high_s_twin,
    record_of,
    revoke,
    send,
    status,
    supersede,
)

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
