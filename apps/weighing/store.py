"""The weighing service's own database: what it accepted, and the clear values behind the salted
references. Clear values can be deleted per subject without touching what is on chain."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.durable_db import DurableDb

SCHEMA = """
CREATE TABLE IF NOT EXISTS weighings (
    record_id TEXT PRIMARY KEY,
    scale TEXT NOT NULL,
    seq INTEGER NOT NULL,
    measured_at INTEGER NOT NULL,
    gross_kg INTEGER NOT NULL,
    tare_kg INTEGER NOT NULL,
    net_kg INTEGER NOT NULL,
    avv_code INTEGER NOT NULL,
    vehicle_ref TEXT NOT NULL,
    container_ref TEXT NOT NULL,
    customer_ref TEXT NOT NULL,
    seq_gap INTEGER NOT NULL,
    received_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS weighings_by_scale ON weighings (scale, seq);
CREATE INDEX IF NOT EXISTS weighings_by_time ON weighings (measured_at);
CREATE TABLE IF NOT EXISTS subjects (ref TEXT PRIMARY KEY, kind TEXT NOT NULL, clear_value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS erasures (
    ref TEXT NOT NULL, kind TEXT NOT NULL, erased_at REAL NOT NULL, erased_by TEXT NOT NULL
);
"""
FILTERS = {
    "scale": "scale",
    "vehicleRef": "vehicle_ref",
    "customerRef": "customer_ref",
    "avvCode": "avv_code",
}


@dataclass(frozen=True)
class Row:
    record_id: str
    scale: str
    seq: int
    measured_at: int
    gross_kg: int
    tare_kg: int
    net_kg: int
    avv_code: int
    vehicle_ref: str
    container_ref: str
    customer_ref: str
    seq_gap: bool
    received_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "recordId": self.record_id,
            "scale": self.scale,
            "seq": self.seq,
            "measuredAt": self.measured_at,
            "grossKg": self.gross_kg,
            "tareKg": self.tare_kg,
            "netKg": self.net_kg,
            "avvCode": self.avv_code,
            "vehicleRef": self.vehicle_ref,
            "containerRef": self.container_ref,
            "customerRef": self.customer_ref,
            "seqGap": self.seq_gap,
        }


class WeighingStore(DurableDb):
    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)

    def add(self, row: Row, clear: dict[str, tuple[str, str]]) -> None:
        """`clear`: kind -> (ref, clear value) for the subjects whose clear values were given."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO weighings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.record_id,
                    row.scale,
                    row.seq,
                    row.measured_at,
                    row.gross_kg,
                    row.tare_kg,
                    row.net_kg,
                    row.avv_code,
                    row.vehicle_ref,
                    row.container_ref,
                    row.customer_ref,
                    int(row.seq_gap),
                    row.received_at,
                ),
            )
            db.executemany(
                "INSERT OR REPLACE INTO subjects (ref, kind, clear_value) VALUES (?, ?, ?)",
                [(ref, kind, value) for kind, (ref, value) in clear.items()],
            )

    def get(self, record_id: str) -> Row | None:
        with self.lock:
            row = self.conn.execute("SELECT * FROM weighings WHERE record_id = ?", (record_id,)).fetchone()
        return None if row is None else _row(row)

    def last_seq(self, scale: str) -> int:
        with self.lock:
            row = self.conn.execute("SELECT MAX(seq) FROM weighings WHERE scale = ?", (scale,)).fetchone()
        return int(row[0] or 0)

    def search(
        self, filters: dict[str, Any], since_ms: int | None, until_ms: int | None, limit: int, offset: int
    ) -> list[Row]:
        clauses, args = [], []
        for key, value in filters.items():
            clauses.append(f"{FILTERS[key]} = ?")  # column names from the fixed FILTERS table only
            args.append(value)
        if since_ms is not None:
            clauses.append("measured_at >= ?")
            args.append(since_ms)
        if until_ms is not None:
            clauses.append("measured_at < ?")
            args.append(until_ms)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        query = "SELECT * FROM weighings" + where + " ORDER BY measured_at, record_id LIMIT ? OFFSET ?"
        with self.lock:
            rows = self.conn.execute(query, (*args, limit, offset)).fetchall()
        return [_row(r) for r in rows]

    def clear_value(self, ref: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT clear_value FROM subjects WHERE ref = ?", (ref,)).fetchone()
        return None if row is None else str(row[0])

    def forget(self, ref: str, by: str) -> bool:
        """Deletes the clear value behind a salted reference (the right to erasure) and logs who
        did so; the log keeps the salted reference and the kind, never the clear value."""
        with self.transaction() as db:
            row = db.execute("DELETE FROM subjects WHERE ref = ? RETURNING kind", (ref,)).fetchone()
            if row is None:
                return False
            db.execute(
                "INSERT INTO erasures (ref, kind, erased_at, erased_by) VALUES (?, ?, ?, ?)",
                (ref, row[0], time.time(), by),
            )
        return True

    def erasures(self) -> list[tuple[str, str, float, str]]:
        with self.lock:
            query = "SELECT ref, kind, erased_at, erased_by FROM erasures ORDER BY rowid"
            return list(self.conn.execute(query))


def _row(values: tuple[Any, ...]) -> Row:
    return Row(
        record_id=values[0],
        scale=values[1],
        seq=values[2],
        measured_at=values[3],
        gross_kg=values[4],
        tare_kg=values[5],
        net_kg=values[6],
        avv_code=values[7],
        vehicle_ref=values[8],
        container_ref=values[9],
        customer_ref=values[10],
        seq_gap=bool(values[11]),
        received_at=values[12],
    )
