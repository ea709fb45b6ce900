"""Gas and wall time per contract operation on the in-process chain.

Run: .venv/bin/python bench/gas.py [--repeat N] [--json FILE]
Prints one table; wall times are medians of N runs and include signing, gas estimation and
mining a block in-process (eth-tester mines one block per transaction).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hexbytes import HexBytes
from rich.console import Console
from rich.table import Table
from web3.types import TxParams, TxReceipt

from contracts.genesis import CONSORTIUM_ADDRESS
from devnet.inprocess import start_inprocess_chain
from devnet.keys import DEV_CITIES, CityKeys, dev_founding
from devnet.samples import sample_weighing
from ledger.deploy import bind, deploy_record_contracts
from ledger.records import Attestation, Weighing, domain_for, short_text

BATCH = 100


@dataclass
class Row:
    operation: str
    gas: int
    seconds: float
    per: int = 1

    def as_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "gas": self.gas,
            "gasPerItem": self.gas // self.per,
            "msPerItem": round(1000 * self.seconds / self.per, 3),
        }


def run(repeat: int) -> list[Row]:
    """Every operation's gas and wall time, the median of `repeat` runs, on a fresh in-process chain."""
    cities = tuple(CityKeys.derive(c, scales=2) for c in DEV_CITIES)
    aachen = cities[0]
    chain = start_inprocess_chain(
        [a for c in cities for a in c.all()], dev_founding(cities, int(time.time()) + 365 * 86400)
    )
    w3 = chain.w3
    addresses = deploy_record_contracts(w3, CONSORTIUM_ADDRESS, aachen.admin.address)
    weighing = bind(w3, "WeighingLedger", addresses.weighing)
    registry = bind(w3, "RegistryAttestations", addresses.registry)
    w_domain = domain_for(Weighing, w3.eth.chain_id, weighing.address)
    r_domain = domain_for(Attestation, w3.eth.chain_id, registry.address)
    gateway: TxParams = {"from": aachen.gateway.address}
    seq = {s.address: 0 for s in aachen.scales}

    def signed(scale_index: int) -> tuple[tuple[Any, ...], bytes]:
        scale = aachen.scales[scale_index]
        seq[scale.address] += 1
        record = sample_weighing(scale.address, seq[scale.address], measured_at=int(time.time() * 1000))
        return record.as_abi(), record.sign(w_domain, scale.key)

    def timed(prepare: Callable[[], Callable[[], HexBytes]]) -> tuple[TxReceipt, float]:
        send = prepare()  # signing records is not part of the measured operation
        start = time.perf_counter()
        receipt = w3.eth.wait_for_transaction_receipt(send())
        assert receipt["status"] == 1
        return receipt, time.perf_counter() - start

    def measure(operation: str, prepare: Callable[[], Callable[[], HexBytes]], per: int = 1) -> Row:
        runs = [timed(prepare) for _ in range(repeat)]
        return Row(
            operation,
            int(statistics.median(r["gasUsed"] for r, _ in runs)),
            statistics.median(t for _, t in runs),
            per,
        )

    def single() -> Callable[[], HexBytes]:
        item = signed(0)
        return lambda: weighing.functions.submit(*item).transact(gateway)

    def batch() -> Callable[[], HexBytes]:
        items = [signed(1) for _ in range(BATCH)]
        return lambda: weighing.functions.submitBatch([i[0] for i in items], [i[1] for i in items]).transact(
            gateway
        )

    rows = [measure("weighing, single submit", single)]

    rows.append(measure(f"weighing, batch of {BATCH} (per item)", batch, per=BATCH))

    def attest() -> Callable[[], HexBytes]:
        now = chain.chain_time()
        a = Attestation(
            os.urandom(32),
            short_text("Melderegister"),
            os.urandom(32),
            now,
            now + 86400,
            aachen.clerk.address,
        )
        signature = a.sign(r_domain, aachen.clerk.key)
        return lambda: registry.functions.attest(a.as_abi(), signature).transact(gateway)

    rows.append(measure("attestation, attest", attest))

    record, signature = signed(0)
    start = time.perf_counter()
    for _ in range(repeat):
        weighing.functions.check(record, signature).call()
    check_time = (time.perf_counter() - start) / repeat
    check_gas = weighing.functions.check(record, signature).estimate_gas() - 21_000
    rows.append(Row("weighing, check() verify call", check_gas, check_time))
    document = hashlib.sha256(b"unknown").digest()
    start = time.perf_counter()
    for _ in range(repeat):
        registry.functions.status(document).call()
    status_time = (time.perf_counter() - start) / repeat
    rows.append(
        Row(
            "attestation, status() verify call",
            registry.functions.status(document).estimate_gas() - 21_000,
            status_time,
        )
    )

    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = run(args.repeat)
    table = Table(
        title=f"Gas per operation (in-process py-evm, {platform.machine()}, {os.cpu_count()} cores)"
    )
    table.add_column("operation")
    table.add_column("gas per item", justify="right")
    table.add_column("wall ms per item", justify="right")
    for row in rows:
        data = row.as_json()
        table.add_row(row.operation, f"{data['gasPerItem']:,}", f"{data['msPerItem']:.2f}")
    Console().print(table)
    print("verify calls: gas is execution gas of an eth_call (no transaction); wall time is the eth_call")
    if args.json:
        args.json.write_text(json.dumps([r.as_json() for r in rows], indent=2) + "\n")


if __name__ == "__main__":
    main()
