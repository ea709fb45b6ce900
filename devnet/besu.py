"""A Besu QBFT genesis from a govchain genesis: the same chain id, extraData (validators) and alloc
(the Consortium pre-allocated at 0x…8888), with the QBFT periods Besu takes (whole seconds).

govchain's genesis file is already in Besu's format; Besu only refuses fractional periods and
wants an epoch length. A Besu network started from it is a new chain with the same founding.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from nodes.genesis import Genesis
from protocol.qbft_extra import QbftExtra

EPOCH_LENGTH = 30_000


def besu_genesis(genesis: Genesis) -> dict[str, Any]:
    out = genesis.to_json()
    qbft = genesis.config.qbft
    out["config"]["qbft"] = {
        "blockperiodseconds": max(1, round(qbft.blockperiodseconds)),
        "emptyblockperiodseconds": max(0, round(qbft.emptyblockperiodseconds)),
        "requesttimeoutseconds": max(1, math.ceil(qbft.requesttimeoutseconds)),
        "epochlength": EPOCH_LENGTH,
    }
    return out


def export(genesis_path: Path) -> tuple[dict[str, Any], list[str]]:
    """The Besu genesis and the validators its extraData names."""
    genesis = Genesis.load(genesis_path)
    validators = ["0x" + v.hex() for v in QbftExtra.decode(genesis.extra_data).validators]
    return besu_genesis(genesis), validators
