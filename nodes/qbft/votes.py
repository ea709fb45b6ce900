"""Validator-set changes by block-header votes (Besu's QBFT header voting).

A proposer puts at most one vote in its block's extraData: [address, 0xFF add | 0x80 drop]. A
change takes effect in the block where more than half of the current validators have voted for
it (each validator's latest vote on a target counts once); the votes on that target are then
cleared. The validators listed in a block's extraData are the set that seals the next block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol.qbft_extra import Vote


def proposer_for(validators: tuple[bytes, ...], height: int, round_: int) -> bytes:
    """Round-robin by height and round over the validators sorted by address."""
    ordered = sorted(validators)
    return ordered[(height + round_) % len(ordered)]


@dataclass
class VoteTally:
    # target -> voter -> add?
    votes: dict[bytes, dict[bytes, bool]] = field(default_factory=dict)

    def copy(self) -> VoteTally:
        return VoteTally({t: dict(v) for t, v in self.votes.items()})

    def apply(self, validators: tuple[bytes, ...], voter: bytes, vote: Vote | None) -> tuple[bytes, ...]:
        """Records `voter`'s vote and returns the validator set after this block."""
        if vote is None or voter not in validators:
            return validators
        if vote.add == (vote.address in validators):
            return validators  # already in effect: nothing to vote on
        if not vote.add and len(validators) == 1:
            return validators  # the last validator cannot be voted out
        ballots = self.votes.setdefault(vote.address, {})
        ballots[voter] = vote.add
        in_favour = sum(1 for add in ballots.values() if add == vote.add)
        if in_favour * 2 <= len(validators):
            return validators
        del self.votes[vote.address]
        if vote.add:
            return tuple(sorted((*validators, vote.address)))
        remaining = tuple(v for v in validators if v != vote.address)
        for ballots_of_target in self.votes.values():
            ballots_of_target.pop(vote.address, None)  # a dropped validator's votes no longer count
        return remaining

    def pending(self) -> dict[bytes, dict[bytes, bool]]:
        return {t: dict(v) for t, v in self.votes.items()}


def contract_votes(
    contract: tuple[bytes, ...],
    header: tuple[bytes, ...],
    decided_at: dict[bytes, int],
    changed_at: dict[bytes, int],
) -> list[Vote]:
    """The header votes that bring the QBFT validator set to the Consortium contract's list.

    One vote per address on which the two differ, but only where the contract decided about it
    (a ValidatorAdded/ValidatorRemoved event in block `decided_at[a]`) after the header set last
    changed for it (`changed_at[a]`; 0 = never since genesis). So a difference the founding left
    (genesis lists validators without nodes) is no reason to vote, and an operator's manual
    qbft_proposeValidatorVote that took effect later is not undone. Oldest decision first."""
    wanted = set(contract)
    current = set(header)
    differing = [a for a in wanted ^ current if decided_at.get(a, 0) > changed_at.get(a, 0)]
    return [Vote(a, a in wanted) for a in sorted(differing, key=lambda a: (decided_at[a], a))]
