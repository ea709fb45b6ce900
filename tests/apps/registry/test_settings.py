"""The service's settings are checked at start and refuse unsafe values outside the devnet; a service
whose chain does not answer says so with 503 (its pages still load); a broken setting stops the
start with a clear message."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi import FastAPI

from apps.registry import pages
from apps.registry.settings import RegistrySettings, SettingsError
from devnet.network import pid_alive, wait_for_rpc
from nodes.config import write_config
from tests.apps.conftest import assert_error
from tests.apps.registry.conftest import Registry
from tests.support.devnet import free_port_block

BASE: dict[str, Any] = {
    "gateway": "gw.json",
    "passphrase_file": "pass.txt",
    "salt_file": "salt.hex",
    "data_dir": "data",
}


def settings(**values: Any) -> RegistrySettings:
    return RegistrySettings(**(BASE | values))


def test_outside_the_devnet_only_loopback_and_https_are_accepted() -> None:
    assert settings(public_url="https://auskunft.aachen.de").secure_cookie
    with pytest.raises(ValueError, match="loopback"):
        settings(host="0.0.0.0", public_url="https://auskunft.aachen.de")  # noqa: S104 - the point
    with pytest.raises(ValueError, match="https"):
        settings(public_url="http://auskunft.aachen.de")
    with pytest.raises(ValueError, match="https"):
        settings()  # the default origin is plain http: only for the devnet
    devnet = settings(devnet=True, host="0.0.0.0")  # noqa: S104
    assert not devnet.secure_cookie


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"public_url": "https://auskunft.aachen.de/pruefen"}, "no path"),
        ({"public_url": "ftp://auskunft.aachen.de"}, "origin"),
        ({"register_types": ["Melde register"]}, "printable ASCII"),
        ({"register_types": ["x" * 33]}, "printable ASCII"),
        ({"register_types": []}, "at least one"),
        ({"max_upload_bytes": 10}, "greater than or equal"),
        ({"session_ttl_s": 10 * 86_400}, "less than or equal"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
def test_implausible_settings_are_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings(devnet=True, **values)


def test_settings_come_from_the_environment_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVCHAIN_REGISTRY_PUBLIC_URL", "https://auskunft.soest.de/")
    monkeypatch.setenv("GOVCHAIN_REGISTRY_MAX_UPLOAD_BYTES", "4096")
    loaded = settings()
    assert loaded.public_url == "https://auskunft.soest.de" and loaded.max_upload_bytes == 4096


def test_a_short_salt_is_refused(tmp_path: Path) -> None:
    (tmp_path / "salt.hex").write_text("00ff")
    with pytest.raises(SettingsError, match="16 bytes"):
        settings(devnet=True, salt_file=tmp_path / "salt.hex").salt()


def test_the_service_does_not_start_without_its_browser_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(pages.VENDOR, "noble-hashes", tmp_path / "missing")
    with pytest.raises(pages.WebAssetsMissingError, match=r"\./govchain"):
        pages.mount_pages(FastAPI())


def service_config(registry: Registry, folder: Path, port: int, **changes: Any) -> Path:
    gateways = registry.data_dir / "gateways"
    config = folder / "registry.toml"
    values = {
        "gateway": str(gateways / "aachen-registry.json"),
        "passphrase_file": str(gateways / "DEV-PASSPHRASE.txt"),
        "salt_file": str(gateways / "aachen-salt.hex"),
        "data_dir": str(folder / "data"),
        "port": port,
        "public_url": f"http://127.0.0.1:{port}",
        "devnet": True,
    } | changes
    write_config(config, values)
    return config


def test_a_broken_setting_stops_the_start_with_a_clear_message(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "salt.hex").write_text("abcd\n")
    config = service_config(registry, tmp_path, free_port_block(1), salt_file=str(tmp_path / "salt.hex"))
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cli.main", "registry", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "the salt must have at least 16 bytes" in done.stderr


def test_when_no_node_answers_the_api_says_503_and_the_pages_still_load(
    registry: Registry, tmp_path: Path
) -> None:
    settings_json = json.loads((registry.data_dir / "gateways" / "aachen-registry.json").read_text())
    settings_json["nodes"] = ["http://127.0.0.1:9"]  # nothing listens on the discard port
    settings_json["keystore"] = str(registry.data_dir / "gateways" / settings_json["keystore"])
    gateway = tmp_path / "dead-gateway.json"
    gateway.write_text(json.dumps(settings_json))
    port = free_port_block(1)
    config = service_config(registry, tmp_path, port, gateway=str(gateway))
    log = (tmp_path / "service.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cli.main", "registry", "serve", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_rpc(url, process.pid)
        assert_error(requests.get(f"{url}/v1/verify/{'ab' * 32}", timeout=30), 503, "chain_unavailable")
        assert requests.get(url + "/", timeout=30).status_code == 200
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        assert not pid_alive(process.pid)
