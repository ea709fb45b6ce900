"""Figures of the bad-input campaigns (issue 10), printed at the end of the test run by the
`pytest_terminal_summary` hook in tests/conftest.py: requests tried, server errors seen (must be
0), state changes caused by rejected requests (must be 0)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Campaign:
    name: str
    tried: int = 0
    server_errors: list[str] = field(default_factory=list)
    state_changes: int | None = None  # None until the campaign's closing check ran
    statuses: dict[int, int] = field(default_factory=dict)

    def saw(self, status: int, what: str = "") -> None:
        self.tried += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status >= 500:
            self.server_errors.append(f"{status} {what}"[:300])


CAMPAIGNS: dict[str, Campaign] = {}


def campaign(name: str) -> Campaign:
    return CAMPAIGNS.setdefault(name, Campaign(name))


def summary_lines() -> list[str]:
    lines = []
    for c in CAMPAIGNS.values():
        changes = "not checked" if c.state_changes is None else str(c.state_changes)
        codes = ", ".join(f"{s}: {n}" for s, n in sorted(c.statuses.items()))
        lines.append(
            f"{c.name}: {c.tried} requests, {len(c.server_errors)} server errors, "
            f"{changes} state changes from rejected requests ({codes})"
        )
    return lines
