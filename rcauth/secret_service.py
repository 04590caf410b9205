"""Reading the session keyring stored in the Secret Service, without keyring, over `jeepney`.

keyring's Secret Service backend (through `secretstorage`) costs about 40 ms before its first byte
on the bus: keyring's core, secretstorage, all of `cryptography`'s bindings it loads. A command whose
access token is fresh (`rcauth token` in a script's loop) spends most of its time there. This module
reads the same entry the same way with what lies under secretstorage: `jeepney` (its D-Bus layer)
and `cryptography`'s AES alone.

Only reads, and only what keyring itself would read: the default collection (the alias
`/org/freedesktop/secrets/aliases/default`, where keyring's backend keeps its entries), keyring's
query (attributes `service` and `username`), exactly one match, and that match carries keyring's
`application` attribute (so it is an entry keyring wrote). Anything else (no Secret Service, a
locked collection, two matches, a foreign entry, no DH session) raises `NotHere` and the caller
asks keyring, which unlocks, prompts, chooses and reports as it always has. Writes and deletes
always go through keyring.

The secret crosses the bus encrypted, in the session keyring's backend (secretstorage) negotiates:
the Secret Service API's `dh-ietf1024-sha256-aes128-cbc-pkcs7`. A `plain` session would put the
session's JSON (refresh token, client secret) in clear on the user's session bus, where a bus
monitor, or a capture made while debugging, holds it. A service that offers no DH session is left
to keyring. The private exponent is 256 random bits, not secretstorage's 1024: the group caps the
exchange near 80-bit strength whatever the exponent, and a 2s-bit exponent gives s-bit strength
(NIST SP 800-56A rev. 3, 5.6.1.1).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

BUS_NAME = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
PREFIX = "org.freedesktop.Secret."
ALGORITHM = "dh-ietf1024-sha256-aes128-cbc-pkcs7"
# keyring.backends.SecretService.Keyring.appid: the attribute keyring adds to every entry it writes.
KEYRING_APPLICATION = "Python keyring library"
# RFC 2409, 6.2: the Second Oakley Group (1024-bit MODP), generator 2.
DH_PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)
EXPONENT_BITS = 256


class NotHere(Exception):
    """The fast path cannot answer for keyring; ask keyring."""


class TimedOut(Exception):
    """The Secret Service did not answer in time (a hung daemon): asking keyring would hang too."""


class SecretServiceReader:
    """One D-Bus connection for a few reads.

    Every call is bounded by one deadline, `timeout` seconds from now, on the caller's thread: no
    thread to start (on a loaded machine starting one can take milliseconds). Independent calls
    go out together and their answers are collected after (D-Bus matches each reply to its call's
    serial): a read is two waits on the Secret Service instead of five.
    """

    def __init__(self, timeout: float) -> None:
        try:
            from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]
        except ImportError as exc:
            raise NotHere(f"jeepney is not installed ({exc})") from None
        self.timeout = timeout
        self._deadline = time.monotonic() + timeout
        try:
            self._connection = open_dbus_connection(bus="SESSION", auth_timeout=timeout)
        except TimeoutError:
            raise TimedOut from None
        except Exception as exc:  # noqa: BLE001 - no bus address, no socket, refused: keyring decides
            raise NotHere(f"no D-Bus session bus ({type(exc).__name__})") from None
        self._session: str | None = None
        self._key = b""

    def __enter__(self) -> SecretServiceReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        # The Secret Service closes a session when its client leaves the bus.
        self._connection.close()

    def _calls(self, *calls: tuple[str, str, str, str | None, tuple[Any, ...]]) -> list[Any]:
        """Send every call (path, interface, method, signature, body), then collect their answers."""
        from jeepney import DBusAddress, HeaderFields, MessageType, new_method_call  # type: ignore[import-untyped]

        serials = []
        for path, interface, method, signature, body in calls:
            address = DBusAddress(path, bus_name=BUS_NAME, interface=interface)
            serial = next(self._connection.outgoing_serial)
            self._connection.send(new_method_call(address, method, signature, body), serial=serial)
            serials.append(serial)
        replies: dict[int, Any] = {}
        while len(replies) < len(serials):
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise TimedOut
            try:
                message = self._connection.receive(timeout=left)
            except TimeoutError:
                raise TimedOut from None
            serial = message.header.fields.get(HeaderFields.reply_serial)
            if serial in serials:
                replies[serial] = message
        answers = []
        for serial, (path, interface, method, _, body) in zip(serials, calls, strict=True):
            reply = replies[serial]
            if reply.header.message_type == MessageType.error:
                name = reply.header.fields.get(HeaderFields.error_name, "error")
                what = f"{interface}.{method}{body if method == 'Get' else ''} on {path}"
                raise NotHere(f"{what}: {name}")
            answers.append(reply.body)
        return answers

    @staticmethod
    def _get(path: str, interface: str, name: str) -> tuple[str, str, str, str, tuple[Any, ...]]:
        return (path, "org.freedesktop.DBus.Properties", "Get", "ss", (PREFIX + interface, name))

    def get(self, service: str, username: str) -> str | None:
        """What `keyring.get_password(service, username)` returns with the Secret Service backend.

        Whoever owns the bus name answers, in whatever shape: an answer the Secret Service API does
        not specify (a body of another shape, an IV that is not one AES block, a secret that is not
        whole blocks) is left to keyring, like any other case this reader does not handle. A secret
        that decrypts but is not UTF-8 is the entry's damage (`UnicodeDecodeError`), as keyring's."""
        try:
            return self._lookup(service, username)
        except UnicodeDecodeError:
            raise
        except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
            shape = type(exc).__name__
            raise NotHere(f"the Secret Service answered out of its API's shape ({shape})") from None

    def _lookup(self, service: str, username: str) -> str | None:
        search = (
            DEFAULT_COLLECTION,
            PREFIX + "Collection",
            "SearchItems",
            "a{ss}",
            ({"username": username, "service": service},),
        )
        locked_query = self._get(DEFAULT_COLLECTION, "Collection", "Locked")
        if self._session is None:
            private = secrets.randbits(EXPONENT_BITS) | (1 << (EXPONENT_BITS - 1))
            offer = (ALGORITHM, ("ay", pow(2, private, DH_PRIME).to_bytes(128, "big")))
            opening = (SERVICE_PATH, PREFIX + "Service", "OpenSession", "sv", offer)
            opened, (locked,), (items,) = self._calls(opening, locked_query, search)
            self._session, self._key = self._agree(private, *opened)
        else:
            (locked,), (items,) = self._calls(locked_query, search)
        if locked[1]:
            raise NotHere("the default collection is locked")
        if not items:
            return None
        if len(items) != 1:
            raise NotHere("more than one entry matches")
        (item,) = items
        (attributes,), (secret,) = self._calls(
            self._get(item, "Item", "Attributes"),
            (item, PREFIX + "Item", "GetSecret", "o", (self._session,)),
        )
        if attributes[1].get("application") != KEYRING_APPLICATION:
            raise NotHere("the entry was not written by keyring")
        _session, iv, value, _content_type = secret
        return self._decrypt(bytes(iv), bytes(value)).decode("utf-8")

    @staticmethod
    def _agree(private: int, output: tuple[str, bytes], session: str) -> tuple[str, bytes]:
        """The session's AES key from the service's DH public key (the Secret Service API's algorithm)."""
        if output[0] != "ay":
            raise NotHere("the Secret Service offered no DH session")
        server = int.from_bytes(output[1], "big")
        if not 1 < server < DH_PRIME - 1:
            raise NotHere("the Secret Service sent an invalid public key")
        shared = pow(server, private, DH_PRIME).to_bytes(128, "big")
        # HKDF-SHA256 (RFC 5869) with no salt and no info, one block, first 16 bytes: the AES key.
        pseudo_random_key = hmac.new(b"\0" * 32, shared, hashlib.sha256).digest()
        return session, hmac.new(pseudo_random_key, b"\x01", hashlib.sha256).digest()[:16]

    def _decrypt(self, iv: bytes, value: bytes) -> bytes:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(value) + decryptor.finalize()
        pad = padded[-1] if padded else 0
        if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
            raise NotHere("the secret did not decrypt (bad padding)")
        return padded[:-pad]
