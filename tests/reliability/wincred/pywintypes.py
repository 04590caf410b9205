"""pywin32's `pywintypes.error`, as keyring's Windows backend lets it through from `CredWrite` (it is no
keyring error class): `error(1783, 'CredWrite', 'The stub received bad data.')` for a secret over
Credential Manager's 2560-byte limit, with the `winerror`, `funcname` and `strerror` attributes that
pywin32 and pywin32-ctypes give it."""

from __future__ import annotations


class error(Exception):  # noqa: N801, N818 - pywin32's name for it
    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.winerror = args[0] if len(args) > 0 else None
        self.funcname = args[1] if len(args) > 1 else None
        self.strerror = args[2] if len(args) > 2 else None
