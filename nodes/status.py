"""What an operator wants to know about one node, as JSON (govchain_nodeStatus, `govchain devnet
status`) and as a small bilingual HTML page (GET /status on the JSON-RPC HTTP port)."""

from __future__ import annotations

import html
import time
from typing import Any

from nodes.node import Node
from protocol.qbft_extra import quorum


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def node_status(node: Node) -> dict[str, Any]:
    with node.chain.lock:
        head = node.chain.head
        pending, queued = node.pool.stats(node.state_nonce)
        tally = node.chain.tally.pending()
    validators = head.extra.validators
    own = node.validator_address
    contract_votes = node.contract_votes()
    return {
        "name": node.config.name,
        "chainId": node.chain.chain_id,
        "height": head.number,
        "headHash": _hex(head.hash),
        "lastBlockTime": int(head.header.timestamp),
        "peers": node.peer_count(),
        "peerNames": sorted(node.peer_names()),
        "validatorAddress": None if own is None else _hex(own),
        "validator": own is not None and own in validators,
        "validators": [_hex(v) for v in validators],
        "quorum": quorum(len(validators)),
        "pendingVotes": {
            "manual": {_hex(a): add for a, add in node.local_votes.items()},
            "contract": {_hex(v.address): v.add for v in contract_votes},
        },
        "voteTally": {_hex(t): {_hex(v): add for v, add in b.items()} for t, b in tally.items()},
        "txpool": {"pending": pending, "queued": queued},
        "roundChanges": node.round_changes(),
    }


def _votes(status: dict[str, Any]) -> str:
    votes = {**status["pendingVotes"]["contract"], **status["pendingVotes"]["manual"]}
    if not votes:
        return "-"
    return ", ".join(f"{'+' if add else '-'}{address[:10]}…" for address, add in votes.items())


def render_status_page(status: dict[str, Any], now: float | None = None) -> str:
    """The node's status page in German and English; refreshes itself every five seconds."""
    age = max(0, int((now if now is not None else time.time()) - status["lastBlockTime"]))
    role = (
        "Validator / validator"
        if status["validator"]
        else "Beobachter / observer"
        if status["validatorAddress"] is None
        else "Validator-Schlüssel, nicht im Validatorenkreis / validator key, not in the validator set"
    )
    rows = [
        ("Höhe / height", str(status["height"])),
        ("Letzter Block / last block", f"vor {age} s / {age} s ago"),
        ("Peers", f"{status['peers']} ({', '.join(status['peerNames']) or '-'})"),
        ("Rolle / role", role),
        ("Validatoren / validators", f"{len(status['validators'])} (Quorum / quorum {status['quorum']})"),
        ("Offene Stimmen / pending votes", _votes(status)),
        ("Transaktionspool / tx pool", f"{status['txpool']['pending']} + {status['txpool']['queued']}"),
        ("Rundenwechsel / round changes", str(status["roundChanges"])),
        ("Chain-ID / chain id", str(status["chainId"])),
    ]
    body = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    name = html.escape(status["name"])
    return f"""<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>govchain - Knoten {name}</title>
<style>body{{font-family:sans-serif;margin:2em}}th{{text-align:left;padding-right:2em}}td,th{{padding:.2em}}</style>
</head><body>
<h1>govchain - Knoten / node {name}</h1>
<table>
{body}
</table>
<p>Maschinenlesbar / machine-readable: <code>govchain_nodeStatus</code> (JSON-RPC),
<a href="/metrics">/metrics</a> (Prometheus).</p>
</body></html>
"""
