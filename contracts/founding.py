"""The founding configuration of a consortium, as passed to the Consortium constructor."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address

from contracts.artifacts import load_artifact

_CITY_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
ZERO_ADDRESS = "0x" + "00" * 20
DEFAULT_VOTING_PERIOD = 7 * 24 * 3600


class Role(IntEnum):
    """Mirrors IConsortium.Role."""

    NONE = 0
    ADMIN = 1
    GATEWAY = 2
    CLERK = 3
    SCALE = 4


def city_id(name: str) -> bytes:
    """A city's on-chain id: its lower-case ASCII name, right-padded to 32 bytes."""
    if not _CITY_NAME.match(name):
        raise ValueError(
            f"city name {name!r}: use 1-32 lower-case letters, digits or '-', starting with a letter"
        )
    return name.encode("ascii").ljust(32, b"\0")


def city_name(city: bytes) -> str:
    return city.rstrip(b"\0").decode("ascii")


@dataclass(frozen=True)
class FoundingCity:
    name: str
    admin: str
    validator: str = ZERO_ADDRESS
    node_fingerprint: bytes = b"\0" * 32

    def as_abi(self) -> tuple[bytes, str, str, bytes]:
        return (
            city_id(self.name),
            to_checksum_address(self.admin),
            to_checksum_address(self.validator),
            self.node_fingerprint,
        )


@dataclass(frozen=True)
class FoundingAccount:
    city: str
    address: str
    role: Role
    calibration_ref: bytes = b"\0" * 32
    calibration_valid_until: int = 0

    def as_abi(self) -> tuple[bytes, str, int, bytes, int]:
        return (
            city_id(self.city),
            to_checksum_address(self.address),
            int(self.role),
            self.calibration_ref.ljust(32, b"\0"),
            self.calibration_valid_until,
        )


@dataclass(frozen=True)
class Founding:
    cities: tuple[FoundingCity, ...]
    accounts: tuple[FoundingAccount, ...] = field(default=())
    voting_period: int = DEFAULT_VOTING_PERIOD

    def constructor_args(
        self,
    ) -> tuple[list[tuple[bytes, str, str, bytes]], list[tuple[bytes, str, int, bytes, int]], int]:
        return ([c.as_abi() for c in self.cities], [a.as_abi() for a in self.accounts], self.voting_period)

    def creation_code(self) -> bytes:
        """Consortium init code followed by the ABI-encoded constructor arguments."""
        encoded = abi_encode(
            ["(bytes32,address,address,bytes32)[]", "(bytes32,address,uint8,bytes32,uint64)[]", "uint64"],
            list(self.constructor_args()),
        )
        return load_artifact("Consortium").bytecode + encoded
