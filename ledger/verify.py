"""Offline verification of a proof bundle against the consortium's trust file.

Trust file: {"chainId": 4242, "genesisHash": "0x…", "validators": ["0x…", …]} — the genesis
validator set, which every partner city can check once. Checks, in order; the first failing one
is the verdict:
  format      the bundle is a govchain proof bundle of a known kind
  chain       its chain id is the trust file's
  signature   the record's EIP-712 signature is the scale's (weighing) or the clerk's (attestation)
  header      the header hashes to the block hash (QBFT hashing, or plain keccak without seals)
  validators  each validator-set change is sealed by a quorum of the set before it
  seals       the block is sealed by a quorum (⌈2n/3⌉) of the validators of its parent
  inclusion   the receipt is in the block's receipt trie (Merkle proof against receiptsRoot)
  event       the receipt succeeded and its log records exactly this record (id and digest)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rlp
from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak
from trie.exceptions import BadTrieProof
from trie.hexary import HexaryTrie

from ledger.bundle import FORMAT
from ledger.errors import BundleError
from ledger.events import decode_event
from ledger.records import Attestation, RecordFormatError, TypedRecord, Weighing, domain_for
from protocol.qbft_extra import (
    EXTRA_DATA_INDEX,
    ExtraDataError,
    QbftExtra,
    block_hash_of_rlp,
    commit_seal_hash_of_rlp,
    quorum,
    recover_seal,
)

RECORD_TYPES: dict[str, type[TypedRecord]] = {"weighing": Weighing, "attestation": Attestation}
RECEIPTS_ROOT_INDEX = 5
NUMBER_INDEX = 8


@dataclass
class Verdict:
    valid: bool
    checks: list[tuple[str, str]] = field(default_factory=list)  # (check, what it established)
    failed: BundleError | None = None
    warnings: list[str] = field(default_factory=list)
    stage: str = "format"  # the check in progress

    def describe(self) -> str:
        lines = [f"  ✓ {check}: {detail}" for check, detail in self.checks]
        if self.failed is not None:
            lines.append(f"  ✗ {self.failed.check}: {self.failed.reason}")
        lines += [f"  ! {w}" for w in self.warnings]
        head = "VALID" if self.valid else "INVALID"
        return "\n".join([head, *lines])


def load_trust(path: Path) -> dict[str, Any]:
    trust: dict[str, Any] = json.loads(path.read_text())
    return trust


def verify_bundle(bundle: Any, trust: dict[str, Any]) -> Verdict:
    verdict = Verdict(valid=False)
    try:
        _verify(bundle, trust, verdict)
    except BundleError as exc:
        verdict.failed = exc
        return verdict
    except Exception as exc:  # any malformed input fails the check in progress, never the verifier
        verdict.failed = BundleError(verdict.stage, f"malformed ({type(exc).__name__}: {exc})")
        return verdict
    verdict.valid = True
    return verdict


def _hex(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise BundleError("format", f"{name} must be 0x-hex")
    return bytes.fromhex(value[2:])


def _verify(bundle: Any, trust: dict[str, Any], verdict: Verdict) -> None:
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleError("format", f"not a {FORMAT} document")
    kind = bundle.get("kind")
    if kind not in RECORD_TYPES:
        raise BundleError("format", f"unknown kind {kind!r}")
    verdict.checks.append(("format", f"{FORMAT}, {kind}"))

    verdict.stage = "chain"
    if bundle["chainId"] != trust["chainId"]:
        raise BundleError(
            "chain", f"bundle is for chain {bundle['chainId']}, the trust file for {trust['chainId']}"
        )
    verdict.checks.append(("chain", f"chain id {trust['chainId']}"))

    verdict.stage = "signature"
    try:
        record = RECORD_TYPES[kind].from_json(bundle["record"])
    except RecordFormatError as exc:
        raise BundleError("signature", f"record field {exc}") from None
    domain = domain_for(RECORD_TYPES[kind], bundle["chainId"], bundle["contract"])
    signer = record.recover(domain, _hex(bundle["signature"], "signature"))
    expected = record.scale if isinstance(record, Weighing) else getattr(record, "clerk", None)
    if signer != expected:
        raise BundleError("signature", f"signed by {signer}, the record names {expected}")
    verdict.checks.append(("signature", f"signed by {signer}"))

    verdict.stage = "header"
    header = _hex(bundle["block"]["header"], "block.header")
    fields = rlp.decode(header)
    qbft = bundle.get("consensus") == "qbft"
    computed = block_hash_of_rlp(header) if qbft else keccak(header)
    if computed != _hex(bundle["block"]["hash"], "block.hash"):
        raise BundleError("header", "the header does not hash to the block hash")
    number = int.from_bytes(fields[NUMBER_INDEX], "big")
    if number != bundle["block"]["number"]:
        raise BundleError("header", "the header's number is not the bundle's block number")
    verdict.checks.append(("header", f"block {number} {bundle['block']['hash']}"))

    if qbft:
        verdict.stage = "validators"
        validators = _validators_before(number, bundle["validatorChanges"], trust, verdict)
        verdict.stage = "seals"
        signers = _seal_signers(header, validators)
        if len(signers) < quorum(len(validators)):
            raise BundleError("seals", f"{len(signers)} valid commit seals, {quorum(len(validators))} needed")
        verdict.checks.append(("seals", f"sealed by {len(signers)} of {len(validators)} validators"))
    else:
        verdict.warnings.append(
            "no commit seals (an engine without BFT finality, e.g. anvil): the bundle proves inclusion "
            "in this block, not that the consortium's validators finalised it"
        )

    verdict.stage = "inclusion"
    encoded = _hex(bundle["receipt"]["encoded"], "receipt.encoded")
    proof = [rlp.decode(_hex(node, "receipt.proof")) for node in bundle["receipt"]["proof"]]
    key = rlp.encode(bundle["transaction"]["index"])
    try:
        proven = HexaryTrie.get_from_proof(fields[RECEIPTS_ROOT_INDEX], key, proof)  # type: ignore[no-untyped-call]
    except BadTrieProof as exc:
        raise BundleError("inclusion", f"the receipt proof does not verify ({exc})") from None
    if proven != encoded:
        raise BundleError("inclusion", "the receipt is not the one the block's receipt trie holds")
    verdict.checks.append(("inclusion", f"receipt {bundle['transaction']['index']} of block {number}"))

    verdict.stage = "event"
    _check_event(encoded, bundle, record, domain, verdict)


def _validators_before(
    number: int, changes: list[dict[str, Any]], trust: dict[str, Any], verdict: Verdict
) -> set[bytes]:
    validators: set[bytes] = {bytes(to_canonical_address(v)) for v in trust["validators"]}
    last = 0
    for change in changes:
        header = _hex(change["header"], "validatorChanges.header")
        at = int.from_bytes(rlp.decode(header)[NUMBER_INDEX], "big")
        if at != change["number"] or not last < at < number:
            raise BundleError("validators", f"validator change at block {change['number']} is out of order")
        signers = _seal_signers(header, validators)
        if len(signers) < quorum(len(validators)):
            raise BundleError("validators", f"validator change at block {at} is not sealed by a quorum")
        validators = set(QbftExtra.decode(rlp.decode(header)[EXTRA_DATA_INDEX]).validators)
        last = at
    verdict.checks.append(
        ("validators", f"{len(changes)} validator-set changes since genesis, {len(validators)} now")
    )
    return validators


def _seal_signers(header: bytes, validators: set[bytes]) -> set[bytes]:
    try:
        extra = QbftExtra.decode(rlp.decode(header)[EXTRA_DATA_INDEX])
    except ExtraDataError as exc:
        raise BundleError("seals", f"extraData: {exc}") from None
    digest = commit_seal_hash_of_rlp(header)
    return {
        s for s in (recover_seal(digest, seal) for seal in extra.seals) if s is not None and s in validators
    }


def _check_event(
    encoded: bytes, bundle: dict[str, Any], record: TypedRecord, domain: Any, verdict: Verdict
) -> None:
    body = encoded[1:] if encoded and encoded[0] < 0x7F else encoded
    status, _, _, logs = rlp.decode(body)
    if status != b"\x01":
        raise BundleError("event", "the transaction failed")
    log_index = bundle["receipt"]["logIndex"]
    address, topics, data = logs[log_index]
    if address != to_canonical_address(bundle["contract"]):
        raise BundleError("event", "the log is not from the bundle's contract")
    event = decode_event(list(topics), data)
    digest = record.digest(domain)
    if isinstance(record, Weighing):
        ok = event is not None and event[0] == "WeighingRecorded" and event[1]["recordId"] == record.record_id
    else:
        assert isinstance(record, Attestation)
        ok = event is not None and event[0] == "Attested" and event[1]["documentHash"] == record.document_hash
    if not ok or event is None or event[1]["digest"] != digest:
        raise BundleError("event", "the log does not record this record (id or signed digest differ)")
    verdict.checks.append(("event", f"{event[0]} with digest 0x{digest.hex()}"))
