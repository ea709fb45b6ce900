"""What the registry service reads from the chain: roles (Consortium.roleOf), an attestation's
record and status (RegistryAttestations.getAttestation), and the transaction that attested it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address

from ledger.events import topic_of
from ledger.records import Attestation
from ledger.rpc import RpcClient

ROLE_OF = function_signature_to_4byte_selector("roleOf(address)")
GET_ATTESTATION = function_signature_to_4byte_selector("getAttestation(bytes32)")
ATTESTATION = "(bytes32,bytes32,bytes32,uint64,uint64,address)"
ATTEST = function_signature_to_4byte_selector(f"attest({ATTESTATION},bytes)")
RECORD = "(bytes32,bytes32,bytes32,address,uint64,uint64,uint64,uint8,uint16,address,uint64,bytes32)"
STATUS_NAMES = ("unknown", "valid", "expired", "revoked", "superseded")
ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class OnChainRecord:
    """RegistryAttestations.Record plus the contract's current status name."""

    city: bytes
    register_type: bytes
    subject_ref: bytes
    clerk: str
    issued_at: int
    valid_until: int
    recorded_at: int
    closed_as: int
    close_reason: int
    closed_by: str
    closed_at: int
    successor: bytes
    status: str


class RegistryChain:
    def __init__(self, rpc: RpcClient, consortium: str, registry: str) -> None:
        self.rpc = rpc
        self.consortium = to_checksum_address(consortium)
        self.registry = to_checksum_address(registry)

    def _call(self, to: str, data: bytes) -> bytes:
        result = self.rpc.call("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"])
        return bytes.fromhex(str(result)[2:])

    def role_of(self, address: str) -> tuple[bytes, int, int]:
        """(city id, role, valid until) of an account; role 0 for an unknown account."""
        raw = self._call(self.consortium, ROLE_OF + abi_encode(["address"], [address]))
        city, role, until = abi_decode(["bytes32", "uint8", "uint64"], raw)
        return bytes(city), int(role), int(until)

    def record(self, document_hash: bytes) -> OnChainRecord | None:
        raw = self._call(self.registry, GET_ATTESTATION + abi_encode(["bytes32"], [document_hash]))
        fields, status = abi_decode([RECORD, "uint8"], raw)
        if fields[6] == 0:  # recordedAt: never attested
            return None
        return OnChainRecord(
            city=bytes(fields[0]),
            register_type=bytes(fields[1]),
            subject_ref=bytes(fields[2]),
            clerk=to_checksum_address(fields[3]),
            issued_at=int(fields[4]),
            valid_until=int(fields[5]),
            recorded_at=int(fields[6]),
            closed_as=int(fields[7]),
            close_reason=int(fields[8]),
            closed_by=to_checksum_address(fields[9]),
            closed_at=int(fields[10]),
            successor=bytes(fields[11]),
            status=STATUS_NAMES[status] if status < len(STATUS_NAMES) else "unknown",
        )

    # ------------------------------------------------- the attesting transaction

    def find_attestation_tx(self, document_hash: bytes, recorded_at: int) -> str | None:
        """The transaction that attested a document, found by the block time the contract recorded
        (a binary search over block timestamps, then eth_getLogs over those few blocks)."""
        latest = int(self.rpc.call("eth_blockNumber", []), 16)
        first = self._first_block_at_or_after(recorded_at, latest)
        last = self._first_block_at_or_after(recorded_at + 1, latest) - 1
        if first > last:
            return None
        logs = self.rpc.call(
            "eth_getLogs",
            [
                {
                    "fromBlock": hex(first),
                    "toBlock": hex(last),
                    "address": self.registry,
                    "topics": ["0x" + topic_of("Attested").hex(), "0x" + document_hash.hex()],
                }
            ],
        )
        return str(logs[0]["transactionHash"]) if logs else None

    def _first_block_at_or_after(self, timestamp: int, latest: int) -> int:
        low, high = 0, latest + 1  # the answer lies in [low, high]; latest + 1 means "none"
        while low < high:
            middle = (low + high) // 2
            block = self.rpc.call("eth_getBlockByNumber", [hex(middle), False])
            if int(block["timestamp"], 16) >= timestamp:
                high = middle
            else:
                low = middle + 1
        return low

    def attestation_of_tx(self, tx_hash: str) -> tuple[Attestation, bytes]:
        """The clerk's attestation and signature, decoded from the calldata of `attest`."""
        tx: dict[str, Any] = self.rpc.call("eth_getTransactionByHash", [tx_hash])
        data = bytes.fromhex(str(tx["input"])[2:])
        if data[:4] != ATTEST:
            raise ValueError(f"{tx_hash} does not call attest")
        fields, signature = abi_decode([ATTESTATION, "bytes"], data[4:])
        return Attestation(*fields), bytes(signature)
