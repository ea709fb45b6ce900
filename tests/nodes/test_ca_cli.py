"""govchain ca: a CA for real deployments issues node certificates from CSRs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from nodes.p2p.pki import create_csr, fingerprint

ROOT = Path(__file__).resolve().parents[2]


def govchain(
    *args: str, passphrase: str | None = "a long enough passphrase"
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("GOVCHAIN_CA_PASSPHRASE", None)
    if passphrase is not None:
        env["GOVCHAIN_CA_PASSPHRASE"] = passphrase
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_init_sign_and_fingerprint(tmp_path: Path) -> None:
    ca_dir = tmp_path / "ca"
    assert govchain("ca", "init", "--ca-dir", str(ca_dir)).returncode == 0
    assert b"ENCRYPTED" in (ca_dir / "ca.key").read_bytes()
    assert govchain("ca", "init", "--ca-dir", str(ca_dir)).returncode == 1  # never overwrites a CA
    _, csr = create_csr("muenster node")
    (tmp_path / "node.csr").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    signed = govchain(
        "ca", "sign", "--ca-dir", str(ca_dir), str(tmp_path / "node.csr"), "-o", str(tmp_path / "n.pem")
    )
    assert signed.returncode == 0, signed.stderr
    cert = x509.load_pem_x509_certificate((tmp_path / "n.pem").read_bytes())
    ca_cert = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())
    cert.verify_directly_issued_by(ca_cert)
    expected = "0x" + fingerprint(cert).hex()
    assert expected in signed.stdout
    assert govchain("ca", "fingerprint", str(tmp_path / "n.pem")).stdout.strip() == expected


def test_the_ca_needs_its_passphrase(tmp_path: Path) -> None:
    assert govchain("ca", "init", "--ca-dir", str(tmp_path / "ca"), passphrase=None).returncode == 2
    assert govchain("ca", "init", "--ca-dir", str(tmp_path / "ca"), passphrase="short").returncode == 2
    assert not (tmp_path / "ca" / "ca.key").exists()
