"""qbft_ methods (Besu's names, plus qbft_getValidatorChangeBlocks), govchain_nodeStatus for operators
and the devnet's evm_ methods."""

from __future__ import annotations

from typing import Any

from nodes.rpc import params as p
from nodes.rpc.base import ApiBase, rpc
from nodes.rpc.errors import LIMIT_EXCEEDED, RpcError, invalid_params
from nodes.rpc.format import d, q
from nodes.status import node_status


class QbftMethods(ApiBase):
    # ------------------------------------------------------------------- qbft

    @rpc("qbft_getValidatorsByBlockNumber")
    def qbft_get_validators_by_block_number(self, params: Any) -> list[str]:
        (ref,) = p.positional(params, 1, 1)
        block = self._block(p.block_ref(ref))
        return [d(v) for v in block.extra.validators]

    @rpc("qbft_getValidatorsByBlockHash")
    def qbft_get_validators_by_block_hash(self, params: Any) -> list[str]:
        (block_hash,) = p.positional(params, 1, 1)
        block = self._block(p.BlockRef(hash=p.hash32(block_hash, "blockHash")))
        return [d(v) for v in block.extra.validators]

    @rpc("qbft_getValidatorChangeBlocks")
    def qbft_get_validator_change_blocks(self, params: Any) -> list[str]:
        """Blocks in [from, to] whose extraData names another validator set than their parent's
        (govchain's extension, for proof bundles; on Besu, scan qbft_getValidatorsByBlockNumber)."""
        first_raw, last_raw = p.positional(params, 2, 2)
        first = max(1, self._block(p.block_ref(first_raw, "fromBlock")).number)
        last = self._block(p.block_ref(last_raw, "toBlock")).number
        if last - first > 1_000_000:
            raise RpcError(LIMIT_EXCEEDED, "range too large (at most 1,000,000 blocks)")
        changes = []
        previous = self.chain.validators_after(first - 1)
        for number in range(first, last + 1):
            current = self.chain.validators_after(number)
            if current != previous:
                changes.append(q(number))
            previous = current
        return changes

    @rpc("qbft_proposeValidatorVote")
    def qbft_propose_validator_vote(self, params: Any) -> bool:
        address_raw, add_raw = p.positional(params, 2, 2)
        self.node.local_votes[p.address(address_raw, "validatorAddress")] = p.boolean(add_raw, "add")
        return True

    @rpc("qbft_discardValidatorVote")
    def qbft_discard_validator_vote(self, params: Any) -> bool:
        (address_raw,) = p.positional(params, 1, 1)
        return self.node.local_votes.pop(p.address(address_raw, "validatorAddress"), None) is not None

    @rpc("qbft_getPendingVotes")
    def qbft_get_pending_votes(self, params: Any) -> dict[str, bool]:
        """The votes this node will put in the blocks it proposes: its operator's (as Besu reports
        them) and those the Consortium contract's validator list asks for."""
        p.positional(params, 0, 0)
        votes = {d(v.address): v.add for v in self.node.contract_votes()}
        votes.update({d(a): add for a, add in self.node.local_votes.items()})
        return votes

    @rpc("qbft_getVoteTally")
    def qbft_get_vote_tally(self, params: Any) -> dict[str, dict[str, bool]]:
        """The votes in blocks so far that have not yet changed the validator set."""
        p.positional(params, 0, 0)
        with self.chain.lock:
            return {d(t): {d(v): add for v, add in b.items()} for t, b in self.chain.tally.pending().items()}

    # -------------------------------------------------------------- operators

    @rpc("govchain_nodeStatus")
    def govchain_node_status(self, params: Any) -> dict[str, Any]:
        """Height, peers, validator role, last block time, pending votes, pool (the status page's data)."""
        p.positional(params, 0, 0)
        return node_status(self.node)

    # ------------------------------------------------- devnet only (anvil/hardhat names)

    @rpc("evm_increaseTime")
    def evm_increase_time(self, params: Any) -> str:
        (seconds_raw,) = p.positional(params, 1, 1)
        seconds = seconds_raw if isinstance(seconds_raw, int) else p.quantity(seconds_raw, "seconds")
        if not 0 <= seconds <= 10 * 365 * 86400:
            raise invalid_params("seconds must be between 0 and ten years")
        self.node.clock_offset += seconds
        return q(int(self.node.clock_offset))

    @rpc("evm_mine")
    def evm_mine(self, params: Any) -> str:
        p.positional(params, 0, 1)
        target = self.chain.head.number + 1
        self.node.force_block.set()
        self.node.new_transaction.set()
        if not self.node.wait_for_block(target, timeout=30):
            raise RpcError(-32000, "no block was produced (is this node the validator?)")
        return "0x0"
