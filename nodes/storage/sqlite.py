"""The node's on-disk store: one SQLite database, one transaction per block.

Why SQLite: it is in Python's standard library (nothing to compile or download), its transactions
are atomic and durable across `kill -9` and power loss (WAL journal, synchronous=FULL fsyncs every
commit), and operators can inspect it with the stock `sqlite3` tool. QBFT blocks are final, so the
store keeps only the canonical chain: no fork choice, no reorgs.

Tables
  kv(k, v, block)     state trie nodes, contract code and the tx/receipt tries, keyed by keccak of
                      their value; `block` is the block whose commit first wrote the row
  blocks(number, hash, header, txs, receipts)   RLP of each part
  txs(hash, number, idx)                        transaction index
  meta(key, value)

py-evm writes state into `BufferedKV`; nothing reaches disk until `commit_block` writes the
buffered rows, the block and its index in one transaction. A crash before that commit leaves
the previous head intact; after it, the block is there completely.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from eth.db.backends.base import BaseDB

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL, block INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    header BLOB NOT NULL,
    txs BLOB NOT NULL,
    receipts BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
    hash BLOB PRIMARY KEY, number INTEGER NOT NULL, idx INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


@dataclass(frozen=True)
class StoredBlock:
    number: int
    hash: bytes
    header: bytes
    txs: bytes
    receipts: bytes


class BufferedKV(BaseDB):
    """py-evm's key-value view of the store: reads see buffered writes; writes wait for a commit."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._pending: dict[bytes, bytes] = {}

    def __getitem__(self, key: bytes) -> bytes:
        if key in self._pending:
            return self._pending[key]
        value = self._store.kv_get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[key] = value

    def _exists(self, key: bytes) -> bool:
        return key in self._pending or self._store.kv_get(key) is not None

    def __delitem__(self, key: bytes) -> None:
        # Content-addressed rows may be shared by many states; they are never deleted.
        self._pending.pop(key, None)

    def take_pending(self) -> dict[bytes, bytes]:
        pending, self._pending = self._pending, {}
        return pending

    def restore_pending(self, pending: dict[bytes, bytes]) -> None:
        self._pending = pending

    def discard_pending(self) -> None:
        self._pending = {}


class SqliteStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)
        self.kv = BufferedKV(self)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --------------------------------------------------------------- reads

    def kv_get(self, key: bytes) -> bytes | None:
        with self._lock:
            row = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def head_number(self) -> int | None:
        with self._lock:
            row = self._conn.execute("SELECT MAX(number) FROM blocks").fetchone()
        return None if row[0] is None else int(row[0])

    def block(self, number: int) -> StoredBlock | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT number, hash, header, txs, receipts FROM blocks WHERE number = ?", (number,)
            ).fetchone()
        return (
            None
            if row is None
            else StoredBlock(row[0], bytes(row[1]), bytes(row[2]), bytes(row[3]), bytes(row[4]))
        )

    def number_of_hash(self, block_hash: bytes) -> int | None:
        with self._lock:
            row = self._conn.execute("SELECT number FROM blocks WHERE hash = ?", (block_hash,)).fetchone()
        return None if row is None else int(row[0])

    def tx_location(self, tx_hash: bytes) -> tuple[int, int] | None:
        with self._lock:
            row = self._conn.execute("SELECT number, idx FROM txs WHERE hash = ?", (tx_hash,)).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def hashes(self, first: int, last: int) -> list[bytes]:
        """Block hashes from `first` to `last` inclusive, in ascending order."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT hash FROM blocks WHERE number BETWEEN ? AND ? ORDER BY number", (first, last)
            ).fetchall()
        return [bytes(r[0]) for r in rows]

    def iter_blocks(self, first: int = 0) -> Iterator[StoredBlock]:
        number = first
        while (block := self.block(number)) is not None:
            yield block
            number += 1

    def iter_kv(self, batch: int = 10_000) -> Iterator[tuple[bytes, bytes, int]]:
        with self._lock:
            cursor = self._conn.execute("SELECT k, v, block FROM kv")
            while rows := cursor.fetchmany(batch):
                for k, v, block in rows:
                    yield bytes(k), bytes(v), int(block)

    def meta(self, key: str) -> bytes | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    # -------------------------------------------------------------- writes

    def commit_block(
        self, block: StoredBlock, tx_hashes: Sequence[bytes], meta: dict[str, bytes] | None = None
    ) -> None:
        """Writes the buffered state rows, the block and its index in one durable transaction."""
        pending = self.kv.take_pending()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO kv (k, v, block) VALUES (?, ?, ?)",
                    ((k, v, block.number) for k, v in pending.items()),
                )
                self._conn.execute(
                    "INSERT INTO blocks (number, hash, header, txs, receipts) VALUES (?, ?, ?, ?, ?)",
                    (block.number, block.hash, block.header, block.txs, block.receipts),
                )
                self._conn.executemany(
                    "INSERT OR REPLACE INTO txs (hash, number, idx) VALUES (?, ?, ?)",
                    ((h, block.number, i) for i, h in enumerate(tx_hashes)),
                )
                for key, value in (meta or {}).items():
                    self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                pending.update(self.kv.take_pending())
                self.kv.restore_pending(pending)
                raise
