"""Backends beside the plain-text one, so that keyring's discovery chooses its chainer (priority 10
when it has more than one backend to chain). Each keeps its entries as the suite's FileKeyring does
(one file per entry under $RCAUTH_TEST_KEYRING_DIR; not imported from there: every backend class
imported is one more that discovery finds). `RCAUTH_TEST_CHAINED` names the one that is viable:
`low` (chained after the plain-text backend, which then takes every write) or `high` (chained
before it, so it takes every write)."""

from __future__ import annotations

import os
from pathlib import Path

import keyring.backend
import keyring.errors
from jaraco.classes import properties  # what keyring's own backends use (keyring.compat is 25+ only)


def _priority(name: str, value: float) -> float:
    if os.environ.get("RCAUTH_TEST_CHAINED") != name:
        raise RuntimeError(f"not {name}")  # how a backend tells keyring it is not viable here
    return value


class _Files(keyring.backend.KeyringBackend):
    priority = -1  # type: ignore[assignment] # never chosen itself

    @staticmethod
    def entry(service: str, username: str) -> Path:
        return Path(os.environ["RCAUTH_TEST_KEYRING_DIR"]) / f"{service}@{username}.json"

    def get_password(self, service: str, username: str) -> str | None:
        try:
            return self.entry(service, username).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def set_password(self, service: str, username: str, password: str) -> None:
        path = self.entry(service, username)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(password, encoding="utf-8")

    def delete_password(self, service: str, username: str) -> None:
        try:
            self.entry(service, username).unlink()
        except FileNotFoundError:
            raise keyring.errors.PasswordDeleteError("no such entry") from None


class LowKeyring(_Files):
    @properties.classproperty
    def priority(cls) -> float:  # noqa: N805 - keyring's classproperty
        return _priority("low", 0.2)


class HighKeyring(_Files):
    @properties.classproperty
    def priority(cls) -> float:  # noqa: N805 - keyring's classproperty
        return _priority("high", 3.0)
