"""The weighing service's settings (environment GOVCHAIN_WEIGHING_* or a TOML file), checked at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from apps.common import SettingsError, load_settings, read_salt
from apps.weighing.service import Limits

__all__ = ["SettingsError", "WeighingSettings"]


class WeighingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVCHAIN_WEIGHING_", extra="forbid")

    gateway: Path  # gateway settings JSON (nodes, chain id, contracts, keystore, outbox)
    passphrase_file: Path  # unlocks the gateway keystore
    salt_file: Path  # the city's secret salt for the *Ref hashes (hex, at least 16 bytes)
    data_dir: Path
    staff_tokens_file: Path | None = None  # who may search, total and erase (`govchain weighing token`)
    host: str = "127.0.0.1"
    port: int = Field(default=8600, ge=1, le=65535)
    devnet: bool = False
    max_gross_kg: int = Field(default=60_000, gt=0)
    max_clock_skew_s: int = Field(default=300, ge=0)
    max_age_days: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _safe_outside_devnet(self) -> WeighingSettings:
        if not self.devnet and self.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(
                "bind to loopback and put a TLS proxy in front of the service outside the devnet"
            )
        return self

    @classmethod
    def load(cls, path: Path) -> WeighingSettings:
        return load_settings(
            cls, path, ("gateway", "passphrase_file", "salt_file", "data_dir", "staff_tokens_file")
        )

    def salt(self) -> bytes:
        return read_salt(self.salt_file)

    def limits(self) -> Limits:
        return Limits(self.max_gross_kg, self.max_clock_skew_s, self.max_age_days)
