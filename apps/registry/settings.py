"""The registry service's settings (environment GOVCHAIN_REGISTRY_* or a TOML file), checked at start."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from apps.common import SettingsError, load_settings, read_salt
from apps.registry.catalog import REGISTER_TYPES

__all__ = ["RegistrySettings", "SettingsError"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class RegistrySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVCHAIN_REGISTRY_", extra="forbid")

    gateway: Path  # gateway settings JSON (nodes, chain id, contracts, keystore)
    passphrase_file: Path  # unlocks the gateway keystore
    salt_file: Path  # the city's secret salt for subject references (hex, at least 16 bytes)
    data_dir: Path
    # Where citizens reach the service (the QR codes link there; clerks sign in for this origin).
    public_url: str = "http://127.0.0.1:8601"
    host: str = "127.0.0.1"
    port: int = Field(default=8601, ge=1, le=65535)
    devnet: bool = False
    display_name: str | None = None  # e.g. "Stadt Aachen"; default: the city's name
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)
    session_ttl_s: int = Field(default=4 * 3600, ge=60, le=24 * 3600)
    challenge_ttl_s: int = Field(default=300, ge=30, le=3600)
    max_signature_age_s: int = Field(default=86_400, ge=60)
    register_types: tuple[str, ...] = tuple(REGISTER_TYPES)

    @field_validator("public_url")
    @classmethod
    def _origin(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError("an origin such as https://registerauskunft.example.de (no path)")
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("register_types")
    @classmethod
    def _register_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one register type")
        for name in value:
            if not 0 < len(name) <= 32 or not all(32 < ord(c) < 127 for c in name):
                raise ValueError(f"{name!r}: 1 to 32 printable ASCII characters without spaces")
        return value

    @model_validator(mode="after")
    def _safe_outside_devnet(self) -> RegistrySettings:
        if self.devnet:
            return self
        if self.host not in LOOPBACK:
            raise ValueError(
                "bind to loopback and put a TLS proxy in front of the service outside the devnet"
            )
        if not self.public_url.startswith("https://"):
            raise ValueError(
                "public_url must be https outside the devnet: clerks sign in there and the session "
                "cookie is Secure"
            )
        return self

    @property
    def secure_cookie(self) -> bool:
        return self.public_url.startswith("https://")

    @classmethod
    def load(cls, path: Path) -> RegistrySettings:
        return load_settings(cls, path, ("gateway", "passphrase_file", "salt_file", "data_dir"))

    def salt(self) -> bytes:
        return read_salt(self.salt_file)
