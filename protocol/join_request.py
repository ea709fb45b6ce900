"""The join request a city's node sends to the consortium (`govchain node init` writes it, the
consortium's tools read it): public data only, never a key.

{"format": "govchain-join-request/1", "city": "bielefeld", "node": "bielefeld",
 "csr": "-----BEGIN CERTIFICATE REQUEST-----...", "validator": "0x..." | null, "admin": "0x..." | null}

`admin` is set for a city that is not a member yet (its first ADMIN account): the consortium admits
the city, its node and its validator in one proposal. Without `admin` the node is another node of a
member city: its certificate is allowed by itself (an observer unless a validator is proposed too).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FORMAT = "govchain-join-request/1"
FILE_NAME = "join-request.json"
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class JoinRequestError(ValueError):
    """A join request file that is not one."""


@dataclass(frozen=True)
class JoinRequest:
    city: str
    node: str
    csr: str
    validator: str | None = None
    admin: str | None = None

    @property
    def new_city(self) -> bool:
        return self.admin is not None

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def from_json(cls, raw: Any) -> JoinRequest:
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise JoinRequestError(f"not a join request (format {FORMAT!r} expected)")
        try:
            request = cls(
                city=str(raw["city"]),
                node=str(raw["node"]),
                csr=str(raw["csr"]),
                validator=raw.get("validator"),
                admin=raw.get("admin"),
            )
        except KeyError as exc:
            raise JoinRequestError(f"join request without {exc.args[0]!r}") from None
        for name in ("validator", "admin"):
            value = getattr(request, name)
            if value is not None and not (isinstance(value, str) and _ADDRESS.match(value)):
                raise JoinRequestError(f"join request: {name} {value!r} is not an address")
        if "BEGIN CERTIFICATE REQUEST" not in request.csr:
            raise JoinRequestError("join request: csr is not a PEM certificate signing request")
        return request

    @classmethod
    def load(cls, path: Path) -> JoinRequest:
        try:
            raw = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise JoinRequestError(f"join request {path}: {exc}") from None
        return cls.from_json(raw)
