"""Simulated weighing scales: each signs its weighings (EIP-712) like a calibrated scale and posts
them to the city's weighing service, at a given total rate. Scales are dev keys; missing ones are
registered as SCALE by the city's (dev) ADMIN first."""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from rich.live import Live

from contracts.founding import Role
from devnet.keys import dev_account
from devnet.samples import sample_weighing
from ledger.connect import connect
from ledger.deploy import bind
from ledger.records import Weighing, domain_for, salted_ref


@dataclass
class Progress:
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, outcome: str) -> None:
        with self.lock:
            setattr(self, outcome, getattr(self, outcome) + 1)


def ensure_scales(description: dict[str, Any], city: str, count: int) -> list[LocalAccount]:
    """The city's first `count` dev scales, registering the ones the Consortium does not know yet."""
    accounts = description["accounts"][city]
    admin = dev_account(city, "admin")
    assert admin.address == accounts["admin"]["address"]
    w3 = connect(description["nodes"][0]["rpc"], [admin])
    consortium = bind(w3, "Consortium", description["contracts"]["consortium"])
    until = int(time.time()) + 365 * 86400
    scales = [dev_account(city, "scale", i) for i in range(count)]
    pending = []
    for scale in scales:
        _, role, _ = consortium.functions.roleOf(scale.address).call()
        if role != Role.SCALE:
            ref = f"DE-M-SIM-{scale.address[2:10]}".encode().ljust(32, b"\0")
            pending.append(
                consortium.functions.setAccount(scale.address, Role.SCALE, ref, until).transact(
                    {"from": admin.address, "gas": 300_000}
                )
            )
    for tx in pending:
        w3.eth.wait_for_transaction_receipt(tx, timeout=120)
    return scales


@dataclass(frozen=True)
class TruckLoad:
    plate: str
    customer: str
    avv_code: int
    tare_kg: int
    net_kg: int


# Waste codes of the AVV a municipal weighbridge sees, with a plausible net load range in kg.
WASTE = (
    (200301, 4_000, 11_000),  # gemischte Siedlungsabfälle (residual waste)
    (200108, 3_000, 9_000),  # biologisch abbaubare Küchen- und Kantinenabfälle (organic waste)
    (200101, 2_000, 7_000),  # Papier und Pappe (paper)
    (150106, 1_500, 5_000),  # gemischte Verpackungen (packaging)
    (200307, 2_000, 8_000),  # Sperrmüll (bulky waste)
)
FLEET = 12  # vehicles per city


def truck_load(rng: random.Random, city: str) -> TruckLoad:
    """One of the city's refuse trucks with a load of one waste type for one of its customers."""
    truck = rng.randrange(FLEET)
    avv, low, high = WASTE[rng.randrange(len(WASTE))]
    return TruckLoad(
        plate=f"{city[:2].upper()}-GV {101 + truck}",
        customer=f"Kundennummer {4700 + rng.randrange(20)}",
        avv_code=avv,
        tare_kg=11_000 + 150 * truck,  # each truck's stored tare
        net_kg=rng.randrange(low, high, 10),
    )


def run_simulation(
    data_dir: Path,
    city: str,
    scales: int,
    rate: float,
    duration: float,
    url: str | None = None,
    seed: int | None = None,
) -> Progress:
    description = json.loads((data_dir / "devnet.json").read_text())
    service = url or (description.get("apps") or {}).get("weighing")
    if not service:
        raise SystemExit("no weighing service in devnet.json: start one or pass its URL")
    accounts = ensure_scales(description, city, scales)
    salt = bytes.fromhex((data_dir / "gateways" / f"{city}-salt.hex").read_text().strip())
    weighing_contract = bind(
        connect(description["nodes"][0]["rpc"]), "WeighingLedger", description["contracts"]["weighing"]
    )
    domain = domain_for(Weighing, description["chainId"], description["contracts"]["weighing"])
    seqs = {a.address: int(weighing_contract.functions.lastSeq(a.address).call()) for a in accounts}
    progress = Progress()
    session = requests.Session()
    rng = random.Random(seed)  # noqa: S311 - plausible demo data, nothing secret

    def post(scale: LocalAccount, seq: int, load: TruckLoad) -> None:
        record = sample_weighing(
            scale.address,
            seq,
            gross_kg=load.tare_kg + load.net_kg,
            tare_kg=load.tare_kg,
            net_kg=load.net_kg,
            tare_mode=1,  # the vehicle's stored tare
            avv_code=load.avv_code,
            vehicle_ref=salted_ref(salt, load.plate),
            customer_ref=salted_ref(salt, load.customer),
        )
        body: dict[str, Any] = {
            "record": record.to_json(),
            "signature": "0x" + record.sign(domain, scale.key).hex(),
            "clear": {"vehicle": load.plate, "customer": load.customer},
        }
        try:
            reply = session.post(f"{service}/v1/weighings", json=body, timeout=30)
        except requests.RequestException:
            progress.count("errors")
            return
        progress.count("accepted" if reply.status_code in (200, 202) else "refused")

    end = time.monotonic() + duration
    interval = 1 / rate
    with ThreadPoolExecutor(max_workers=8) as pool, Live(refresh_per_second=4) as live:
        n = 0
        next_at = time.monotonic()
        while time.monotonic() < end:
            scale = accounts[n % len(accounts)]
            seqs[scale.address] += 1
            pool.submit(post, scale, seqs[scale.address], truck_load(rng, city))
            progress.count("sent")
            n += 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
            live.update(_line(service, progress))
        pool.shutdown(wait=True)
        live.update(_line(service, progress))
    return progress


def _line(service: str, progress: Progress) -> str:
    try:
        counts = requests.get(f"{service}/health", timeout=2).json()["outbox"]
    except (requests.RequestException, ValueError, KeyError):
        counts = {}
    return (
        f"sent {progress.sent}  accepted {progress.accepted}  final {counts.get('final', 0)}  "
        f"rejected {progress.refused + counts.get('rejected', 0)}  errors {progress.errors}"
    )
