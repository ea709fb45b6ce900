"""QBFT extraData codec, block hash, commit seals and quorum (nodes/qbft/extra.py, DESIGN.md §4)."""

from __future__ import annotations

from fractions import Fraction
from math import ceil

import pytest
import rlp
from eth.abc import BlockHeaderAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_UNCLE_HASH
from eth.vm.forks.prague.blocks import PragueBlockHeader
from eth_keys.datatypes import PrivateKey
from eth_typing import Address, BlockNumber, Hash32
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from nodes.chain.execution import EMPTY_REQUESTS_HASH
from nodes.genesis import QBFT_MIX_HASH
from protocol.qbft_extra import (
    SEAL_LENGTH,
    VANITY_LENGTH,
    ExtraDataError,
    QbftExtra,
    Vote,
    block_hash,
    commit_seal_hash,
    quorum,
    recover_seal,
    sign_seal,
)

ADDRESS_A = b"\x11" * 20
ADDRESS_B = b"\x22" * 20
KEY = PrivateKey(keccak(text="govchain test validator"))
OTHER_KEY = PrivateKey(keccak(text="govchain test outsider"))

addresses = st.binary(min_size=20, max_size=20)
seals = st.binary(min_size=SEAL_LENGTH, max_size=SEAL_LENGTH)
extras = st.builds(
    QbftExtra,
    validators=st.lists(addresses, max_size=12).map(tuple),
    round=st.integers(min_value=0, max_value=2**32 - 1),
    vote=st.none() | st.builds(Vote, address=addresses, add=st.booleans()),
    seals=st.lists(seals, max_size=6).map(tuple),
    vanity=st.binary(min_size=VANITY_LENGTH, max_size=VANITY_LENGTH),
)


def _header(extra: QbftExtra, number: int = 7) -> BlockHeaderAPI:
    return PragueBlockHeader(
        parent_hash=Hash32(b"\x01" * 32),
        uncles_hash=EMPTY_UNCLE_HASH,
        coinbase=Address(ADDRESS_A),
        state_root=Hash32(b"\x02" * 32),
        transaction_root=BLANK_ROOT_HASH,
        receipt_root=BLANK_ROOT_HASH,
        bloom=0,
        difficulty=1,
        block_number=BlockNumber(number),
        gas_limit=30_000_000,
        gas_used=0,
        timestamp=1_700_000_000,
        extra_data=extra.encode(),
        mix_hash=Hash32(QBFT_MIX_HASH),
        nonce=b"\0" * 8,
        base_fee_per_gas=0,
        withdrawals_root=BLANK_ROOT_HASH,
        blob_gas_used=0,
        excess_blob_gas=0,
        parent_beacon_block_root=Hash32(b"\0" * 32),
        requests_hash=Hash32(EMPTY_REQUESTS_HASH),
    )


# ------------------------------------------------------------------ codec


@given(extras)
def test_encode_decode_round_trip(extra: QbftExtra) -> None:
    encoded = extra.encode()
    decoded = QbftExtra.decode(encoded)
    assert decoded == extra
    assert decoded.encode() == encoded


def test_known_example_has_exact_bytes() -> None:
    extra = QbftExtra(validators=(ADDRESS_A,))
    expected = bytes.fromhex(
        "f83a"  # list, 58 bytes of payload
        + "a0" + "00" * 32  # vanity
        + "d5" + "94" + "11" * 20  # [validator]
        + "c0"  # vote: none
        + "80"  # round 0
        + "c0"  # seals: []
    )  # fmt: skip
    assert extra.encode() == expected
    assert QbftExtra.decode(expected) == extra


def test_vote_and_round_encodings() -> None:
    add = QbftExtra(validators=(), vote=Vote(ADDRESS_B, add=True), round=1).encode()
    drop = QbftExtra(validators=(), vote=Vote(ADDRESS_B, add=False), round=256).encode()
    # the vote list [address, marker]: 0xff and 0x80 are one-byte strings, 0x81ff and 0x8180
    assert add.endswith(bytes.fromhex("d7" + "94" + "22" * 20 + "81ff" + "01" + "c0"))
    assert drop.endswith(bytes.fromhex("d7" + "94" + "22" * 20 + "8180" + "820100" + "c0"))
    assert QbftExtra.decode(add).vote == Vote(ADDRESS_B, add=True)
    assert QbftExtra.decode(drop).vote == Vote(ADDRESS_B, add=False)
    assert QbftExtra.decode(drop).round == 256


def _raw(
    vanity: object = b"\0" * 32,
    validators: object = (),
    vote: object = (),
    round_: object = b"",
    seals_: object = (),
) -> bytes:
    def listify(value: object) -> object:
        return list(value) if isinstance(value, tuple) else value

    return bytes(rlp.encode([vanity, listify(validators), listify(vote), round_, listify(seals_)]))


def test_raw_helper_builds_valid_extra_data() -> None:
    assert QbftExtra.decode(_raw(validators=(ADDRESS_A,))) == QbftExtra(validators=(ADDRESS_A,))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(_raw(vanity=b"\0" * 31), "vanity must be 32 bytes", id="vanity-31"),
        pytest.param(_raw(vanity=b"\0" * 33), "vanity must be 32 bytes", id="vanity-33"),
        pytest.param(_raw(vanity=()), "vanity must be 32 bytes", id="vanity-list"),
        pytest.param(_raw(validators=(b"\x11" * 19,)), "20-byte addresses", id="address-19"),
        pytest.param(_raw(validators=(ADDRESS_A, b"\x11" * 21)), "20-byte addresses", id="address-21"),
        pytest.param(_raw(validators=b"\x11" * 20), "20-byte addresses", id="validators-not-list"),
        pytest.param(_raw(seals_=(b"\x01" * 64,)), "65-byte signatures", id="seal-64"),
        pytest.param(_raw(seals_=(b"\x01" * 66,)), "65-byte signatures", id="seal-66"),
        pytest.param(_raw(seals_=b"\x01" * 65), "65-byte signatures", id="seals-not-list"),
        pytest.param(_raw(vote=(ADDRESS_B, b"\x01")), "vote must be", id="vote-marker-01"),
        pytest.param(_raw(vote=(ADDRESS_B, b"\xff\xff")), "vote must be", id="vote-marker-2-bytes"),
        pytest.param(_raw(vote=(b"\x22" * 19, b"\xff")), "vote must be", id="vote-address-19"),
        pytest.param(_raw(vote=(ADDRESS_B,)), "vote must be", id="vote-1-item"),
        pytest.param(_raw(vote=b""), "vote must be", id="vote-empty-string"),
        pytest.param(_raw(round_=b"\x00"), "canonical RLP integer", id="round-zero-byte"),
        pytest.param(_raw(round_=b"\x00\x01"), "canonical RLP integer", id="round-leading-zero"),
        pytest.param(_raw(round_=b"\x01" * 5), "below 2**32", id="round-5-bytes"),
        pytest.param(_raw(round_=()), "canonical RLP integer", id="round-list"),
        pytest.param(rlp.encode(b"\0" * 32), "RLP list of 5 items", id="not-a-list"),
        pytest.param(rlp.encode([b"\0" * 32, [], [], b""]), "RLP list of 5 items", id="4-items"),
        pytest.param(rlp.encode([b"\0" * 32, [], [], b"", [], []]), "RLP list of 5 items", id="6-items"),
        pytest.param(b"", "not RLP", id="empty"),
        pytest.param(b"\xf8\x3a\xa0", "not RLP", id="truncated"),
        pytest.param(QbftExtra(validators=(ADDRESS_A,)).encode() + b"\x00", "not RLP", id="trailing-byte"),
    ],
)
def test_malformed_extra_data_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ExtraDataError, match=message.replace("*", r"\*")):
        QbftExtra.decode(data)


@given(st.binary(max_size=200))
def test_decode_of_random_bytes_raises_only_extra_data_error(data: bytes) -> None:
    try:
        decoded = QbftExtra.decode(data)
    except ExtraDataError:
        return
    assert decoded.encode() == data  # whatever decodes is canonical


# ------------------------------------------------------------- hashing


@given(extras)
def test_block_hash_ignores_round_and_seals(extra: QbftExtra) -> None:
    stripped = _header(QbftExtra(validators=extra.validators, vote=extra.vote, vanity=extra.vanity))
    full = _header(extra)
    assert block_hash(full) == block_hash(stripped) == keccak(rlp.encode(stripped))


def test_block_hash_covers_validators_vote_and_header_fields() -> None:
    base = QbftExtra(validators=(ADDRESS_A,))
    reference = block_hash(_header(base))
    assert block_hash(_header(QbftExtra(validators=(ADDRESS_B,)))) != reference
    assert (
        block_hash(_header(QbftExtra(validators=(ADDRESS_A,), vote=Vote(ADDRESS_B, add=True)))) != reference
    )
    assert block_hash(_header(base, number=8)) != reference
    assert block_hash(_header(base).copy(state_root=Hash32(b"\x03" * 32))) != reference


def test_commit_seal_hash_keeps_the_round_but_ignores_seals() -> None:
    round0 = _header(QbftExtra(validators=(ADDRESS_A,), round=0))
    round3 = _header(QbftExtra(validators=(ADDRESS_A,), round=3))
    round3_sealed = _header(QbftExtra(validators=(ADDRESS_A,), round=3, seals=(b"\x05" * 65, b"\x06" * 65)))
    assert commit_seal_hash(round3) != commit_seal_hash(round0)
    assert commit_seal_hash(round3) == commit_seal_hash(round3_sealed) == keccak(rlp.encode(round3))
    assert commit_seal_hash(round0) == block_hash(round0)
    assert block_hash(round3) == block_hash(round0)


# --------------------------------------------------------------- seals


def test_sign_and_recover_seal_round_trip_with_both_recovery_ids() -> None:
    address = KEY.public_key.to_canonical_address()
    rec_ids = set()
    for i in range(64):
        digest = keccak(i.to_bytes(4, "big"))
        seal = sign_seal(digest, KEY)
        assert len(seal) == SEAL_LENGTH
        assert seal[-1] in (0, 1)
        rec_ids.add(seal[-1])
        assert recover_seal(digest, seal) == address
        assert recover_seal(keccak(digest), seal) != address
        assert (
            recover_seal(digest, sign_seal(digest, OTHER_KEY)) == OTHER_KEY.public_key.to_canonical_address()
        )
    assert rec_ids == {0, 1}


def test_seal_over_a_header_recovers_the_signer() -> None:
    header = _header(QbftExtra(validators=(ADDRESS_A,), round=2))
    seal = sign_seal(commit_seal_hash(header), KEY)
    sealed = header.copy(extra_data=QbftExtra(validators=(ADDRESS_A,), round=2, seals=(seal,)).encode())
    assert recover_seal(commit_seal_hash(sealed), seal) == KEY.public_key.to_canonical_address()
    assert block_hash(sealed) == block_hash(header)


@pytest.mark.parametrize(
    "seal",
    [
        pytest.param(b"\0" * 65, id="zeros"),
        pytest.param(b"\xff" * 65, id="ones"),
        pytest.param(b"\x01" * 64 + b"\x02", id="recid-2"),
        pytest.param(b"\x01" * 64 + b"\x1b", id="recid-27"),
        pytest.param(b"\xff" * 64 + b"\x00", id="r-s-above-curve-order"),
        pytest.param(b"\0" * 32 + b"\x01" * 32 + b"\x00", id="r-zero"),
    ],
)
def test_recover_seal_of_garbage_returns_none(seal: bytes) -> None:
    assert recover_seal(keccak(b"digest"), seal) is None


@settings(max_examples=50)
@given(seals)
def test_recover_seal_never_raises_on_65_bytes(seal: bytes) -> None:
    recovered = recover_seal(keccak(b"digest"), seal)
    assert recovered is None or len(recovered) == 20
    assert recovered != KEY.public_key.to_canonical_address()


def test_a_changed_seal_byte_does_not_recover_the_signer() -> None:
    digest = keccak(b"block")
    seal = bytearray(sign_seal(digest, KEY))
    seal[10] ^= 0x01
    assert recover_seal(digest, bytes(seal)) != KEY.public_key.to_canonical_address()


# -------------------------------------------------------------- quorum


@pytest.mark.parametrize("n", range(1, 101))
def test_quorum_is_ceil_of_two_thirds(n: int) -> None:
    assert quorum(n) == ceil(Fraction(2 * n, 3))


def test_quorum_known_values() -> None:
    assert [quorum(n) for n in (1, 2, 3, 4, 5, 7, 10)] == [1, 2, 2, 3, 4, 5, 7]
