"""Conformance tests of WeighingLedger's EIP-712 agreement with ledger.records: the type hash, the
struct's fields, the domain, hashWeighing against the Python digest, and a signed weighing that
survives a JSON round trip.

See weighing_support for how the tests share the deployment.
"""

from __future__ import annotations

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.artifacts import load_artifact
from ledger.records import Weighing
from tests.contracts.harness import Deployment, weighing
from tests.contracts.weighing_support import ZERO_ID, Reason, _uint, sign, submit_expecting
from tests.contracts.weighing_support import scale as scale  # a pytest fixture

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
