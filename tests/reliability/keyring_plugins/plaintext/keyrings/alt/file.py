"""A stand-in for keyrings.alt's `keyrings.alt.file.PlaintextKeyring` (keyrings.alt is not installed in
rcauth's test environment): same module, class name, priority and `scheme`, and the same way of
keeping entries: base64 in an INI file, `keyring_pass.cfg`, in keyring's data root."""

from __future__ import annotations

import base64
import configparser
import os
from pathlib import Path

import keyring.backend
import keyring.errors


def data_root() -> Path:
    """keyring's `platform_.data_root()` on Linux: $XDG_DATA_HOME/python_keyring."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "python_keyring"


class PlaintextKeyring(keyring.backend.KeyringBackend):
    """Simple File Keyring with no encryption"""

    priority = 0.5  # type: ignore[assignment]
    filename = "keyring_pass.cfg"
    scheme = "no encryption"
    version = "1.0"

    @property
    def file_path(self) -> Path:
        return data_root() / self.filename

    def _config(self) -> configparser.RawConfigParser:
        config = configparser.RawConfigParser()
        config.read(self.file_path, encoding="utf-8")
        return config

    def get_password(self, service: str, username: str) -> str | None:
        try:
            value = self._config().get(service, username)
        except (configparser.NoSectionError, configparser.NoOptionError):
            return None
        return base64.b64decode(value).decode("utf-8")

    def set_password(self, service: str, username: str, password: str) -> None:
        config = self._config()
        if not config.has_section(service):
            config.add_section(service)
        config.set(service, username, base64.b64encode(password.encode("utf-8")).decode("ascii"))
        self._write(config)

    def delete_password(self, service: str, username: str) -> None:
        config = self._config()
        if not (config.has_section(service) and config.remove_option(service, username)):
            raise keyring.errors.PasswordDeleteError("Password not found")
        self._write(config)

    def _write(self, config: configparser.RawConfigParser) -> None:
        self.file_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.file_path, "w", encoding="utf-8") as handle:
            config.write(handle)
