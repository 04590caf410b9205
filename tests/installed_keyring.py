"""Keyring backends for unit tests: `MemoryKeyring`, and how a test names one with
`PYTHON_KEYRING_BACKEND`, as a user names theirs.

rcauth makes the backend the user names itself (keyring's `core.load_env`: the class imported by its
name, then called) and never reads a program's `keyring.set_keyring` (`rcauth.keyring_choice`). A
test puts a backend instance here (`install`) and names `installed_keyring.Installed`: calling that
class gives back the instance, so the test watches or faults the very object rcauth uses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import ClassVar

import keyring
import keyring.backend
import keyring.errors
import pytest

NAME = "installed_keyring.Installed"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend (the library's own interface), kept in memory."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class Installed:
    """Not a backend itself (keyring's discovery never sees it): a name that makes the installed one."""

    priority = 1  # keyring's `load_keyring` reads it before calling the class
    backend: ClassVar[keyring.backend.KeyringBackend | None] = None

    def __new__(cls) -> keyring.backend.KeyringBackend:  # type: ignore[misc]
        if cls.backend is None:
            raise RuntimeError("no keyring backend installed for this test")
        return cls.backend


def install(monkeypatch: pytest.MonkeyPatch, backend: keyring.backend.KeyringBackend) -> None:
    """rcauth uses `backend` for the rest of the test, as the user's choice (PYTHON_KEYRING_BACKEND)."""
    monkeypatch.setattr(Installed, "backend", backend)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NAME)


@contextlib.contextmanager
def programs_keyring(backend: keyring.backend.KeyringBackend) -> Iterator[None]:
    """`keyring.set_keyring(backend)`, as a program that uses rcauth may call it, for the `with`
    block. Afterwards the process's keyring is keyring's `fail` backend, not what it was: keyring has
    no public way to read that without running its discovery (a real keyring's D-Bus), and nothing
    in the tests reads it but the tests that set it."""
    import keyring.backends.fail

    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(keyring.backends.fail.Keyring())
