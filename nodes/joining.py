"""A city's own node from nothing: `govchain node init` makes its keys, a certificate signing
request and its configuration; `govchain node join` puts the consortium's answer in place (the
certificate the CA issued, the CA certificate, the genesis); `govchain node start` runs it.

Every secret stays in the node's directory (files readable by the owner only); what goes to the
consortium is the join request (public keys and addresses only).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from eth_account import Account
from eth_account.signers.local import LocalAccount

from contracts.founding import city_id
from nodes.config import PASSWORD_ENV, write_config
from nodes.errors import ConfigError
from nodes.genesis import Genesis
from nodes.p2p.pki import create_csr, fingerprint
from protocol.join_request import FILE_NAME, JoinRequest

ADMIN_PASSPHRASE_ENV = "GOVCHAIN_KEY_PASSPHRASE"  # noqa: S105 - the name of a variable (as the ledger's)
CONFIG, CSR, KEY, CERT, CA, GENESIS = (
    "node.toml",
    "node.csr",
    "node.key",
    "node.pem",
    "ca.pem",
    "genesis.json",
)
VALIDATOR_KEYSTORE, VALIDATOR_PASSWORD = "validator.keystore.json", "validator.password"
ADMIN_KEYSTORE, ADMIN_PASSPHRASE = "admin.keystore.json", "admin.passphrase"


@dataclass(frozen=True)
class InitOptions:
    city: str
    data_dir: Path
    node_name: str | None = None
    validator: bool = True  # False: an observer (e.g. a second node of a member city)
    new_city: bool = True  # make the city's first ADMIN key (unless `admin` names an existing one)
    admin: str | None = None
    peers: list[str] = field(default_factory=list)
    p2p_host: str = "0.0.0.0"  # noqa: S104 - peers of other cities must reach it; TLS + allow-list guard it
    p2p_port: int = 30303
    rpc_port: int = 8545
    ws_port: int = 8546
    devnet: bool = False
    kdf_iterations: int | None = None  # scrypt n; eth-account's default (2**18) unless set (tests)


@dataclass(frozen=True)
class InitResult:
    request: JoinRequest
    request_path: Path
    config_path: Path
    secrets: list[Path]


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _keystore(path: Path, account: LocalAccount, password: str, iterations: int | None) -> None:
    keystore = Account.encrypt(account.key, password, kdf="scrypt", iterations=iterations)
    _write_secret(path, json.dumps(keystore).encode())


def _password(env: str, path: Path, written: list[Path]) -> str:
    """From the environment if set; otherwise a random one in a 0600 file beside the keystore."""
    value = os.environ.get(env)
    if value:
        return value
    value = secrets.token_urlsafe(24)
    _write_secret(path, (value + "\n").encode())
    written.append(path)
    return value


def init_node(options: InitOptions) -> InitResult:
    city_id(options.city)  # refuses a name the Consortium cannot hold
    name = options.node_name or (options.city if options.validator else f"{options.city}-observer")
    folder = options.data_dir
    if (folder / KEY).exists() or (folder / CONFIG).exists():
        raise ConfigError(
            f"{folder} already holds a node ({KEY} or {CONFIG}): refusing to overwrite its keys"
        )
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    written: list[Path] = []
    key, csr = create_csr(f"{name} node")
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_secret(folder / KEY, pem_key)
    written.append(folder / KEY)
    csr_pem = csr.public_bytes(serialization.Encoding.PEM).decode()
    (folder / CSR).write_text(csr_pem)
    config: dict[str, object] = {
        "name": name,
        "data_dir": ".",
        "genesis": GENESIS,
        "devnet": options.devnet,
        "rpc_host": "127.0.0.1",
        "rpc_port": options.rpc_port,
        "ws_port": options.ws_port,
    }
    validator_address = None
    if options.validator:
        validator: LocalAccount = Account.create()
        password = _password(PASSWORD_ENV, folder / VALIDATOR_PASSWORD, written)
        _keystore(folder / VALIDATOR_KEYSTORE, validator, password, options.kdf_iterations)
        written.append(folder / VALIDATOR_KEYSTORE)
        validator_address = validator.address
        config["validator_keystore"] = VALIDATOR_KEYSTORE
        if (folder / VALIDATOR_PASSWORD).exists():
            config["validator_password_file"] = VALIDATOR_PASSWORD
    admin_address = options.admin
    if options.new_city and admin_address is None:
        admin: LocalAccount = Account.create()
        passphrase = _password(ADMIN_PASSPHRASE_ENV, folder / ADMIN_PASSPHRASE, written)
        _keystore(folder / ADMIN_KEYSTORE, admin, passphrase, options.kdf_iterations)
        written.append(folder / ADMIN_KEYSTORE)
        admin_address = admin.address
    config.update(
        {
            "p2p_host": options.p2p_host,
            "p2p_port": options.p2p_port,
            "peers": options.peers,
            "tls_ca_cert": CA,
            "tls_cert": CERT,
            "tls_key": KEY,
        }
    )
    write_config(folder / CONFIG, config)
    request = JoinRequest(
        city=options.city,
        node=name,
        csr=csr_pem,
        validator=validator_address,
        admin=admin_address if options.new_city else None,
    )
    request.write(folder / FILE_NAME)
    return InitResult(request, folder / FILE_NAME, folder / CONFIG, written)


def join_node(data_dir: Path, cert: Path, ca: Path, genesis: Path | None) -> bytes:
    """Checks the consortium's answer against this node's key and puts it in place; returns the
    certificate fingerprint the Consortium must list."""
    try:
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
        ca_certificate = x509.load_pem_x509_certificate(ca.read_bytes())
        key = serialization.load_pem_private_key((data_dir / KEY).read_bytes(), None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the certificates or the node key: {exc}") from None
    own = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    theirs = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if own != theirs:
        raise ConfigError(f"{cert} is not a certificate for this node's key ({data_dir / KEY})")
    try:
        certificate.verify_directly_issued_by(ca_certificate)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{cert} is not issued by the CA in {ca}: {exc}") from None
    if genesis is not None:
        Genesis.load(genesis)  # refuses a file that is not a genesis
        _copy(genesis, data_dir / GENESIS)
    _copy(cert, data_dir / CERT)
    _copy(ca, data_dir / CA)
    return fingerprint(certificate)


def _copy(source: Path, target: Path) -> None:
    if source.resolve() != target.resolve():
        shutil.copyfile(source, target)


def missing_for_start(data_dir: Path) -> list[str]:
    """What `govchain node start` still needs, with where it comes from."""
    hints = {
        CONFIG: "run `govchain node init` first",
        CERT: "the certificate the consortium's CA issued for node.csr (`govchain node join --cert`)",
        CA: "the consortium CA certificate (`govchain node join --ca`)",
        GENESIS: "the network's genesis.json (`govchain node join --genesis`)",
    }
    return [f"{name}: {hint}" for name, hint in hints.items() if not (data_dir / name).exists()]
