"""Deterministic development keys for the devnet and the tests. DEV ONLY: anyone can derive them."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from contracts.founding import Founding, FoundingAccount, FoundingCity, Role

DEV_CITIES = ("aachen", "gelsenkirchen", "paderborn", "soest", "wuppertal")  # the NRW model regions
# More partner cities for larger test networks (up to seven validators).
EXTRA_DEV_CITIES = ("bielefeld", "muenster")
DEV_KEY_WARNING = "development key derived from a public seed: never use outside the devnet"


def dev_key(city: str, role: str, index: int = 0) -> bytes:
    return keccak(text=f"govchain devnet key/{city}/{role}/{index}")


def dev_account(city: str, role: str, index: int = 0) -> LocalAccount:
    account: LocalAccount = Account.from_key(dev_key(city, role, index))
    return account


@dataclass(frozen=True)
class CityKeys:
    city: str
    admin: LocalAccount
    gateway: LocalAccount
    clerk: LocalAccount
    validator: LocalAccount
    scales: tuple[LocalAccount, ...]

    @classmethod
    def derive(cls, city: str, scales: int = 2) -> CityKeys:
        return cls(
            city=city,
            admin=dev_account(city, "admin"),
            gateway=dev_account(city, "gateway"),
            clerk=dev_account(city, "clerk"),
            validator=dev_account(city, "validator"),
            scales=tuple(dev_account(city, "scale", i) for i in range(scales)),
        )

    def all(self) -> list[LocalAccount]:
        return [self.admin, self.gateway, self.clerk, self.validator, *self.scales]


def dev_founding(
    cities: tuple[CityKeys, ...],
    calibration_valid_until: int,
    voting_period: int = 7 * 24 * 3600,
    node_fingerprints: dict[str, bytes] | None = None,
) -> Founding:
    """Every city founding, with its admin, validator, gateway, clerk and scales."""
    fingerprints = node_fingerprints or {}
    accounts: list[FoundingAccount] = []
    for c in cities:
        accounts.append(FoundingAccount(c.city, c.gateway.address, Role.GATEWAY))
        accounts.append(FoundingAccount(c.city, c.clerk.address, Role.CLERK))
        for i, scale in enumerate(c.scales):
            ref = f"DE-M-{c.city[:3].upper()}-{i:04d}".encode().ljust(32, b"\0")
            accounts.append(FoundingAccount(c.city, scale.address, Role.SCALE, ref, calibration_valid_until))
    return Founding(
        cities=tuple(
            FoundingCity(
                c.city,
                c.admin.address,
                c.validator.address,
                fingerprints.get(c.city, b"\0" * 32),
            )
            for c in cities
        ),
        accounts=tuple(accounts),
        voting_period=voting_period,
    )
