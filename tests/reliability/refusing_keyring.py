"""A keyring that can be read but refuses to store (a full or read-only credential store, a policy):
rcauth's probe reads it fine, then saving the new session fails with keyring's `PasswordSetError`.
Selected in a subprocess with `PYTHON_KEYRING_BACKEND=refusing_keyring.WriteRefusingKeyring`."""

from __future__ import annotations

import keyring.errors
from reliability_support import FileKeyring


class WriteRefusingKeyring(FileKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("the credential store refused the write")
