"""Proof bundles from a real devnet: the genuine one verifies; every kind of tampering fails and says
which check failed; random byte changes anywhere never pass."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rlp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devnet.keys import CityKeys
from ledger.gateway import Gateway
from ledger.outbox import FINAL
from ledger.records import Weighing, domain_for
from ledger.trust import trust_from_node
from ledger.verify import verify_bundle
from protocol.qbft_extra import EXTRA_DATA_INDEX, QbftExtra
from tests.ledger.backends import devnet_chain
from tests.ledger.conftest import gateway_settings
from tests.ledger.test_gateway import new_scale, wait_settled, weighing

ROOT = Path(__file__).resolve().parents[2]
Bundle = dict[str, Any]


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Bundle, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("bundles")
    with devnet_chain(folder / "devnet") as chain:
        gw = Gateway(gateway_settings(chain, folder / "outbox.sqlite"), CityKeys.derive("aachen").gateway)
        gw.start()
        try:
            scale = new_scale(chain)
            domain = domain_for(Weighing, chain["chainId"], chain["contracts"]["weighing"])
            keys = []
            for seq in (1, 2, 3):
                w = weighing(scale, seq)
                keys.append(gw.submit("weighing", w, w.sign(domain, scale.key))[0].id)
            wait_settled(gw, keys)
            status = gw.status(keys[1])
            assert status is not None and status.state == FINAL
            yield gw.bundle(keys[1]), trust_from_node(gw.rpc)
        finally:
            gw.stop()


def test_the_genuine_bundle_verifies_with_every_check(genuine: tuple[Bundle, dict[str, Any]]) -> None:
    bundle, trust = genuine
    verdict = verify_bundle(bundle, trust)
    assert verdict.valid, verdict.describe()
    assert [c for c, _ in verdict.checks] == [
        "format",
        "chain",
        "signature",
        "header",
        "validators",
        "seals",
        "inclusion",
        "event",
    ]


def _flip_hex(value: str, position: int) -> str:
    digits = list(value)
    index = 2 + position % (len(value) - 2)
    digits[index] = "0" if digits[index] != "0" else "1"
    return "".join(digits)


def _edit_header(bundle: Bundle, change: Callable[[list[Any]], None]) -> None:
    fields = rlp.decode(bytes.fromhex(bundle["block"]["header"][2:]))
    change(fields)
    bundle["block"]["header"] = "0x" + bytes(rlp.encode(fields)).hex()


def _drop_seals(fields: list[Any]) -> None:
    extra = QbftExtra.decode(fields[EXTRA_DATA_INDEX])
    fields[EXTRA_DATA_INDEX] = QbftExtra(extra.validators, extra.round, extra.vote, ()).encode()


TAMPERINGS: dict[str, tuple[Callable[[Bundle], None], str]] = {
    "a weighed kilogram": (lambda b: b["record"].update(netKg=b["record"]["netKg"] + 1), "signature"),
    "the scale": (lambda b: b["record"].update(scale="0x" + "11" * 20), "signature"),
    "the signature": (lambda b: b.update(signature=_flip_hex(b["signature"], 5)), "signature"),
    "the contract": (lambda b: b.update(contract="0x" + "22" * 20), "signature"),
    "the chain id": (lambda b: b.update(chainId=b["chainId"] + 1), "chain"),
    "the format": (lambda b: b.update(format="other/1"), "format"),
    "the block hash": (lambda b: b["block"].update(hash=_flip_hex(b["block"]["hash"], 3)), "header"),
    "the block number": (lambda b: b["block"].update(number=b["block"]["number"] + 1), "header"),
    "a header byte": (lambda b: b["block"].update(header=_flip_hex(b["block"]["header"], 200)), "header"),
    "the consensus claim": (lambda b: b.update(consensus="none"), "header"),
    "the commit seals": (lambda b: _edit_header(b, _drop_seals), "seals"),
    "the receipt": (
        lambda b: b["receipt"].update(encoded=_flip_hex(b["receipt"]["encoded"], 9)),
        "inclusion",
    ),
    "a proof node": (
        lambda b: b["receipt"]["proof"].__setitem__(0, _flip_hex(b["receipt"]["proof"][0], 40)),
        "inclusion",
    ),
    "the transaction index": (
        lambda b: b["transaction"].update(index=b["transaction"]["index"] + 1),
        "inclusion",
    ),
    "the log index": (lambda b: b["receipt"].update(logIndex=b["receipt"]["logIndex"] + 1), "event"),
}


@pytest.mark.parametrize("what", list(TAMPERINGS))
def test_tampering_fails_and_names_the_check(genuine: tuple[Bundle, dict[str, Any]], what: str) -> None:
    bundle, trust = copy.deepcopy(genuine[0]), genuine[1]
    tamper, check = TAMPERINGS[what]
    tamper(bundle)
    verdict = verify_bundle(bundle, trust)
    assert not verdict.valid
    assert verdict.failed is not None and verdict.failed.check == check, verdict.describe()


def test_a_trust_file_with_other_validators_refuses_the_seals(genuine: tuple[Bundle, dict[str, Any]]) -> None:
    bundle, trust = genuine
    verdict = verify_bundle(bundle, dict(trust, validators=["0x" + os.urandom(20).hex()]))
    assert verdict.failed is not None and verdict.failed.check == "seals"


def test_a_forged_validator_change_is_refused(genuine: tuple[Bundle, dict[str, Any]]) -> None:
    """A header claiming a new validator set must itself be sealed by the set before it."""
    bundle = copy.deepcopy(genuine[0])
    fields = rlp.decode(bytes.fromhex(bundle["block"]["header"][2:]))
    fields[8] = (1).to_bytes(1, "big")
    forged = QbftExtra((os.urandom(20),), 0, None, (b"\x01" * 65,))
    fields[EXTRA_DATA_INDEX] = forged.encode()
    bundle["validatorChanges"] = [{"number": 1, "header": "0x" + bytes(rlp.encode(fields)).hex()}]
    verdict = verify_bundle(bundle, genuine[1])
    assert verdict.failed is not None and verdict.failed.check == "validators"


def _string_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _string_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _string_paths(v, (*path, i))]
    return [path] if isinstance(value, str) and value.startswith("0x") and len(value) > 2 else []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choice=st.integers(min_value=0), position=st.integers(min_value=0))
def test_any_changed_hex_digit_makes_the_bundle_fail(
    genuine: tuple[Bundle, dict[str, Any]], choice: int, position: int
) -> None:
    bundle = copy.deepcopy(genuine[0])
    paths = _string_paths(bundle)
    path = paths[choice % len(paths)]
    target = bundle
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = _flip_hex(target[path[-1]], position)
    assert not verify_bundle(bundle, genuine[1]).valid, path


def test_govchain_verify_prints_the_verdict(genuine: tuple[Bundle, dict[str, Any]], tmp_path: Path) -> None:
    bundle, trust = genuine
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    (tmp_path / "trust.json").write_text(json.dumps(trust))
    ok = subprocess.run(  # noqa: S603 - our own CLI
        [
            sys.executable,
            "-m",
            "cli.main",
            "verify",
            str(tmp_path / "bundle.json"),
            "--trust",
            str(tmp_path / "trust.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0 and ok.stdout.startswith("VALID"), ok.stdout + ok.stderr
    bundle["record"]["grossKg"] += 1
    (tmp_path / "bad.json").write_text(json.dumps(bundle))
    bad = subprocess.run(  # noqa: S603 - our own CLI
        [
            sys.executable,
            "-m",
            "cli.main",
            "verify",
            str(tmp_path / "bad.json"),
            "--trust",
            str(tmp_path / "trust.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and bad.stdout.startswith("INVALID") and "signature" in bad.stdout
