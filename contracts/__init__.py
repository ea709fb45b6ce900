"""Solidity sources, their committed build artifacts, and the genesis helper for the Consortium."""

from contracts.artifacts import CONTRACT_NAMES, Artifact, load_artifact

__all__ = ["CONTRACT_NAMES", "Artifact", "load_artifact"]
