"""The genesis Consortium is byte for byte what a normal deployment of the same founding gives."""

from __future__ import annotations

import pytest

from contracts.founding import Founding, FoundingAccount, FoundingCity, Role
from contracts.genesis import GenesisError, consortium_genesis_account
from devnet.inprocess import start_inprocess_chain
from devnet.keys import CityKeys, dev_founding
from ledger.deploy import deploy_consortium


def test_genesis_code_and_storage_equal_a_normal_deployment(cities: tuple[CityKeys, ...]) -> None:
    founding = dev_founding(
        cities, calibration_valid_until=2_000_000_000, node_fingerprints={"aachen": b"\xaa" * 32}
    )
    genesis = consortium_genesis_account(founding)
    chain = start_inprocess_chain([cities[0].admin])
    deployed = deploy_consortium(chain.w3, founding, cities[0].admin.address)

    assert genesis.code == bytes(chain.w3.eth.get_code(deployed.address))
    assert len(genesis.storage) > 20
    for slot, value in genesis.storage.items():
        assert int.from_bytes(chain.w3.eth.get_storage_at(deployed.address, slot), "big") == value, hex(slot)


def test_genesis_alloc_json_has_the_geth_shape(cities: tuple[CityKeys, ...]) -> None:
    alloc = consortium_genesis_account(dev_founding(cities, 2_000_000_000)).to_json()
    assert set(alloc) == {"balance", "nonce", "code", "storage"}
    assert alloc["code"].startswith("0x60")
    assert all(len(k) == 66 and len(v) == 66 for k, v in alloc["storage"].items())


@pytest.mark.parametrize(
    ("founding", "error"),
    [
        (Founding(cities=()), "BadFounding(reason=no cities)"),
        (
            Founding(
                cities=(FoundingCity("aachen", "0x" + "11" * 20), FoundingCity("aachen", "0x" + "12" * 20))
            ),
            "InvalidProposal(reason=2)",
        ),
        (
            Founding(
                cities=(FoundingCity("aachen", "0x" + "11" * 20),),
                accounts=(FoundingAccount("aachen", "0x" + "22" * 20, Role.SCALE),),
            ),
            "InvalidAccount(",
        ),
    ],
)
def test_a_refused_founding_names_the_constructor_error(founding: Founding, error: str) -> None:
    with pytest.raises(GenesisError, match=error.replace("(", r"\(").replace(")", r"\)")):
        consortium_genesis_account(founding)
