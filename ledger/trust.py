"""The consortium's trust file: chain id, genesis hash and genesis validators."""

from __future__ import annotations

from typing import Any

import rlp

from ledger.bundle import header_rlp
from ledger.rpc import RpcClient
from protocol.qbft_extra import EXTRA_DATA_INDEX, ExtraDataError, QbftExtra


def trust_from_node(rpc: RpcClient) -> dict[str, Any]:
    """Reads the genesis block from a node. Check the result once against another city's."""
    genesis = rpc.call("eth_getBlockByNumber", ["0x0", False])
    header = header_rlp(genesis)
    try:
        validators = QbftExtra.decode(rlp.decode(header)[EXTRA_DATA_INDEX]).validators
        consensus = "qbft"
    except ExtraDataError:
        validators, consensus = (), "none"
    return {
        "chainId": int(rpc.call("eth_chainId", []), 16),
        "genesisHash": genesis["hash"],
        "consensus": consensus,
        "validators": ["0x" + v.hex() for v in validators],
    }
