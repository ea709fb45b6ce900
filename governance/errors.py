"""The governance package's exceptions: one root."""

from __future__ import annotations


class GovernanceError(Exception):
    """A proposal or vote that cannot be made, or a node that cannot be asked; the message says why."""
