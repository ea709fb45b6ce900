"""QBFT messages: PROPOSAL, PREPARE, COMMIT, ROUND-CHANGE, each signed by its author.

Wire form: RLP [code, body...] followed by a 65-byte signature over keccak256 of that RLP; the
author is recovered from the signature, never taken from the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import ClassVar

import rlp
from eth_keys.datatypes import PrivateKey
from eth_utils.crypto import keccak

from protocol.qbft_extra import recover_seal, sign_seal

PROPOSAL, PREPARE, COMMIT, ROUND_CHANGE = 0x12, 0x13, 0x14, 0x15


class MessageError(ValueError):
    """Bytes that are not a well-formed, signed QBFT message."""


def _int(value: object, name: str) -> int:
    if not isinstance(value, bytes) or value.startswith(b"\0") or len(value) > 8:
        raise MessageError(f"{name} must be a canonical integer")
    return int.from_bytes(value, "big")


def _bytes(value: object, name: str, length: int | None = None) -> bytes:
    if not isinstance(value, bytes) or (length is not None and len(value) != length):
        raise MessageError(f"{name} must be {length or 'some'} bytes")
    return value


@dataclass(frozen=True)
class Signed:
    """A signed message; `payload` is the RLP list, `author` recovered from `signature`."""

    code: ClassVar[int]
    height: int
    round: int
    signature: bytes = field(default=b"", compare=False)

    def body(self) -> list[object]:
        raise NotImplementedError

    def payload(self) -> bytes:
        return bytes(rlp.encode([self.code, self.height, self.round, *self.body()]))

    @cached_property
    def author(self) -> bytes | None:
        return recover_seal(keccak(self.payload()), self.signature)

    def signed(self, key: PrivateKey) -> Signed:
        return _with_signature(self, sign_seal(keccak(self.payload()), key))

    def encode(self) -> bytes:
        return self.payload() + self.signature


def _with_signature(message: Signed, signature: bytes) -> Signed:
    return replace(message, signature=signature)


@dataclass(frozen=True)
class Prepare(Signed):
    code: ClassVar[int] = PREPARE
    digest: bytes = b""

    def body(self) -> list[object]:
        return [self.digest]


@dataclass(frozen=True)
class Commit(Signed):
    code: ClassVar[int] = COMMIT
    digest: bytes = b""
    seal: bytes = b""  # the commit seal over the block's commit-seal hash (round kept)

    def body(self) -> list[object]:
        return [self.digest, self.seal]


@dataclass(frozen=True)
class RoundChange(Signed):
    code: ClassVar[int] = ROUND_CHANGE
    prepared_round: int | None = None
    prepared_block: bytes | None = None  # encoded Block
    prepares: tuple[bytes, ...] = ()  # encoded PREPARE messages justifying prepared_block

    def body(self) -> list[object]:
        if self.prepared_round is None:
            return [[], b"", []]
        return [[self.prepared_round], self.prepared_block or b"", list(self.prepares)]


@dataclass(frozen=True)
class Proposal(Signed):
    code: ClassVar[int] = PROPOSAL
    block: bytes = b""  # encoded Block
    round_changes: tuple[bytes, ...] = ()  # encoded ROUND-CHANGE messages (rounds > 0)
    prepares: tuple[bytes, ...] = ()  # encoded PREPARE messages for a re-proposed prepared block

    def body(self) -> list[object]:
        return [self.block, list(self.round_changes), list(self.prepares)]


def decode_message(data: bytes) -> Signed:
    if len(data) < 65:
        raise MessageError("message too short")
    payload, signature = data[:-65], data[-65:]
    try:
        items = rlp.decode(payload)
    except (rlp.exceptions.DecodingError, rlp.exceptions.DeserializationError) as exc:
        raise MessageError(f"message is not RLP: {exc}") from None
    if not isinstance(items, list) or len(items) < 4:
        raise MessageError("message must be an RLP list [code, height, round, ...]")
    code, height, round_ = _int(items[0], "code"), _int(items[1], "height"), _int(items[2], "round")
    rest = items[3:]
    message: Signed
    if code == PREPARE and len(rest) == 1:
        message = Prepare(height, round_, signature, _bytes(rest[0], "digest", 32))
    elif code == COMMIT and len(rest) == 2:
        message = Commit(
            height, round_, signature, _bytes(rest[0], "digest", 32), _bytes(rest[1], "seal", 65)
        )
    elif code == ROUND_CHANGE and len(rest) == 3:
        prepared, block, prepares = rest
        if not isinstance(prepared, list) or len(prepared) > 1 or not isinstance(prepares, list):
            raise MessageError("malformed ROUND-CHANGE")
        prepared_round = _int(prepared[0], "prepared round") if prepared else None
        message = RoundChange(
            height,
            round_,
            signature,
            prepared_round,
            _bytes(block, "prepared block") if prepared_round is not None else None,
            tuple(_bytes(p, "prepare") for p in prepares),
        )
    elif code == PROPOSAL and len(rest) == 3:
        block, round_changes, prepares = rest
        if not isinstance(round_changes, list) or not isinstance(prepares, list):
            raise MessageError("malformed PROPOSAL")
        message = Proposal(
            height,
            round_,
            signature,
            _bytes(block, "block"),
            tuple(_bytes(m, "round change") for m in round_changes),
            tuple(_bytes(p, "prepare") for p in prepares),
        )
    else:
        raise MessageError(f"unknown message code {code} or wrong field count")
    if message.payload() != payload:
        raise MessageError("message is not canonically encoded")
    if message.author is None:
        raise MessageError("bad signature")
    return message
