"""The gateway end to end, on our devnet and on anvil: intake, batching, finality, fallback, proofs."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from contracts.founding import Role
from devnet.keys import CityKeys
from devnet.samples import sample_weighing
from ledger.connect import connect
from ledger.deploy import bind
from ledger.errors import ConflictError
from ledger.gateway import Gateway
from ledger.outbox import FINAL, REJECTED
from ledger.records import Attestation, Revocation, Weighing, domain_for, short_text
from ledger.trust import trust_from_node
from ledger.verify import verify_bundle
from tests.ledger.conftest import gateway_settings

AACHEN = CityKeys.derive("aachen")


def new_scale(chain: dict[str, Any]) -> LocalAccount:
    scale: LocalAccount = Account.from_key(os.urandom(32))
    w3 = connect(chain["rpc"], [AACHEN.admin])
    consortium = bind(w3, "Consortium", chain["contracts"]["consortium"])
    calibration = int(time.time()) + 365 * 86400
    tx = consortium.functions.setAccount(
        scale.address, Role.SCALE, b"CAL".ljust(32, b"\0"), calibration
    ).transact({"from": AACHEN.admin.address})
    assert w3.eth.wait_for_transaction_receipt(tx, timeout=60)["status"] == 1
    return scale


def weighing(scale: LocalAccount, seq: int, **changes: Any) -> Weighing:
    return sample_weighing(scale.address, seq, **changes)


def wait_settled(gw: Gateway, keys: list[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = [gw.status(k) for k in keys]
        if all(i is not None and i.state in (FINAL, REJECTED) for i in items):
            return
        time.sleep(0.1)
    raise AssertionError(f"not settled in {timeout} s: {[gw.status(k) for k in keys]}")


def record_count(chain: dict[str, Any]) -> int:
    w3 = connect(chain["rpc"])
    return int(bind(w3, "WeighingLedger", chain["contracts"]["weighing"]).functions.recordCount().call())


def test_weighings_become_final_in_batches_and_their_bundles_verify(
    chain: dict[str, Any], gateway: Gateway
) -> None:
    scale = new_scale(chain)
    domain = domain_for(Weighing, chain["chainId"], chain["contracts"]["weighing"])
    before = record_count(chain)
    keys = []
    for seq in range(1, 31):
        w = weighing(scale, seq)
        item, created = gateway.submit("weighing", w, w.sign(domain, scale.key))
        assert created and item.state == "queued"
        keys.append(item.id)
    wait_settled(gateway, keys)
    items = [gateway.status(k) for k in keys]
    assert all(i is not None and i.state == FINAL and i.block_number for i in items)
    assert len({i.tx_hash for i in items if i is not None}) < 30  # batched
    assert record_count(chain) == before + 30
    trust = trust_from_node(gateway.rpc)
    verdict = verify_bundle(gateway.bundle(keys[7]), trust)
    assert verdict.valid, verdict.describe()
    if chain["engine"] == "anvil":
        assert any("no commit seals" in w for w in verdict.warnings)
    else:
        assert any(check == "seals" for check, _ in verdict.checks)


def test_a_resent_record_is_idempotent_and_a_different_one_under_its_id_conflicts(
    chain: dict[str, Any], gateway: Gateway
) -> None:
    scale = new_scale(chain)
    domain = domain_for(Weighing, chain["chainId"], chain["contracts"]["weighing"])
    w = weighing(scale, 1)
    first, created = gateway.submit("weighing", w, w.sign(domain, scale.key))
    again, created_again = gateway.submit("weighing", w, w.sign(domain, scale.key))
    assert created and not created_again and again.id == first.id
    other = weighing(scale, 2, record_id=w.record_id)
    with pytest.raises(ConflictError):
        gateway.submit("weighing", other, other.sign(domain, scale.key))
    wait_settled(gateway, [first.id])
    final = gateway.status(first.id)
    assert final is not None and final.state == FINAL


def test_an_invalid_record_is_rejected_with_its_reason_and_the_batch_lands(
    chain: dict[str, Any], gateway: Gateway
) -> None:
    scale = new_scale(chain)
    domain = domain_for(Weighing, chain["chainId"], chain["contracts"]["weighing"])
    good = [weighing(scale, seq) for seq in (1, 2)]
    bad = weighing(scale, 3, net_kg=1)
    keys = [gateway.submit("weighing", w, w.sign(domain, scale.key))[0].id for w in (*good, bad)]
    wait_settled(gateway, keys)
    states = [(s.state, s.reason) for s in (gateway.status(k) for k in keys) if s is not None]
    assert states == [(FINAL, None), (FINAL, None), (REJECTED, "BadNetWeight")]


def test_attestation_and_revocation_through_the_gateway(chain: dict[str, Any], gateway: Gateway) -> None:
    domain = domain_for(Attestation, chain["chainId"], chain["contracts"]["registry"])
    now = int(connect(chain["rpc"]).eth.get_block("latest")["timestamp"])
    document = os.urandom(32)
    attestation = Attestation(
        document, short_text("Melderegister"), os.urandom(32), now, now + 86400, AACHEN.clerk.address
    )
    item, _ = gateway.submit("attestation", attestation, attestation.sign(domain, AACHEN.clerk.key))
    wait_settled(gateway, [item.id])
    settled = gateway.status(item.id)
    assert settled is not None and settled.state == FINAL, settled
    assert verify_bundle(gateway.bundle(item.id), trust_from_node(gateway.rpc)).valid
    revocation = Revocation(document, 7, AACHEN.clerk.address)
    revoked, _ = gateway.submit("revocation", revocation, revocation.sign(domain, AACHEN.clerk.key))
    again = Revocation(document, 8, AACHEN.clerk.address)
    with pytest.raises(ConflictError):  # one revocation per document: another reason is another record
        gateway.submit("revocation", again, again.sign(domain, AACHEN.clerk.key))
    wait_settled(gateway, [revoked.id])
    final = gateway.status(revoked.id)
    assert final is not None and final.state == FINAL
    registry = bind(connect(chain["rpc"]), "RegistryAttestations", chain["contracts"]["registry"])
    assert registry.functions.status(document).call() == 3  # Revoked


def test_the_gateway_falls_back_to_another_node_when_its_own_is_down(
    chain: dict[str, Any], tmp_path: Path
) -> None:
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings = gateway_settings(chain, tmp_path / "fallback.sqlite", urls=[dead, chain["rpc"]])
    gw = Gateway(settings, AACHEN.gateway)
    gw.start()
    try:
        scale = new_scale(chain)
        domain = domain_for(Weighing, chain["chainId"], chain["contracts"]["weighing"])
        w = weighing(scale, 1)
        item, _ = gw.submit("weighing", w, w.sign(domain, scale.key))
        wait_settled(gw, [item.id])
        final = gw.status(item.id)
        assert final is not None and final.state == FINAL
        assert gw.rpc.current_url == chain["rpc"]
    finally:
        gw.stop()
