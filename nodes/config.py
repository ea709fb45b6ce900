"""A node's configuration: a TOML file, overridable by GOVCHAIN_NODE_* environment variables,
validated at start. Outside the devnet, unsafe settings are refused."""

from __future__ import annotations

import json
import os
import tomllib
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_keys.datatypes import PrivateKey
from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.genesis import CONSORTIUM_ADDRESS
from nodes.errors import ConfigError

PASSWORD_ENV = "GOVCHAIN_VALIDATOR_PASSWORD"  # noqa: S105 - the name of a variable, not a password


class NodeConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVCHAIN_NODE_", extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    data_dir: Path
    genesis: Path
    devnet: bool = False
    rpc_host: str = "127.0.0.1"
    rpc_port: int = Field(default=8545, ge=1, le=65535)
    ws_port: int = Field(default=8546, ge=1, le=65535)
    # Encrypted keystore (eth-account format) of the validator key; None for a non-validating node.
    validator_keystore: Path | None = None
    validator_password_file: Path | None = None
    permissioning_contract: str = CONSORTIUM_ADDRESS
    account_permissioning: bool = True
    # Put the header votes into proposed blocks that the Consortium's validator decisions ask for.
    follow_contract_validators: bool = True
    max_request_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_batch_requests: int = Field(default=1000, ge=1)
    max_pool_transactions: int = Field(default=20_000, ge=1)
    rpc_gas_cap: int = Field(default=50_000_000, ge=21_000)
    logs_block_range: int = Field(default=10_000, ge=1)
    verify_store_on_start: bool = True
    # Peer-to-peer: TLS 1.3 with certificates of the consortium CA; no plaintext mode exists.
    p2p_host: str = "127.0.0.1"
    p2p_port: int | None = Field(default=None, ge=1, le=65535)
    peers: list[str] = Field(default_factory=list)  # "host:port" of the other nodes
    tls_ca_cert: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @model_validator(mode="after")
    def _refuse_unsafe_outside_devnet(self) -> NodeConfig:
        if self.rpc_port == self.ws_port:
            raise ValueError("rpc_port and ws_port must differ")
        if self.p2p_port is not None and None in (self.tls_ca_cert, self.tls_cert, self.tls_key):
            raise ValueError("p2p_port needs tls_ca_cert, tls_cert and tls_key (peers talk TLS only)")
        for peer in self.peers:
            host, _, port = peer.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"peers: {peer!r} is not host:port")
        if self.devnet:
            return self
        if not self.account_permissioning:
            raise ValueError("account_permissioning may only be switched off on the devnet")
        if not ip_address(self.rpc_host).is_loopback and self.rpc_host != "localhost":
            raise ValueError(
                "rpc_host: JSON-RPC has no authentication; outside the devnet bind it to loopback "
                "and put an authenticating TLS proxy in front of it"
            )
        if (
            self.validator_keystore is not None
            and self.validator_password_file is None
            and PASSWORD_ENV not in os.environ
        ):
            raise ValueError(f"validator_keystore needs validator_password_file or ${PASSWORD_ENV}")
        return self

    @classmethod
    def load(cls, path: Path) -> NodeConfig:
        try:
            raw: dict[str, Any] = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"config {path}: {exc}") from None
        base = path.parent
        for key in (
            "data_dir",
            "genesis",
            "validator_keystore",
            "validator_password_file",
            "tls_ca_cert",
            "tls_cert",
            "tls_key",
        ):
            if isinstance(raw.get(key), str) and not Path(raw[key]).is_absolute():
                raw[key] = str(base / raw[key])
        try:
            return cls(**raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "config"
            raise ConfigError(f"config {path}: {where}: {first['msg']}") from None

    def validator_key(self) -> PrivateKey | None:
        if self.validator_keystore is None:
            return None
        if self.validator_password_file is not None:
            password = self.validator_password_file.read_text().strip()
        else:
            password = os.environ.get(PASSWORD_ENV, "")
        try:
            secret = Account.decrypt(json.loads(self.validator_keystore.read_text()), password)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"validator keystore {self.validator_keystore}: {exc}") from None
        return PrivateKey(bytes(secret))


def write_config(path: Path, values: dict[str, Any]) -> None:
    """Writes a flat TOML file (strings, numbers, booleans, lists of strings)."""
    lines = []
    for key, value in values.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{key} = {value}")
        elif isinstance(value, list):
            lines.append(f"{key} = {json.dumps([str(v) for v in value])}")
        else:
            lines.append(f"{key} = {json.dumps(str(value))}")
    path.write_text("\n".join(lines) + "\n")
