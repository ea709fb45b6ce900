"""City keys in encrypted keystore files (eth-account's format), unlocked by a passphrase taken from
an environment variable or a file — never from the command line, never stored in clear."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.errors import KeystoreError

PASSPHRASE_ENV = "GOVCHAIN_KEY_PASSPHRASE"  # noqa: S105 - the name of a variable, not a passphrase


def passphrase(env: str = PASSPHRASE_ENV, file: Path | None = None) -> str:
    if file is not None:
        try:
            return file.read_text().rstrip("\n")
        except OSError as exc:
            raise KeystoreError(f"passphrase file {file}: {exc.strerror}") from None
    value = os.environ.get(env)
    if value is None:
        raise KeystoreError(f"no passphrase: set ${env} or give a passphrase file")
    return value


def write_keystore(path: Path, account: LocalAccount, secret: str) -> None:
    if len(secret) < 12:
        raise KeystoreError("the passphrase must have at least 12 characters")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(Account.encrypt(account.key, secret)))
    path.chmod(0o600)


def load_account(path: Path, secret: str) -> LocalAccount:
    try:
        keystore = json.loads(path.read_text())
        key = Account.decrypt(keystore, secret)
    except OSError as exc:
        raise KeystoreError(f"keystore {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise KeystoreError(f"keystore {path}: {exc}") from None
    account: LocalAccount = Account.from_key(key)
    return account
