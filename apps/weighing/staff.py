"""The city's staff who may read the weighing service's records (billing, waste management) or
erase clear values (the data-protection officer): one personal bearer token each.

The tokens file keeps only the SHA-256 of each token (a token is 32 random bytes, so a fast hash
suffices); a token is shown once, when it is issued. Nobody shares a password: each person has a
token of their own, which can be withdrawn alone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

LOG = logging.getLogger(__name__)
TOKEN_PREFIX = "gcw_"  # noqa: S105 - marks a govchain weighing token, not a secret


class StaffRole(StrEnum):
    READER = "reader"  # searches weighings and totals, with the clear values still known
    PRIVACY = "privacy"  # erases clear values (the right to erasure)


class StaffFileError(Exception):
    pass


@dataclass(frozen=True)
class StaffMember:
    name: str
    roles: frozenset[StaffRole]


@dataclass(frozen=True)
class _Entry:
    name: str
    roles: frozenset[StaffRole]
    digest: bytes


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class StaffDirectory:
    """The tokens file as the service sees it: re-read whenever it changes, so that a token issued
    or withdrawn with `govchain weighing token` counts at once, without a restart."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()

    def authenticate(self, token: str) -> StaffMember | None:
        digest = _digest(token)
        found = None
        for entry in self._current():  # compare with every entry, in constant time each
            if hmac.compare_digest(entry.digest, digest):
                found = StaffMember(entry.name, entry.roles)
        return found

    def _current(self) -> list[_Entry]:
        """No file means nobody may read or erase (the intake and the status routes stay open)."""
        if self.path is None:
            return []
        with self._lock:
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                self._stamp, self._entries = None, []
                return []
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                try:
                    self._entries = _read(self.path)
                except StaffFileError as exc:  # fail closed, and say why
                    LOG.error("staff tokens unreadable, nobody is let in: %s", exc)
                    self._entries = []
                self._stamp = stamp
            return self._entries


def _read(path: Path) -> list[_Entry]:
    try:
        raw = json.loads(path.read_text())
        return [
            _Entry(str(e["name"]), frozenset(map(StaffRole, e["roles"])), bytes.fromhex(e["sha256"]))
            for e in raw["staff"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StaffFileError(f"{path}: {exc}") from None


def issue_token(path: Path, name: str, roles: set[StaffRole]) -> str:
    """Adds (or replaces) `name`'s token in the file and returns the new token, the only time it
    is seen in clear."""
    if not name.strip() or not roles:
        raise StaffFileError("a token needs a name and at least one role")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    staff = [s for s in _entries_json(path) if s.get("name") != name]
    staff.append({"name": name, "roles": sorted(roles), "sha256": _digest(token).hex()})
    _write(path, staff)
    return token


def withdraw_token(path: Path, name: str) -> bool:
    staff = _entries_json(path)
    kept = [s for s in staff if s.get("name") != name]
    _write(path, kept)
    return len(kept) < len(staff)


def _entries_json(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    _read(path)  # refuse to rewrite a file the service could not read
    return list(json.loads(path.read_text())["staff"])


def _write(path: Path, staff: list[dict[str, object]]) -> None:
    """Atomically, readable by its owner only (it holds hashes, but of live credentials)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"staff": staff}, indent=2) + "\n")
    tmp.chmod(0o600)
    tmp.replace(path)
