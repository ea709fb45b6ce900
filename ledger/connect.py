"""web3.py clients for govchain nodes (and any other Ethereum JSON-RPC endpoint)."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3
from web3.middleware import ExtraDataToPOAMiddleware, SignAndSendRawMiddlewareBuilder


def connect(url: str, signers: list[LocalAccount] | None = None, timeout: float = 60) -> Web3:
    """A Web3 for `url`. QBFT headers carry validators and seals in extraData (as on every Besu
    QBFT network), which web3.py only accepts with its proof-of-authority middleware."""
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout}))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    if signers:
        w3.middleware_onion.inject(
            SignAndSendRawMiddlewareBuilder.build(tuple(signers)), name="signer", layer=0
        )
    return w3
