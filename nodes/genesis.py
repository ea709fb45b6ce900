"""The genesis file, in Besu's QBFT genesis format, so the same file can start a Besu network.

{
  "config": {"chainId": 4242, "pragueTime": 0, ...,
             "qbft": {"blockperiodseconds": 1, "emptyblockperiodseconds": 30, "requesttimeoutseconds": 4}},
  "gasLimit": "0x...", "timestamp": "0x...", "difficulty": "0x1", "mixHash": "0x6374...",
  "extraData": "0x<RLP QBFT extraData with the validators>",
  "baseFeePerGas": "0x0",
  "alloc": {"<address>": {"balance": "0x0", "nonce": "0x1", "code": "0x...", "storage": {...}}}
}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_utils.address import to_canonical_address, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from contracts.founding import Founding
from contracts.genesis import CONSORTIUM_ADDRESS, consortium_genesis_account
from nodes.errors import ConfigError
from protocol.qbft_extra import QbftExtra

# Besu's QBFT mixHash ("ctical byzantine fault tolerance")
QBFT_MIX_HASH = bytes.fromhex("63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365")
DEFAULT_GAS_LIMIT = 200_000_000
FORKS_AT_GENESIS = (
    "homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock", "constantinopleBlock",
    "petersburgBlock", "istanbulBlock", "berlinBlock", "londonBlock",
)  # fmt: skip
TIME_FORKS_AT_GENESIS = ("shanghaiTime", "cancunTime", "pragueTime")


def _hex_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return int(value, 16) if value.startswith("0x") else int(value)
    raise ValueError("must be an integer or a hex string")


def _hex_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError("must be a 0x-prefixed hex string")
    return bytes.fromhex(value[2:])


class AllocAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    balance: int = 0
    nonce: int = 0
    code: bytes = b""
    storage: dict[int, int] = Field(default_factory=dict)

    _ints = field_validator("balance", "nonce", mode="before")(_hex_int)
    _code = field_validator("code", mode="before")(_hex_bytes)

    @field_validator("storage", mode="before")
    @classmethod
    def _storage(cls, value: Any) -> dict[int, int]:
        if not isinstance(value, dict):
            raise ValueError("must be an object of slot -> value")
        return {_hex_int(k): _hex_int(v) for k, v in value.items()}


class QbftConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    # Besu takes whole seconds; govchain also takes fractions for fast devnets and tests.
    blockperiodseconds: float = Field(default=1, gt=0)
    emptyblockperiodseconds: float = Field(default=30, ge=0)
    requesttimeoutseconds: float = Field(default=4, gt=0)


class ChainConfig(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    chain_id: int = Field(gt=0, alias="chainId")
    qbft: QbftConfig = Field(default_factory=QbftConfig)


class Genesis(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    config: ChainConfig
    gas_limit: int = Field(default=DEFAULT_GAS_LIMIT, alias="gasLimit")
    timestamp: int = 0
    extra_data: bytes = Field(alias="extraData")
    alloc: dict[str, AllocAccount] = Field(default_factory=dict)

    _ints = field_validator("gas_limit", "timestamp", mode="before")(_hex_int)
    _extra = field_validator("extra_data", mode="before")(_hex_bytes)

    @field_validator("extra_data")
    @classmethod
    def _qbft_extra(cls, value: bytes) -> bytes:
        extra = QbftExtra.decode(value)
        if not extra.validators:
            raise ValueError("the genesis extraData names no validators")
        return value

    @property
    def chain_id(self) -> int:
        return self.config.chain_id

    @property
    def validators(self) -> tuple[bytes, ...]:
        return QbftExtra.decode(self.extra_data).validators

    @classmethod
    def load(cls, path: Path) -> Genesis:
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"genesis {path}: {exc}") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"genesis {path}: {where}: {first['msg']}") from None

    def to_json(self) -> dict[str, Any]:
        config: dict[str, Any] = {"chainId": self.chain_id}
        config.update(dict.fromkeys(FORKS_AT_GENESIS, 0))
        config.update(dict.fromkeys(TIME_FORKS_AT_GENESIS, 0))
        config["zeroBaseFee"] = True
        config["qbft"] = self.config.qbft.model_dump()
        return {
            "config": config,
            "nonce": "0x0",
            "timestamp": hex(self.timestamp),
            "gasLimit": hex(self.gas_limit),
            "difficulty": "0x1",
            "mixHash": "0x" + QBFT_MIX_HASH.hex(),
            "coinbase": "0x" + "00" * 20,
            "baseFeePerGas": "0x0",
            "extraData": "0x" + self.extra_data.hex(),
            "alloc": {
                addr: {
                    "balance": hex(acct.balance),
                    "nonce": hex(acct.nonce),
                    "code": "0x" + acct.code.hex(),
                    "storage": {f"0x{k:064x}": f"0x{v:064x}" for k, v in sorted(acct.storage.items())},
                }
                for addr, acct in self.alloc.items()
            },
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


def make_genesis(
    chain_id: int,
    founding: Founding,
    validators: list[str],
    timestamp: int,
    block_period: float = 1,
    empty_block_period: float = 30,
    request_timeout: float = 4,
    gas_limit: int = DEFAULT_GAS_LIMIT,
) -> Genesis:
    """A genesis with the Consortium of `founding` pre-allocated at CONSORTIUM_ADDRESS."""
    consortium = consortium_genesis_account(founding, timestamp)
    extra = QbftExtra(validators=tuple(to_canonical_address(v) for v in validators))
    return Genesis(
        config=ChainConfig(
            chain_id=chain_id,
            qbft=QbftConfig(
                blockperiodseconds=block_period,
                emptyblockperiodseconds=empty_block_period,
                requesttimeoutseconds=request_timeout,
            ),
        ),
        gas_limit=gas_limit,
        timestamp=timestamp,
        extra_data=extra.encode(),
        alloc={
            to_checksum_address(CONSORTIUM_ADDRESS): AllocAccount(
                balance=consortium.balance,
                nonce=consortium.nonce,
                code=consortium.code,
                storage=consortium.storage,
            )
        },
    )
