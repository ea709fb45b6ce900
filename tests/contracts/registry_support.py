"""Helpers shared by the RegistryAttestations conformance tests (test_registry_*.py).

The deployment is shared by every test of a module and tests run in any order, so each test makes
its own document hashes, and no test relies on how much chain time has passed (advancing time is
global). Every refusal is checked for its custom error and for changing nothing (`assert_refused`):
where the network would accept the transaction from its sender, the refused transaction is also
mined.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from contracts.errors import decode_error
from ledger.records import Attestation, Domain, Revocation, Supersession, short_text
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
