"""The committed artifacts are exactly what the pinned compiler makes of the sources."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from contracts.artifacts import BUILD_DIR, CONTRACT_NAMES, load_artifact

CONTRACTS_DIR = BUILD_DIR.parent
PINNED_SOLC = json.loads((CONTRACTS_DIR / "package.json").read_text())["dependencies"]["solc"]


def run_check(contracts_dir: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node.js is needed to recompile the contracts"
    return subprocess.run(  # noqa: S603 - fixed arguments
        [node, str(contracts_dir / "build.js"), "--check"], capture_output=True, text=True, timeout=300
    )


def test_committed_artifacts_match_a_fresh_compile() -> None:
    result = run_check(CONTRACTS_DIR)
    assert result.returncode == 0, result.stderr


def test_check_fails_when_an_artifact_is_stale(tmp_path: Path) -> None:
    copy = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, copy, symlinks=True, ignore=shutil.ignore_patterns("node_modules"))
    (copy / "node_modules").symlink_to(CONTRACTS_DIR / "node_modules")
    source = copy / "src" / "WeighingLedger.sol"
    source.write_text(source.read_text() + "\n// a change the artifact does not know about\n")
    result = run_check(copy)
    assert result.returncode == 1
    assert "WeighingLedger" in result.stderr


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_artifacts_are_built_by_the_pinned_compiler_for_prague(name: str) -> None:
    artifact = load_artifact(name)
    assert artifact.compiler_version.startswith(PINNED_SOLC + "+")
    assert artifact.evm_version == "prague"
    assert artifact.deployed_bytecode
    assert artifact.deployed_bytecode in artifact.bytecode
