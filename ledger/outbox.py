"""The durable outbox: a record is acknowledged only once it is committed here (SQLite, WAL,
synchronous=FULL), and every signed transaction is stored before it is sent, so a crash at any
point is recovered by resending the very same bytes.

items: one row per record id — queued → signed (assigned to the transaction with `nonce`) →
       final (in a final block) or rejected (with the contract's reason)
txs:   one row per nonce — signed → sent → final, or failed (its items go back to the queue)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.durable_db import DurableDb
from ledger.errors import ConflictError

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    nonce INTEGER,
    tx_hash TEXT,
    block_number INTEGER,
    block_hash TEXT,
    reason TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_state ON items (state, created_at);
CREATE INDEX IF NOT EXISTS items_by_nonce ON items (nonce);
CREATE TABLE IF NOT EXISTS txs (
    nonce INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    raw BLOB NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    sent_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
"""
QUEUED, SIGNED, FINAL, REJECTED = "queued", "signed", "final", "rejected"
# Item keys: a weighing's record id; registry operations: prefix + document hash.
KEY_PREFIX = {"attestation": "attest:", "revocation": "revoke:", "supersession": "supersede:"}
TX_SIGNED, TX_SENT, TX_FINAL, TX_FAILED = "signed", "sent", "final", "failed"


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    payload: dict[str, Any]
    state: str
    nonce: int | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    block_hash: str | None = None
    reason: str | None = None
    created_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "transaction": self.tx_hash,
            "blockNumber": self.block_number,
            "blockHash": self.block_hash,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class StoredTx:
    nonce: int
    hash: str
    raw: bytes
    kind: str
    state: str
    sent_at: float | None
    attempts: int


class Outbox(DurableDb):
    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)

    # --------------------------------------------------------------- intake

    def enqueue(self, item_id: str, kind: str, payload: dict[str, Any]) -> tuple[Item, bool]:
        """Stores a record durably. Returns (item, created); a resent identical record returns the
        existing item, a different record under a used id raises ConflictError."""
        text = json.dumps(payload, sort_keys=True)
        now = time.time()
        with self.transaction() as db:
            row = db.execute("SELECT payload FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is not None:
                if row[0] != text:
                    raise ConflictError(item_id)
                created = False
            else:
                db.execute(
                    "INSERT INTO items (id, kind, payload, state, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (item_id, kind, text, QUEUED, now, now),
                )
                created = True
        item = self.item(item_id)
        assert item is not None
        return item, created

    # ---------------------------------------------------------------- reads

    def item(self, item_id: str) -> Item | None:
        with self.lock:
            row = self.conn.execute(_ITEM_BY_ID, (item_id,)).fetchone()
        return None if row is None else _item(row)

    def items(self, state: str | None = None, limit: int = 100, offset: int = 0) -> list[Item]:
        with self.lock:
            if state is None:
                rows = self.conn.execute(_ITEMS_PAGE, (limit, offset)).fetchall()
            else:
                rows = self.conn.execute(_ITEMS_PAGE_BY_STATE, (state, limit, offset)).fetchall()
        return [_item(r) for r in rows]

    def queued(self, kind: str, limit: int) -> list[Item]:
        with self.lock:
            rows = self.conn.execute(
                _QUEUED_OF_KIND,
                (QUEUED, kind, limit),
            ).fetchall()
        return [_item(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self.lock:
            rows = self.conn.execute("SELECT state, COUNT(*) FROM items GROUP BY state").fetchall()
        return {state: int(n) for state, n in rows}

    def next_nonce(self) -> int | None:
        with self.lock:
            row = self.conn.execute("SELECT MAX(nonce) FROM txs").fetchone()
        return None if row[0] is None else int(row[0]) + 1

    def open_txs(self) -> list[StoredTx]:
        with self.lock:
            rows = self.conn.execute(_OPEN_TXS, (TX_SIGNED, TX_SENT)).fetchall()
        return [StoredTx(r[0], r[1], bytes(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def items_of_tx(self, nonce: int) -> list[Item]:
        with self.lock:
            rows = self.conn.execute(_ITEMS_OF_TX, (nonce,)).fetchall()
        return [_item(r) for r in rows]

    # --------------------------------------------------------------- writes

    def store_signed(self, nonce: int, tx_hash: str, raw: bytes, kind: str, item_ids: list[str]) -> None:
        """The signed transaction and its items' assignment, in one commit, before it is sent."""
        now = time.time()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO txs (nonce, hash, raw, kind, state, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (nonce, tx_hash, raw, kind, TX_SIGNED, now),
            )
            db.executemany(
                "UPDATE items SET state = ?, nonce = ?, tx_hash = ?, updated_at = ? "
                "WHERE id = ? AND state = ?",
                [(SIGNED, nonce, tx_hash, now, i, QUEUED) for i in item_ids],
            )

    def mark_sent(self, nonce: int) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE txs SET state = ?, sent_at = ?, attempts = attempts + 1 "
                "WHERE nonce = ? AND state IN (?, ?)",
                (TX_SENT, time.time(), nonce, TX_SIGNED, TX_SENT),
            )

    def settle(
        self, nonce: int, outcomes: dict[str, tuple[str, str | None]], block_number: int, block_hash: str
    ) -> None:
        """Marks the transaction final and each of its items final or rejected (with a reason)."""
        now = time.time()
        with self.transaction() as db:
            db.execute("UPDATE txs SET state = ? WHERE nonce = ?", (TX_FINAL, nonce))
            for item_id, (state, reason) in outcomes.items():
                db.execute(
                    "UPDATE items SET state = ?, reason = ?, block_number = ?, block_hash = ?, "
                    "updated_at = ? "
                    "WHERE id = ? AND nonce = ?",
                    (state, reason, block_number, block_hash, now, item_id, nonce),
                )

    def fail(self, nonce: int, requeue: bool, reason: str) -> None:
        """The transaction will not land: its items are queued again, or rejected with `reason`."""
        now = time.time()
        with self.transaction() as db:
            db.execute("UPDATE txs SET state = ? WHERE nonce = ?", (TX_FAILED, nonce))
            if requeue:
                db.execute(
                    "UPDATE items SET state = ?, nonce = NULL, tx_hash = NULL, updated_at = ? "
                    "WHERE nonce = ? "
                    "AND state = ?",
                    (QUEUED, now, nonce, SIGNED),
                )
            else:
                db.execute(
                    "UPDATE items SET state = ?, reason = ?, updated_at = ? WHERE nonce = ? AND state = ?",
                    (REJECTED, reason, now, nonce, SIGNED),
                )


_ITEM_COLUMNS = "id, kind, payload, state, nonce, tx_hash, block_number, block_hash, reason, created_at"
_ITEM_BY_ID = "SELECT " + _ITEM_COLUMNS + " FROM items WHERE id = ?"
_ITEMS_PAGE = "SELECT " + _ITEM_COLUMNS + " FROM items ORDER BY created_at, id LIMIT ? OFFSET ?"
_ITEMS_PAGE_BY_STATE = (
    "SELECT " + _ITEM_COLUMNS + " FROM items WHERE state = ? ORDER BY created_at, id LIMIT ? OFFSET ?"
)
_QUEUED_OF_KIND = (
    "SELECT " + _ITEM_COLUMNS + " FROM items WHERE state = ? AND kind = ? ORDER BY created_at, id LIMIT ?"
)
_ITEMS_OF_TX = "SELECT " + _ITEM_COLUMNS + " FROM items WHERE nonce = ?"
_OPEN_TXS = (
    "SELECT nonce, hash, raw, kind, state, sent_at, attempts FROM txs WHERE state IN (?, ?) ORDER BY nonce"
)


def _item(row: tuple[Any, ...]) -> Item:
    return Item(row[0], row[1], json.loads(row[2]), *row[3:])
