"""What the Secret Service fast read (rcauth.secret_service) makes of answers it did not expect.

Whoever owns `org.freedesktop.secrets` on the session bus answers the reader's calls: a body of
another shape, an IV that is not one AES block or a secret that is not whole blocks must leave the
read to keyring (`NotHere`), never escape as an error no one expects. The reader's D-Bus calls are
scripted here; tests/e2e/test_secret_service_fast_read.py reads a real gnome-keyring.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from rcauth.secret_service import KEYRING_APPLICATION, NotHere, SecretServiceReader

KEY = bytes(range(16))
IV = bytes(range(16, 32))


def encrypted(text: bytes, iv: bytes = IV) -> bytes:
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(KEY), modes.CBC(iv)).encryptor()
    return encryptor.update(padder.update(text) + padder.finalize()) + encryptor.finalize()


class Scripted(SecretServiceReader):
    """A reader whose DH session is open and whose calls get the answers given, in order."""

    def __init__(self, *answers: list[Any]) -> None:
        self._answers: Iterator[list[Any]] = iter(answers)
        self._session = "/org/freedesktop/secrets/session/1"
        self._key = KEY

    def _calls(self, *calls: Any) -> list[Any]:
        return next(self._answers)

    def close(self) -> None:
        pass


FOUND = [(("b", False),), (["/org/freedesktop/secrets/collection/login/1"],)]
KEYRINGS = (("a{ss}", {"application": KEYRING_APPLICATION}),)


def secret(iv: bytes, value: bytes) -> list[Any]:
    return [KEYRINGS, (("/org/freedesktop/secrets/session/1", iv, value, "text/plain"),)]


def test_a_well_formed_answer_is_the_entry_keyring_wrote() -> None:
    assert Scripted(FOUND, secret(IV, encrypted(b'{"v": 1}'))).get("rcauth", "default") == '{"v": 1}'
    assert Scripted([(("b", False),), ([],)]).get("rcauth", "default") is None


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param([FOUND, secret(IV[:3], encrypted(b"{}"))], id="an IV that is not one block"),
        pytest.param([FOUND, secret(IV, encrypted(b"{}")[:-5])], id="a secret that is not whole blocks"),
        pytest.param([FOUND, secret(IV, b"")], id="an empty secret"),
        pytest.param([FOUND, [KEYRINGS, (("/s", IV, encrypted(b"{}")),)]], id="a secret of three fields"),
        pytest.param([[(("b",),), (["/i"],)]], id="a Locked property without its value"),
        pytest.param([[(("b", False),)]], id="one answer for two calls"),
        pytest.param([FOUND, [((),), (("/s", IV, b"", ""),)]], id="attributes of another shape"),
    ],
)
def test_an_answer_out_of_the_apis_shape_is_left_to_keyring(answers: list[list[Any]]) -> None:
    with pytest.raises(NotHere):
        Scripted(*answers).get("rcauth", "default")


def test_a_secret_that_decrypts_but_is_not_text_is_the_entrys_damage() -> None:
    with pytest.raises(UnicodeDecodeError):
        Scripted(FOUND, secret(IV, encrypted(b"\xff\xfe not UTF-8"))).get("rcauth", "default")
