"""Loads the artifacts that `contracts/build.js` wrote, so Python never needs Node at run time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

BUILD_DIR = Path(__file__).resolve().parent / "build"
CONTRACT_NAMES = ("Consortium", "WeighingLedger", "RegistryAttestations")


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    compiler_version: str
    evm_version: str


@cache
def load_artifact(name: str) -> Artifact:
    path = BUILD_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no artifact for contract {name!r} at {path}")
    raw = json.loads(path.read_text())
    return Artifact(
        name=name,
        abi=raw["abi"],
        bytecode=bytes.fromhex(raw["bytecode"][2:]),
        deployed_bytecode=bytes.fromhex(raw["deployedBytecode"][2:]),
        compiler_version=raw["compiler"]["version"],
        evm_version=raw["settings"]["evmVersion"],
    )
