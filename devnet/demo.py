"""The main job until the network exists: one weighing and one attestation on an in-process chain."""

from __future__ import annotations

import hashlib
import os
import time

from rich.console import Console
from rich.table import Table
from web3.contract import Contract

from contracts.founding import city_name
from contracts.genesis import CONSORTIUM_ADDRESS
from devnet.inprocess import start_inprocess_chain
from devnet.keys import DEV_CITIES, CityKeys, dev_founding
from ledger.deploy import bind, deploy_record_contracts
from ledger.records import WEIGHING_REJECTIONS, Attestation, Weighing, domain_for, salted_ref, short_text

STATUS = {
    0: "unbekannt / unknown",
    1: "gültig / valid",
    2: "abgelaufen / expired",
    3: "widerrufen / revoked",
    4: "ersetzt / superseded",
}


def run_demo(console: Console) -> None:
    console.rule("[bold]govchain demo: in-process py-evm chain")
    cities = tuple(CityKeys.derive(c) for c in DEV_CITIES)
    aachen = cities[0]
    founding = dev_founding(cities, calibration_valid_until=int(time.time()) + 365 * 86400)
    chain = start_inprocess_chain([a for c in cities for a in c.all()], founding)
    w3 = chain.w3
    consortium = bind(w3, "Consortium", CONSORTIUM_ADDRESS)
    members = ", ".join(city_name(c) for c in consortium.functions.members().call())
    console.print(f"Genesis: Consortium pre-allocated at {CONSORTIUM_ADDRESS}, members: {members}")
    addresses = deploy_record_contracts(w3, CONSORTIUM_ADDRESS, aachen.admin.address)
    console.print(
        f"Deployed by aachen's ADMIN: WeighingLedger {addresses.weighing}, "
        f"RegistryAttestations {addresses.registry}"
    )
    weighing = bind(w3, "WeighingLedger", addresses.weighing)
    registry = bind(w3, "RegistryAttestations", addresses.registry)
    _weigh(console, w3.eth.chain_id, weighing, aachen)
    _attest(console, w3.eth.chain_id, registry, aachen, chain.chain_time())
    console.rule("[green]done: one weighing and one attestation recorded and verified")


def _weigh(console: Console, chain_id: int, weighing: Contract, city: CityKeys) -> None:
    console.rule("Wiegung / weighing")
    salt = os.urandom(16)  # the city's secret salt; the clear plate stays in its own database
    scale = city.scales[0]
    record = Weighing(
        record_id=os.urandom(32),
        scale=scale.address,
        seq=1,
        measured_at=int(time.time() * 1000),
        time_synced=True,
        gross_kg=18_420,
        tare_kg=11_900,
        net_kg=6_520,
        tare_mode=0,
        avv_code=200301,
        vehicle_ref=salted_ref(salt, "AC-GV 1234"),
        container_ref=salted_ref(salt, "container 77-0412"),
        customer_ref=salted_ref(salt, "customer 100234"),
        status_flags=0,
    )
    domain = domain_for(Weighing, chain_id, weighing.address)
    signature = record.sign(domain, scale.key)
    console.print(
        f"Scale {scale.address} signed seq 1: gross 18420 kg, tare 11900 kg, net 6520 kg, AVV 200301"
    )
    tx = weighing.functions.submit(record.as_abi(), signature).transact({"from": city.gateway.address})
    receipt = weighing.w3.eth.wait_for_transaction_receipt(tx)
    event = weighing.events.WeighingRecorded().process_receipt(receipt)[0]["args"]
    console.print(
        f"aachen's GATEWAY submitted it: block {receipt['blockNumber']}, gas {receipt['gasUsed']}, "
        f"city {city_name(event['city'])}, seq gap: {event['seqGap']}"
    )
    entry = weighing.functions.getWeighing(record.record_id).call()
    matches = entry[0] == record.digest(domain)
    console.print(f"On chain: digest {entry[0].hex()[:16]}… matches the signed record: {matches}")
    reason, _ = weighing.functions.check(record.as_abi(), signature).call()
    console.print(f"Sending it again would be refused: {WEIGHING_REJECTIONS[reason]}")


def _attest(console: Console, chain_id: int, registry: Contract, city: CityKeys, now: int) -> None:
    console.rule("Registerauskunft / registry attestation")
    document = b"%PDF-1.4\nMeldebescheinigung fuer Erika Mustermann, Aachen\n%%EOF\n"
    document_hash = hashlib.sha256(document).digest()
    attestation = Attestation(
        document_hash=document_hash,
        register_type=short_text("Melderegister"),
        subject_ref=salted_ref(os.urandom(16), "Erika Mustermann 1964-08-12"),
        issued_at=now,
        valid_until=now + 90 * 86400,
        clerk=city.clerk.address,
    )
    signature = attestation.sign(domain_for(Attestation, chain_id, registry.address), city.clerk.key)
    console.print(f"Clerk {city.clerk.address} signed the extract sha256 {document_hash.hex()[:16]}…")
    tx = registry.functions.attest(attestation.as_abi(), signature).transact({"from": city.gateway.address})
    receipt = registry.w3.eth.wait_for_transaction_receipt(tx)
    console.print(f"aachen's GATEWAY relayed it: block {receipt['blockNumber']}, gas {receipt['gasUsed']}")
    record, status = registry.functions.getAttestation(hashlib.sha256(document).digest()).call()
    table = Table("Prüfung / check", "Ergebnis / result")
    table.add_row("Status", STATUS[status])
    table.add_row("Stadt / city", city_name(record[0]))
    table.add_row("Register", record[1].rstrip(b"\0").decode())
    table.add_row("Sachbearbeitung / clerk", record[3])
    table.add_row("Gültig bis / valid until", time.strftime("%Y-%m-%d", time.gmtime(record[5])))
    console.print(table)
    unknown = registry.functions.status(hashlib.sha256(document + b" ").digest()).call()
    console.print(f"A document changed by one byte: {STATUS[unknown]}")
