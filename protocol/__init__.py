"""Wire formats that every party shares: nodes produce them, the ledger and offline verifiers check
them (QBFT header extraData and hashing, DESIGN.md §4). No state, no I/O."""
