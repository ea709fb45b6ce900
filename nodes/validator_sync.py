"""Ties the QBFT validator set to the Consortium contract's validator list.

The cities decide about validators by proposals and votes in the Consortium contract (events
ValidatorAdded / ValidatorRemoved). The QBFT validator set lives in block headers and changes only
by header votes (Besu semantics), so that it stays verifiable from headers alone. A validator
node following the contract puts the matching header vote into each block it proposes, as if its
operator had called qbft_proposeValidatorVote; the change takes effect in the block where more
than half of the validators have voted for it. Nothing else is voted: see `contract_votes`.
"""

from __future__ import annotations

from eth_abi.abi import decode as abi_decode
from eth_bloom.bloom import BloomFilter
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.crypto import keccak

from nodes.chain.calls import CallRequest, call
from nodes.chain.chain import Chain
from nodes.errors import ExecutionRevertedError
from nodes.qbft.votes import contract_votes
from protocol.qbft_extra import Vote

VALIDATOR_ADDED = keccak(text="ValidatorAdded(bytes32,address)")
VALIDATOR_REMOVED = keccak(text="ValidatorRemoved(bytes32,address)")
VALIDATORS_SELECTOR = function_signature_to_4byte_selector("validators()")
CALL_GAS = 5_000_000


class ContractValidators:
    """Reads the contract's decisions from the chain (incrementally, blooms first) and says which
    header votes follow from them."""

    def __init__(self, chain: Chain, contract: bytes) -> None:
        self.chain = chain
        self.contract = contract
        self.decided_at: dict[bytes, int] = {}  # validator -> block of the contract's latest decision
        self.changed_at: dict[bytes, int] = {}  # validator -> block where the header set last changed
        self._scanned = 0
        self._validators = chain.block(0).extra.validators
        self._cached: tuple[bytes, list[Vote]] = (b"", [])  # head hash -> votes (asked at every tick)

    def listed(self) -> tuple[bytes, ...]:
        """Consortium.validators() on the head state (empty if the contract cannot answer)."""
        with self.chain.lock:
            try:
                result = call(
                    self.chain.state(), CallRequest(to=self.contract, data=VALIDATORS_SELECTOR), CALL_GAS
                )
            except ExecutionRevertedError:
                return ()
        try:
            (addresses,) = abi_decode(["address[]"], result)
        except Exception:  # no contract at that address, or another one
            return ()
        return tuple(bytes.fromhex(a[2:]) for a in addresses)

    def votes(self) -> list[Vote]:
        """The header votes the contract asks for now, oldest decision first."""
        with self.chain.lock:
            head = self.chain.head
            if self._cached[0] != head.hash:
                self._scan()
                votes = contract_votes(self.listed(), head.extra.validators, self.decided_at, self.changed_at)
                self._cached = (head.hash, votes)
            return list(self._cached[1])

    def _scan(self) -> None:
        head = self.chain.head.number
        for number in range(self._scanned + 1, head + 1):
            block = self.chain.block(number)
            validators = block.extra.validators
            for address in set(validators) ^ set(self._validators):
                self.changed_at[address] = number
            self._validators = validators
            bloom = BloomFilter(int(block.header.bloom))
            if self.contract not in bloom or (
                VALIDATOR_ADDED not in bloom and VALIDATOR_REMOVED not in bloom
            ):
                continue
            for receipt in self.chain.receipts(number):
                for log in receipt.logs:
                    if bytes(log.address) != self.contract or len(log.topics) != 3:
                        continue
                    topic = log.topics[0].to_bytes(32, "big")
                    if topic in (VALIDATOR_ADDED, VALIDATOR_REMOVED):
                        self.decided_at[log.topics[2].to_bytes(32, "big")[12:]] = number
        self._scanned = head
