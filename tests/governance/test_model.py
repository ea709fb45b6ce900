"""The governance client's pure parts: the sentences for the Consortium's refusals, the Besu export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_utils.abi import function_signature_to_4byte_selector

from contracts.founding import city_id
from devnet.besu import EPOCH_LENGTH, export
from devnet.keys import CityKeys, dev_founding
from governance.model import INVALID, Kind, ProposalView, State, explain_revert
from nodes.genesis import Genesis, make_genesis
from protocol.qbft_extra import QbftExtra
from tests.contracts.consortium_support import Invalid


def _error(signature: str, types: list[str], values: list[object]) -> bytes:
    return function_signature_to_4byte_selector(signature) + encode(types, values)


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        (_error("NotAnAdmin(address)", ["address"], ["0x" + "11" * 20]), "is not an ADMIN of a member city"),
        (
            _error("InvalidProposal(uint8)", ["uint8"], [2]),
            "refuses this proposal: the city is already a member",
        ),
        (_error("UnknownProposal(uint256)", ["uint256"], [7]), "there is no proposal 7"),
        (
            _error("ProposalClosed(uint256,uint8)", ["uint256", "uint8"], [3, 3]),
            "proposal 3 is closed: rejected",
        ),
        (
            _error("ProposalExpired(uint256,uint64)", ["uint256", "uint64"], [1, 0]),
            "proposal 1 expired at 1970-01-01",
        ),
        (
            _error("AlreadyVoted(uint256,bytes32)", ["uint256", "bytes32"], [4, city_id("soest")]),
            "soest already voted on proposal 4",
        ),
    ],
)
def test_refusals_read_as_sentences(data: bytes, sentence: str) -> None:
    assert sentence in explain_revert(data)


def test_every_refusal_reason_of_the_contract_has_a_sentence() -> None:
    assert set(INVALID) == {int(i) for i in Invalid if i != Invalid.NONE}
    assert {k.value for k in Kind} == set(range(7)) and Kind.ADMIT_CITY.label == "admit-city"


def test_an_admission_names_admin_node_and_validator() -> None:
    raw = (6, 1, 0, 1, 0, city_id("aachen"), city_id("bielefeld"), "0x" + "aa" * 20, b"\x12" * 32)
    view = ProposalView.from_call(0, raw, "0x" + "bb" * 20)
    assert (view.kind, view.state, view.city, view.proposer_city) == (
        Kind.ADMIT_CITY,
        State.OPEN,
        "bielefeld",
        "aachen",
    )
    assert view.subject() == f"admin 0x{'aa' * 20}, node 0x{'12' * 8}…, validator 0x{'bb' * 20}"


def test_the_besu_genesis_keeps_chain_validators_and_alloc_with_whole_second_periods(tmp_path: Path) -> None:
    cities = tuple(CityKeys.derive(c) for c in ("aachen", "soest"))
    genesis = make_genesis(
        4242, dev_founding(cities, 2_000_000_000), [c.validator.address for c in cities], 1_700_000_000,
        block_period=0.3, request_timeout=2.5,
    )  # fmt: skip
    genesis.write(tmp_path / "genesis.json")
    besu, validators = export(tmp_path / "genesis.json")
    qbft = besu["config"]["qbft"]
    assert (qbft["blockperiodseconds"], qbft["emptyblockperiodseconds"], qbft["requesttimeoutseconds"]) == (
        1,
        30,
        3,
    )
    assert qbft["epochlength"] == EPOCH_LENGTH
    assert besu["config"]["chainId"] == 4242 and besu["config"]["zeroBaseFee"] is True
    assert besu["extraData"] == "0x" + genesis.extra_data.hex()
    assert QbftExtra.decode(genesis.extra_data).validators == tuple(bytes.fromhex(v[2:]) for v in validators)
    assert besu["alloc"] == json.loads(json.dumps(genesis.to_json()["alloc"]))
    assert Genesis.model_validate(besu).chain_id == 4242  # still a genesis govchain reads
