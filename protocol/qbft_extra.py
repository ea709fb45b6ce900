"""QBFT header extraData, block hashing and commit seals, byte-compatible with Besu (DESIGN.md §4).

extraData = RLP[vanity (32 bytes), [validator addresses], vote, round, [commit seals]]
  vote  = 0xc0 (an empty list: no vote) or [address, 0xFF add | 0x80 drop]
  round = RLP integer (round 0 is 0x80)
  seal  = 65 bytes r ‖ s ‖ recId (recId 0 or 1)
Block hash       = keccak256(RLP header with round 0 and seals [])
Commit-seal hash = keccak256(RLP header with seals [] and the round kept)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import rlp
from eth.abc import BlockHeaderAPI
from eth_keys.datatypes import PrivateKey, Signature
from eth_keys.exceptions import BadSignature
from eth_utils.crypto import keccak

VANITY_LENGTH = 32
SEAL_LENGTH = 65
VOTE_ADD = 0xFF
VOTE_DROP = 0x80


class ExtraDataError(ValueError):
    """extraData that is not a well-formed QBFT extraData."""


@dataclass(frozen=True)
class Vote:
    address: bytes
    add: bool


@dataclass(frozen=True)
class QbftExtra:
    validators: tuple[bytes, ...]
    round: int = 0
    vote: Vote | None = None
    seals: tuple[bytes, ...] = ()
    vanity: bytes = b"\0" * VANITY_LENGTH

    def encode(self) -> bytes:
        vote: list[object] = (
            [] if self.vote is None else [self.vote.address, VOTE_ADD if self.vote.add else VOTE_DROP]
        )
        return bytes(rlp.encode([self.vanity, list(self.validators), vote, self.round, list(self.seals)]))

    @classmethod
    def decode(cls, data: bytes) -> QbftExtra:
        try:
            items = rlp.decode(data)
        except rlp.exceptions.DecodingError as exc:
            raise ExtraDataError(f"extraData is not RLP: {exc}") from None
        if not isinstance(items, list) or len(items) != 5:
            raise ExtraDataError("extraData must be an RLP list of 5 items")
        vanity, validators, vote, round_bytes, seals = items
        if not isinstance(vanity, bytes) or len(vanity) != VANITY_LENGTH:
            raise ExtraDataError("vanity must be 32 bytes")
        if not isinstance(validators, list) or any(
            not isinstance(v, bytes) or len(v) != 20 for v in validators
        ):
            raise ExtraDataError("validators must be a list of 20-byte addresses")
        if not isinstance(seals, list) or any(
            not isinstance(s, bytes) or len(s) != SEAL_LENGTH for s in seals
        ):
            raise ExtraDataError("commit seals must be a list of 65-byte signatures")
        if not isinstance(round_bytes, bytes) or round_bytes.startswith(b"\0") or len(round_bytes) > 4:
            raise ExtraDataError("round must be a canonical RLP integer below 2**32")
        return cls(
            validators=tuple(validators),
            round=int.from_bytes(round_bytes, "big"),
            vote=_decode_vote(vote),
            seals=tuple(seals),
            vanity=vanity,
        )


def _decode_vote(vote: object) -> Vote | None:
    if vote == []:
        return None
    if (
        not isinstance(vote, list)
        or len(vote) != 2
        or not isinstance(vote[0], bytes)
        or len(vote[0]) != 20
        or vote[1] not in (bytes([VOTE_ADD]), bytes([VOTE_DROP]))
    ):
        raise ExtraDataError("vote must be empty or [address, 0xFF | 0x80]")
    return Vote(address=vote[0], add=vote[1] == bytes([VOTE_ADD]))


EXTRA_DATA_INDEX = 12  # position of extraData in the RLP list of an Ethereum block header


def _rehash(header_rlp: bytes, keep_round: bool) -> bytes:
    fields = rlp.decode(header_rlp)
    if not isinstance(fields, list) or len(fields) <= EXTRA_DATA_INDEX:
        raise ExtraDataError("not an RLP block header")
    extra = QbftExtra.decode(fields[EXTRA_DATA_INDEX])
    fields[EXTRA_DATA_INDEX] = replace(extra, seals=(), round=extra.round if keep_round else 0).encode()
    return keccak(bytes(rlp.encode(fields)))


def block_hash_of_rlp(header_rlp: bytes) -> bytes:
    """The QBFT block hash of an RLP-encoded header (round 0, no seals)."""
    return _rehash(header_rlp, keep_round=False)


def commit_seal_hash_of_rlp(header_rlp: bytes) -> bytes:
    """What each commit seal of an RLP-encoded header signs (no seals, round kept)."""
    return _rehash(header_rlp, keep_round=True)


def block_hash(header: BlockHeaderAPI) -> bytes:
    return block_hash_of_rlp(bytes(rlp.encode(header)))


def commit_seal_hash(header: BlockHeaderAPI) -> bytes:
    return commit_seal_hash_of_rlp(bytes(rlp.encode(header)))


def sign_seal(digest: bytes, private_key: PrivateKey) -> bytes:
    signature = private_key.sign_msg_hash(digest)
    return bytes(signature.to_bytes())  # r ‖ s ‖ v with v in {0, 1}


def recover_seal(digest: bytes, seal: bytes) -> bytes | None:
    """The address that made `seal` over `digest`, or None for an invalid signature."""
    try:
        signature = Signature(signature_bytes=seal)
        return signature.recover_public_key_from_msg_hash(digest).to_canonical_address()
    except (BadSignature, ValueError):
        return None


def quorum(validator_count: int) -> int:
    """⌈2n/3⌉ distinct seals make a block final."""
    return -(-2 * validator_count // 3)
