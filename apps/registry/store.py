"""The registry service's own database: the attestations it relayed, the audit trail of its clerks,
login challenges and sessions. What is on chain stays the truth; this adds who did what, and when."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ledger.durable_db import DurableDb

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    document_hash TEXT PRIMARY KEY,
    register_type TEXT NOT NULL,
    subject_ref TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    clerk TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    action TEXT NOT NULL,
    clerk TEXT NOT NULL,
    document_hash TEXT,
    reason INTEGER,
    successor TEXT,
    note TEXT,
    outbox_key TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_document ON audit (document_hash);
CREATE TABLE IF NOT EXISTS challenges (
    nonce TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    message TEXT NOT NULL,
    expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    clerk TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
"""
Action = Literal["issued", "revoked", "superseded", "login", "logout"]


@dataclass(frozen=True)
class AuditEntry:
    at: float
    action: str
    clerk: str
    document_hash: str | None = None
    reason: int | None = None
    successor: str | None = None
    note: str | None = None
    outbox_key: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class Challenge:
    nonce: str
    address: str
    message: str
    expires_at: float


@dataclass(frozen=True)
class Session:
    token_hash: str
    clerk: str
    created_at: float
    expires_at: float


class RegistryStore(DurableDb):
    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)

    # ------------------------------------------------------------ documents

    def add_document(self, document: dict[str, Any], entry: AuditEntry) -> None:
        """The attestation this service relayed (0x-hex hash as key) and its audit entry, atomically."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    document["documentHash"],
                    document["registerType"],
                    document["subjectRef"],
                    document["issuedAt"],
                    document["validUntil"],
                    document["clerk"],
                    time.time(),
                ),
            )
            _insert_audit(db, entry)

    def has_document(self, document_hash: str) -> bool:
        with self.lock:
            row = self.conn.execute(
                "SELECT 1 FROM documents WHERE document_hash = ?", (document_hash,)
            ).fetchone()
        return row is not None

    # ---------------------------------------------------------------- audit

    def add_audit(self, entry: AuditEntry) -> None:
        with self.transaction() as db:
            _insert_audit(db, entry)

    def audit(self, action: str | None, limit: int, offset: int) -> list[AuditEntry]:
        query = "SELECT at, action, clerk, document_hash, reason, successor, note, outbox_key, id FROM audit"
        args: tuple[Any, ...] = ()
        if action is not None:
            query += " WHERE action = ?"
            args = (action,)
        with self.lock:
            rows = self.conn.execute(query + " ORDER BY id DESC LIMIT ? OFFSET ?", (*args, limit, offset))
            return [AuditEntry(*row) for row in rows.fetchall()]

    # ----------------------------------------------------- challenges, sessions

    def add_challenge(self, challenge: Challenge, max_open: int) -> bool:
        """Stores a login challenge; False when `max_open` unexpired ones are waiting already."""
        now = time.time()
        with self.transaction() as db:
            db.execute("DELETE FROM challenges WHERE expires_at < ? OR used = 1", (now,))
            (open_now,) = db.execute("SELECT COUNT(*) FROM challenges").fetchone()
            if open_now >= max_open:
                return False
            db.execute(
                "INSERT INTO challenges (nonce, address, message, expires_at) VALUES (?, ?, ?, ?)",
                (challenge.nonce, challenge.address, challenge.message, challenge.expires_at),
            )
        return True

    def take_challenge(self, nonce: str) -> Challenge | None:
        """The unexpired, unused challenge with this nonce, marked used (single use)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT nonce, address, message, expires_at FROM challenges "
                "WHERE nonce = ? AND used = 0 AND expires_at >= ?",
                (nonce, time.time()),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE challenges SET used = 1 WHERE nonce = ?", (nonce,))
        return Challenge(*row)

    def add_session(self, session: Session) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (time.time(),))
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?)",
                (session.token_hash, session.clerk, session.created_at, session.expires_at),
            )

    def session(self, token_hash: str) -> Session | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT token_hash, clerk, created_at, expires_at FROM sessions WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
        return None if row is None else Session(*row)

    def end_session(self, token_hash: str) -> bool:
        with self.lock:
            cursor = self.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
        return cursor.rowcount > 0


def _insert_audit(db: Any, entry: AuditEntry) -> None:
    db.execute(
        "INSERT INTO audit (at, action, clerk, document_hash, reason, successor, note, outbox_key) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.at,
            entry.action,
            entry.clerk,
            entry.document_hash,
            entry.reason,
            entry.successor,
            entry.note,
            entry.outbox_key,
        ),
    )
