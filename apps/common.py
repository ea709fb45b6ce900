"""What the city's services share: the JSON error shape of DESIGN.md §8 and its response class,
loading a service's TOML settings, the city's salt, and running a service with its gateway."""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path
from typing import Any, Protocol, TypeVar

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from pydantic_settings import BaseSettings


class ServiceError(Exception):
    """A refused request: HTTP status, stable code, message, and the offending field. Each service
    has its own root below this one (WeighingError, RegistryError), mapped to HTTP in its api.py."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


class AsciiJSONResponse(JSONResponse):
    """Errors echo what the client sent (field names): escape it, lone surrogates included."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


class SettingsError(Exception):
    pass


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S], path: Path, relative_paths: tuple[str, ...]) -> S:
    """A service's settings from a TOML file; `relative_paths` are resolved against its folder."""
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}") from None
    for key in relative_paths:
        if isinstance(raw.get(key), str) and not Path(raw[key]).is_absolute():
            raw[key] = str(path.parent / raw[key])
    try:
        return cls(**raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SettingsError(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def read_salt(path: Path) -> bytes:
    """The city's secret salt for the *Ref hashes (hex, at least 16 bytes)."""
    try:
        salt = bytes.fromhex(path.read_text().strip().removeprefix("0x"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{path}: {exc}") from None
    if len(salt) < 16:
        raise SettingsError(f"{path}: the salt must have at least 16 bytes")
    return salt


class _Startable(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


class _Closable(Protocol):
    def close(self) -> None: ...


def run_service(name: str, app: FastAPI, gateway: _Startable, store: _Closable, host: str, port: int) -> None:
    """Serves `app` until SIGTERM or Ctrl-C, with its gateway's submitter running beside it."""
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {name} %(levelname)s %(name)s: %(message)s")
    gateway.start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        gateway.stop()
        store.close()
