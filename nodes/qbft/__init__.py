"""QBFT as specified for Besu: header extraData, hashing, commit seals (and, later, the state machine)."""
