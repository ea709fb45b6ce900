"""A submitter process for the crash tests: runs until every queued record is settled.

python -m tests.ledger.submitter_child SETTINGS.json   (GOVCHAIN_LEDGER_CRASH_AT may make it die)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from devnet.keys import CityKeys
from ledger.outbox import Outbox
from ledger.rpc import RpcClient
from ledger.submitter import Submitter, SubmitterConfig


def main() -> None:
    settings = json.loads(Path(sys.argv[1]).read_text())
    outbox = Outbox(Path(settings["outbox"]))
    submitter = Submitter(
        outbox,
        RpcClient([settings["rpc"]]),
        CityKeys.derive("aachen").gateway,
        settings["chainId"],
        settings["contracts"]["weighing"],
        settings["contracts"]["registry"],
        SubmitterConfig(batch_size=3, resend_after=1.0),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        submitter.step()
        counts = outbox.counts()
        if not counts.get("queued") and not counts.get("signed"):
            return
        time.sleep(0.1)
    sys.exit(3)


if __name__ == "__main__":
    main()
