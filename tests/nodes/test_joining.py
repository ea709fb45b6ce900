"""`govchain node init|join|start` and `govchain ca sign` of a join request: what stays in the node's
directory, what is sent, and the checks on the consortium's answer."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from eth_account import Account
from typer.testing import CliRunner

from cli.main import app
from nodes.config import NodeConfig
from nodes.errors import ConfigError
from nodes.joining import InitOptions, init_node, join_node, missing_for_start
from nodes.p2p.pki import create_ca, fingerprint, issue_node_keypair, sign_csr
from protocol.join_request import JoinRequest, JoinRequestError

runner = CliRunner()
FAST = 2**4  # scrypt cost for tests; real keystores use eth-account's default


def _init(folder: Path, **options: object) -> JoinRequest:
    return init_node(InitOptions(city="bielefeld", data_dir=folder, kdf_iterations=FAST, **options)).request  # type: ignore[arg-type]


def test_init_makes_keys_a_csr_and_a_config_and_sends_no_secret(tmp_path: Path) -> None:
    folder = tmp_path / "node"
    request = _init(folder, peers=["10.0.0.1:30303"], p2p_port=30400)
    secrets = [
        "node.key",
        "validator.keystore.json",
        "validator.password",
        "admin.keystore.json",
        "admin.passphrase",
    ]
    for name in secrets:
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    sent = (folder / "join-request.json").read_text()
    for name in secrets:
        assert (folder / name).read_text().strip() not in sent
    assert "PRIVATE KEY" not in sent and "crypto" not in sent
    assert JoinRequest.load(folder / "join-request.json") == request
    csr = x509.load_pem_x509_csr(request.csr.encode())
    assert csr.is_signature_valid
    key = serialization.load_pem_private_key((folder / "node.key").read_bytes(), None)
    assert key.public_key() == csr.public_key()
    password = (folder / "validator.password").read_text().strip()
    keystore = json.loads((folder / "validator.keystore.json").read_text())
    assert Account.from_key(Account.decrypt(keystore, password)).address == request.validator
    assert request.admin is not None and request.new_city
    config = NodeConfig.load(folder / "node.toml")
    assert config.peers == ["10.0.0.1:30303"] and config.p2p_port == 30400 and not config.devnet
    assert config.validator_key() is not None


def test_init_refuses_to_overwrite_a_node(tmp_path: Path) -> None:
    _init(tmp_path / "node")
    key = (tmp_path / "node" / "node.key").read_bytes()
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        _init(tmp_path / "node")
    assert (tmp_path / "node" / "node.key").read_bytes() == key


def test_an_observer_of_a_member_city_has_no_validator_or_admin_key(tmp_path: Path) -> None:
    request = _init(tmp_path / "obs", validator=False, new_city=False)
    assert request.validator is None and request.admin is None and request.node == "bielefeld-observer"
    assert not (tmp_path / "obs" / "validator.keystore.json").exists()
    assert NodeConfig.load(tmp_path / "obs" / "node.toml").validator_keystore is None


def test_init_refuses_a_city_name_the_consortium_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="city name"):
        init_node(InitOptions(city="Bad Name", data_dir=tmp_path / "n"))


def test_join_checks_the_certificate_against_the_key_and_the_ca(tmp_path: Path) -> None:
    folder = tmp_path / "node"
    request = _init(folder)
    ca = create_ca("consortium")
    ca.write(tmp_path / "ca.key", tmp_path / "ca.pem")
    cert = sign_csr(ca, x509.load_pem_x509_csr(request.csr.encode()))
    (tmp_path / "node.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    other = issue_node_keypair(ca, "someone else")
    other.write(tmp_path / "other.key", tmp_path / "other.pem")
    with pytest.raises(ConfigError, match="not a certificate for this node's key"):
        join_node(folder, tmp_path / "other.pem", tmp_path / "ca.pem", None)
    foreign = create_ca("another CA")
    foreign.write(tmp_path / "foreign.key", tmp_path / "foreign.pem")
    with pytest.raises(ConfigError, match="not issued by the CA"):
        join_node(folder, tmp_path / "node.pem", tmp_path / "foreign.pem", None)
    assert missing_for_start(folder)[0].startswith("node.pem")
    assert join_node(folder, tmp_path / "node.pem", tmp_path / "ca.pem", None) == fingerprint(cert)
    assert [m.split(":")[0] for m in missing_for_start(folder)] == ["genesis.json"]


def test_start_says_what_is_missing(tmp_path: Path) -> None:
    _init(tmp_path / "node")
    result = runner.invoke(app, ["node", "start", "--data-dir", str(tmp_path / "node")])
    assert result.exit_code == 2
    assert "node.pem" in result.output and "genesis.json" in result.output


def test_ca_sign_takes_a_join_request_and_a_devnet_ca(tmp_path: Path) -> None:
    request = _init(tmp_path / "node")
    ca_dir = tmp_path / "ca"
    ca_dir.mkdir()
    create_ca("devnet CA").write(ca_dir / "ca.key", ca_dir / "ca.pem")  # unencrypted, as the devnet's
    path = tmp_path / "node" / "join-request.json"
    result = runner.invoke(app, ["ca", "sign", "--ca-dir", str(ca_dir), str(path)])
    assert result.exit_code == 0, result.output
    cert = x509.load_pem_x509_certificate((tmp_path / "node" / f"{request.node}.pem").read_bytes())
    assert f"0x{fingerprint(cert).hex()}" in result.output
    assert cert.public_key() == x509.load_pem_x509_csr(request.csr.encode()).public_key()


def test_a_join_request_with_a_bad_field_is_refused() -> None:
    good = JoinRequest("bielefeld", "bielefeld", "-----BEGIN CERTIFICATE REQUEST-----x", "0x" + "11" * 20)
    assert JoinRequest.from_json(good.to_json()) == good
    for change in ({"format": "other"}, {"validator": "0x12"}, {"admin": 5}, {"csr": "not pem"}):
        with pytest.raises(JoinRequestError):
            JoinRequest.from_json(good.to_json() | change)
    with pytest.raises(JoinRequestError, match="without 'city'"):
        JoinRequest.from_json({k: v for k, v in good.to_json().items() if k != "city"})
