"""Reads the Consortium and sends proposals and votes signed with a city's ADMIN key, through any
node's JSON-RPC (web3.py). Every transaction is tried as a call first, so a refusal comes back as
a sentence (not a member, already voted, expired, unknown proposal...) and nothing is sent."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3Exception
from web3.logs import DISCARD

from contracts.founding import city_id, city_name
from contracts.genesis import CONSORTIUM_ADDRESS
from governance.errors import GovernanceError
from governance.model import Kind, ProposalView, State, explain_revert
from ledger.connect import connect
from ledger.deploy import bind

ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = b"\0" * 32


@dataclass
class Outcome:
    """What a proposal or vote transaction did."""

    proposal: int
    block: int
    members: int = 0  # when the transaction was sent
    yes: int = 0
    no: int = 0
    state: State = State.OPEN
    events: list[str] = field(default_factory=list)


class ConsortiumClient:
    def __init__(
        self, url: str, signer: LocalAccount | None = None, address: str = CONSORTIUM_ADDRESS
    ) -> None:
        self.url = url
        self.signer = signer
        self.w3 = connect(url, timeout=30)
        self.contract = bind(self.w3, "Consortium", address)
        try:
            self.chain_id = int(self.w3.eth.chain_id)
        except (requests.RequestException, Web3Exception, OSError) as exc:
            raise GovernanceError(f"the node at {url} does not answer: {exc}") from None

    # ------------------------------------------------------------------ reads

    def members(self) -> list[str]:
        return [city_name(bytes(c)) for c in self.contract.functions.members().call()]

    def validators(self) -> dict[str, str]:
        """Validator address -> city, as the contract lists them."""
        f = self.contract.functions
        return {str(v): city_name(bytes(f.validatorCity(v).call())) for v in f.validators().call()}

    def nodes(self) -> dict[str, str]:
        """Allowed node fingerprint (0x hex) -> city."""
        f = self.contract.functions
        return {
            "0x" + bytes(fp).hex(): city_name(bytes(f.nodeCity(fp).call()))
            for fp in f.nodeFingerprints().call()
        }

    def node_allowed(self, fingerprint: bytes) -> bool:
        return bool(self.contract.functions.nodeAllowed(fingerprint).call())

    def header_validators(self, block: str | int = "latest") -> list[str]:
        ref = block if isinstance(block, str) else hex(block)
        found = self.w3.provider.make_request("qbft_getValidatorsByBlockNumber", [ref])  # type: ignore[arg-type]
        if "result" not in found:
            raise GovernanceError(f"the node cannot tell its QBFT validators: {found.get('error')}")
        return [Web3.to_checksum_address(v) for v in found["result"]]

    def proposal(self, pid: int) -> ProposalView:
        f = self.contract.functions
        try:
            raw = f.getProposal(pid).call()
        except (ContractCustomError, ContractLogicError) as exc:
            raise GovernanceError(self._explain(exc)) from None
        validator = str(f.admissionValidator(pid).call()) if raw[0] == Kind.ADMIT_CITY else None
        return ProposalView.from_call(pid, raw, validator)

    def proposals(self, only_open: bool = False) -> list[ProposalView]:
        count = int(self.contract.functions.proposalCount().call())
        found = [self.proposal(i) for i in range(count)]
        return [p for p in found if p.state == State.OPEN] if only_open else found

    def head(self) -> int:
        return int(self.w3.eth.block_number)

    # ----------------------------------------------------------------- writes

    def propose(
        self,
        kind: Kind,
        city: str | None = None,
        account: str = ZERO_ADDRESS,
        fingerprint: bytes = ZERO32,
        validator: str = ZERO_ADDRESS,
    ) -> Outcome:
        city_bytes = city_id(city) if city else ZERO32
        args: list[Any]
        if kind == Kind.ADMIT_CITY:
            fn, args = "proposeAdmission", [city_bytes, _address(account), fingerprint, _address(validator)]
        else:
            fn, args = "propose", [int(kind), city_bytes, _address(account), fingerprint]
        return self._transact(fn, args)

    def vote(self, pid: int, support: bool) -> Outcome:
        return self._transact("vote", [pid, support])

    def _transact(self, function: str, args: list[Any]) -> Outcome:
        if self.signer is None:
            raise GovernanceError("no ADMIN key given: use --keystore (or --devnet with --as on a devnet)")
        sender = self.signer.address
        call = getattr(self.contract.functions, function)(*args)
        try:
            gas = int(call.estimate_gas({"from": sender}))
        except (ContractCustomError, ContractLogicError) as exc:
            raise GovernanceError(self._explain(exc)) from None
        tx = {
            "to": self.contract.address,
            "data": self.contract.encode_abi(function, args),
            "gas": gas * 3 // 2 + 50_000,
            "value": 0,
            "maxFeePerGas": 0,
            "maxPriorityFeePerGas": 0,
            "chainId": self.chain_id,
            "type": 2,
            "nonce": self.w3.eth.get_transaction_count(sender, "pending"),
        }
        members = len(self.members())
        signed = Account.sign_transaction(tx, self.signer.key)
        try:
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=180, poll_latency=0.2)
        except (Web3Exception, requests.RequestException) as exc:
            raise GovernanceError(f"the node did not take the transaction: {exc}") from None
        if receipt["status"] != 1:
            raise GovernanceError(f"transaction {tx_hash.hex()} failed in block {receipt['blockNumber']}")
        return self._outcome(receipt, args[0] if function == "vote" else None, members)

    def _outcome(self, receipt: Any, pid: int | None, members: int) -> Outcome:
        events = self.contract.events
        created = events.ProposalCreated().process_receipt(receipt, errors=DISCARD)
        if created:
            pid = int(created[0]["args"]["id"])
        assert pid is not None
        outcome = Outcome(proposal=pid, block=int(receipt["blockNumber"]), members=members)
        for vote in events.VoteCast().process_receipt(receipt, errors=DISCARD):
            outcome.yes, outcome.no = int(vote["args"]["yes"]), int(vote["args"]["no"])
        for name in ("ProposalExecuted", "ProposalRejected", "ProposalFailed", "MemberAdded", "MemberRemoved",
                     "NodeAllowed", "NodeRevoked", "ValidatorAdded", "ValidatorRemoved"):  # fmt: skip
            for event in getattr(events, name)().process_receipt(receipt, errors=DISCARD):
                outcome.events.append(_describe(name, dict(event["args"])))
        outcome.state = self.proposal(pid).state
        return outcome

    def _explain(self, exc: ContractCustomError | ContractLogicError) -> str:
        data = exc.data if isinstance(exc.data, str) else None
        if data and data.startswith("0x") and len(data) > 2:
            return explain_revert(bytes.fromhex(data[2:]))
        return str(exc)

    # --------------------------------------------------------- validator sync

    def pending_header_votes(self) -> dict[str, bool]:
        """The header votes the node asked will put in the blocks it proposes (qbft_getPendingVotes)."""
        found = self.w3.provider.make_request("qbft_getPendingVotes", [])  # type: ignore[arg-type]
        return {Web3.to_checksum_address(a): bool(add) for a, add in (found.get("result") or {}).items()}

    def validator_sync(self) -> tuple[list[str], list[str]]:
        """(to add, to drop): where the QBFT header set still differs from the contract's list."""
        listed = set(self.validators())
        header = set(self.header_validators())
        return sorted(listed - header), sorted(header - listed)

    def wait_for_validator_sync(self, since_block: int, timeout: float = 180) -> int | None:
        """Waits until the QBFT validators equal the contract's list; returns the block from which the
        current set seals (the block whose header votes reached the majority), None on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.validator_sync() == ([], []):
                changes = self.w3.provider.make_request(
                    "qbft_getValidatorChangeBlocks",  # type: ignore[arg-type]
                    [hex(max(1, since_block)), "latest"],
                )
                found = changes.get("result") or []
                return int(found[-1], 16) if found else since_block
            time.sleep(0.5)
        return None


def _address(value: str) -> str:
    if not Web3.is_address(value):
        raise GovernanceError(f"{value!r} is not an address")
    return str(Web3.to_checksum_address(value))


def _describe(name: str, args: dict[str, Any]) -> str:
    shown = []
    for key, value in args.items():
        if key == "city":
            shown.append(city_name(bytes(value)))
        elif isinstance(value, bytes):
            shown.append("0x" + value.hex()[:16] + "…")
        else:
            shown.append(str(value))
    return f"{name}({', '.join(shown)})"
