"""Garbage raw transactions: each refused with a message saying what is wrong, never -32603, and
none of them reaches the pool or moves the sender's nonce."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import rlp
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from nodes.chain.execution import TX_BUILDER
from tests.nodes.bad_input.conftest import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    REJECTED,
    SECP256K1_N,
    SENDER_NOT_AUTHORIZED,
    TARGET,
    drain,
    error,
    high_s_twin,
    nonce,
    result,
    send_raw,
    typed_tx,
    with_field,
)


@dataclass(frozen=True)
class BadTx:
    build: Callable[[LocalAccount, int, int], bytes]  # (admin, chain id, admin's nonce) → raw bytes
    codes: tuple[int, ...]
    fragment: str  # a part of the message saying what is wrong


def _legacy_without_chain_id(admin: LocalAccount, _: int, tx_nonce: int) -> bytes:
    fields = {"nonce": tx_nonce, "to": TARGET, "value": 0, "gas": 21_000, "gasPrice": 0, "data": b""}
    raw = bytes(Account.sign_transaction(fields, admin.key).raw_transaction)
    assert TX_BUILDER.decode(raw).chain_id is None  # premise: signed before EIP-155
    return raw


BAD_TRANSACTIONS: dict[str, BadTx] = {
    "empty": BadTx(lambda a, c, n: b"", (INVALID_PARAMS,), "empty"),
    "random-typed": BadTx(
        lambda a, c, n: b"\x02" + random.Random(1).randbytes(150), (INVALID_PARAMS,), "invalid transaction"
    ),
    "random-list": BadTx(
        lambda a, c, n: b"\xf8\x96" + random.Random(2).randbytes(150),
        (INVALID_PARAMS,),
        "invalid transaction",
    ),
    "random-short": BadTx(
        lambda a, c, n: random.Random(3).randbytes(7), (INVALID_PARAMS,), "invalid transaction"
    ),
    "truncated": BadTx(lambda a, c, n: typed_tx(a, c, n)[:-9], (INVALID_PARAMS,), "invalid transaction"),
    "one-byte-too-many": BadTx(
        lambda a, c, n: typed_tx(a, c, n) + b"\x00", (INVALID_PARAMS,), "invalid transaction"
    ),
    "unknown-type": BadTx(
        lambda a, c, n: b"\x07" + typed_tx(a, c, n)[1:], (INVALID_PARAMS,), "invalid transaction"
    ),
    "other-chain-id": BadTx(lambda a, c, n: typed_tx(a, c + 1, n), REJECTED, "chain id"),
    "legacy-without-eip155": BadTx(_legacy_without_chain_id, REJECTED, "EIP-155"),
    "tampered-y-parity": BadTx(
        lambda a, c, n: with_field(typed_tx(a, c, n), -3, b"\x05"), REJECTED, "ignature"
    ),
    "tampered-r-zero": BadTx(lambda a, c, n: with_field(typed_tx(a, c, n), -2, b""), REJECTED, "ignature"),
    "tampered-r-above-n": BadTx(
        lambda a, c, n: with_field(typed_tx(a, c, n), -2, (SECP256K1_N + 5).to_bytes(32, "big")),
        REJECTED,
        "ignature",
    ),
    "tampered-s-zero": BadTx(lambda a, c, n: with_field(typed_tx(a, c, n), -1, b""), REJECTED, "ignature"),
    "oversized": BadTx(
        lambda a, c, n: typed_tx(a, c, n, data=b"\x01" * (130 * 1024), gas=10_000_000),
        REJECTED,
        "larger than",
    ),
    "gas-above-block-limit": BadTx(lambda a, c, n: typed_tx(a, c, n, gas=10**12), REJECTED, "gas limit"),
    "nonce-too-low": BadTx(lambda a, c, n: typed_tx(a, c, n - 1), REJECTED, "nonce too low"),
    "fee-above-balance": BadTx(
        lambda a, c, n: typed_tx(a, c, n, maxFeePerGas=10**9), REJECTED, "insufficient funds"
    ),
    "nonce-too-far-ahead": BadTx(lambda a, c, n: typed_tx(a, c, n + 5_000), REJECTED, "nonce too far ahead"),
}

# Accepted today although no block can ever include it: the proposer skips it and drops it from the
# pool, and the client that got a transaction hash back waits forever.
NEVER_INCLUDABLE: dict[str, BadTx] = {
    "high-s-twin-eip2": BadTx(lambda a, c, n: high_s_twin(typed_tx(a, c, n)), REJECTED, "ignature"),
}


def _check_refused(url: str, raw: bytes, case: BadTx, admin: LocalAccount) -> None:
    before = (nonce(url, admin.address), nonce(url, admin.address, "pending"))
    body = send_raw(url, raw)
    try:
        assert "error" in body, f"accepted: {body}"
        err = body["error"]
        assert err["code"] != INTERNAL_ERROR, err
        assert err["code"] in case.codes, err
        assert case.fragment in err["message"], err
    finally:
        if "result" in body:
            drain(url, admin.address)
    assert result(url, "eth_getTransactionByHash", ["0x" + keccak(raw).hex()]) is None
    assert (nonce(url, admin.address), nonce(url, admin.address, "pending")) == before


@pytest.mark.parametrize("name", BAD_TRANSACTIONS)
def test_a_bad_raw_transaction_is_refused_with_a_clear_error(
    rpc_url: str, admin: LocalAccount, chain_id: int, name: str
) -> None:
    admin_nonce = nonce(rpc_url, admin.address)
    assert admin_nonce >= 1  # premise of nonce-too-low: the devnet deployed its contracts from admin
    case = BAD_TRANSACTIONS[name]
    _check_refused(rpc_url, case.build(admin, chain_id, admin_nonce), case, admin)


@pytest.mark.parametrize("name", NEVER_INCLUDABLE)
def test_a_never_includable_transaction_is_refused(
    rpc_url: str, admin: LocalAccount, chain_id: int, name: str
) -> None:
    case = NEVER_INCLUDABLE[name]
    _check_refused(rpc_url, case.build(admin, chain_id, nonce(rpc_url, admin.address)), case, admin)


def test_the_untampered_transactions_are_well_formed(admin: LocalAccount) -> None:
    """The premise of the tamper cases: before tampering, the transaction decodes and is admin's."""
    raw = typed_tx(admin, 4242, 3)
    tx = TX_BUILDER.decode(raw)
    tx.validate()
    tx.check_signature_validity()
    assert tx.sender == bytes.fromhex(admin.address[2:])
    assert TX_BUILDER.decode(high_s_twin(raw)).sender == tx.sender  # the twin recovers the same sender


def test_a_tampered_signature_recovering_another_sender_is_not_permitted(
    rpc_url: str, admin: LocalAccount, chain_id: int
) -> None:
    raw = typed_tx(admin, chain_id, nonce(rpc_url, admin.address))
    items = list(rlp.decode(raw[1:]))
    items[-1] = (int.from_bytes(items[-1], "big") ^ 1).to_bytes(32, "big")
    tampered = raw[:1] + bytes(rlp.encode(items))
    err = error(rpc_url, "eth_sendRawTransaction", ["0x" + tampered.hex()])
    assert err["code"] == SENDER_NOT_AUTHORIZED, err
    assert "not permitted" in err["message"]
    assert admin.address[2:].lower() not in err["message"].lower()
    assert result(rpc_url, "eth_getTransactionByHash", ["0x" + keccak(tampered).hex()]) is None
