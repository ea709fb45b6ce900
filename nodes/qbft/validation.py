"""One validator per QBFT message type. Pure: they see messages and a `RoundView`, nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from nodes.chain.chain import Block
from nodes.qbft.messages import Commit, MessageError, Prepare, Proposal, RoundChange, Signed, decode_message
from protocol.qbft_extra import commit_seal_hash, recover_seal


class InvalidMessageError(Exception):
    """A message that must be ignored; the reason is for logs and tests."""


@dataclass(frozen=True)
class RoundView:
    height: int
    validators: tuple[bytes, ...]  # sorted

    @property
    def quorum(self) -> int:
        return -(-2 * len(self.validators) // 3)

    @property
    def weak_quorum(self) -> int:
        """f + 1: enough round changes that at least one honest validator asked for them."""
        return (len(self.validators) - 1) // 3 + 1

    def proposer(self, round_: int) -> bytes:
        return self.validators[(self.height + round_) % len(self.validators)]


def _check_common(message: Signed, view: RoundView) -> bytes:
    if message.height != view.height:
        raise InvalidMessageError(f"height {message.height}, expected {view.height}")
    author = message.author
    if author is None or author not in view.validators:
        raise InvalidMessageError("author is not a validator")
    return author


def validate_prepare(message: Prepare, view: RoundView) -> bytes:
    return _check_common(message, view)


def validate_commit(message: Commit, view: RoundView, block: Block) -> bytes:
    """`block` is the proposal the commit is for, with the round of the commit in its extraData."""
    author = _check_common(message, view)
    if message.digest != block.hash:
        raise InvalidMessageError("commit for another block")
    if recover_seal(commit_seal_hash(block.header), message.seal) != author:
        raise InvalidMessageError("commit seal not made by the author over this block and round")
    return author


def _decode(data: bytes, kind: type[Signed]) -> Signed:
    try:
        message = decode_message(data)
    except MessageError as exc:
        raise InvalidMessageError(f"embedded message: {exc}") from None
    if not isinstance(message, kind):
        raise InvalidMessageError(f"embedded message is not a {kind.__name__}")
    return message


def validate_prepared_certificate(
    view: RoundView, prepared_round: int, block: Block, prepares: tuple[bytes, ...]
) -> None:
    """A quorum of PREPAREs for `block` in `prepared_round`, from distinct validators."""
    authors = set()
    for raw in prepares:
        prepare = _decode(raw, Prepare)
        assert isinstance(prepare, Prepare)
        if prepare.round != prepared_round or prepare.digest != block.hash:
            raise InvalidMessageError("prepare certificate for another round or block")
        authors.add(validate_prepare(prepare, view))
    if len(authors) < view.quorum:
        raise InvalidMessageError(
            f"prepare certificate has {len(authors)} distinct prepares, {view.quorum} needed"
        )


def validate_round_change(message: RoundChange, view: RoundView) -> tuple[bytes, Block | None]:
    """Returns the author and the prepared block the round change carries (if any)."""
    author = _check_common(message, view)
    if message.prepared_round is None:
        return author, None
    if message.prepared_round >= message.round or message.prepared_block is None:
        raise InvalidMessageError("prepared round must be below the target round and carry its block")
    try:
        block = Block.decode(message.prepared_block)
    except Exception as exc:  # malformed RLP of any kind
        raise InvalidMessageError(f"prepared block does not decode: {type(exc).__name__}") from None
    validate_prepared_certificate(view, message.prepared_round, block, message.prepares)
    return author, block


def validate_proposal(message: Proposal, view: RoundView) -> Block:
    """Checks author, block number and round, and (for rounds > 0) the round-change justification.
    Executing the block is the chain's job, not this function's."""
    author = _check_common(message, view)
    if author != view.proposer(message.round):
        raise InvalidMessageError("author is not the proposer of this round")
    try:
        block = Block.decode(message.block)
    except Exception as exc:
        raise InvalidMessageError(f"block does not decode: {type(exc).__name__}") from None
    if block.number != view.height:
        raise InvalidMessageError("block number is not the height")
    if block.extra.round != message.round:
        raise InvalidMessageError("block's extraData round is not the proposal's round")
    if block.extra.seals:
        raise InvalidMessageError("a proposed block carries no commit seals")
    if message.round == 0:
        return block
    authors = set()
    best: tuple[int, Block] | None = None
    for raw in message.round_changes:
        change = _decode(raw, RoundChange)
        assert isinstance(change, RoundChange)
        if change.round != message.round:
            raise InvalidMessageError("round change justification for another round")
        change_author, prepared = validate_round_change(change, view)
        authors.add(change_author)
        prepared_round = change.prepared_round
        if prepared is not None and prepared_round is not None and (best is None or prepared_round > best[0]):
            best = (prepared_round, prepared)
    if len(authors) < view.quorum:
        raise InvalidMessageError(
            f"{len(authors)} round changes justify round {message.round}, {view.quorum} needed"
        )
    if best is not None:
        if block.hash != best[1].hash:
            raise InvalidMessageError("a block was prepared: the proposal must re-propose it")
        validate_prepared_certificate(view, best[0], best[1], message.prepares)
    return block
