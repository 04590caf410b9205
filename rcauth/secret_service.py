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

The transport stays encrypted as secretstorage's is: the `dh-ietf1024-sha256-aes128-cbc-pkcs7`
algorithm of the Secret Service API (Diffie-Hellman over RFC 2409's 1024-bit MODP group, HKDF-SHA256,
AES-128-CBC). The private exponent is 256 random bits, not secretstorage's 1024: the group caps the
exchange near 80-bit strength whatever the exponent, and a 2s-bit exponent gives s-bit strength
(NIST SP 800-56A rev. 3, 5.6.1.1), so 256 bits lose nothing and make both exponentiations 4x cheaper.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
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


class SecretServiceReader:
    """One D-Bus connection and one encrypted session, for a few reads (a session's index and parts)."""

    def __init__(self, timeout: float) -> None:
        try:
            from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]
        except ImportError as exc:
            raise NotHere(f"jeepney is not installed ({exc})") from None
        self.timeout = timeout
        try:
            self._connection = open_dbus_connection(bus="SESSION")
        except Exception as exc:  # noqa: BLE001 - no bus address, no socket, refused: keyring decides
            raise NotHere(f"no D-Bus session bus ({type(exc).__name__})") from None
        try:
            self._session, self._key = self._open_session()
            if self._property(DEFAULT_COLLECTION, "Collection", "Locked"):
                raise NotHere("the default collection is locked")
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> SecretServiceReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        # The Secret Service closes a session when its client leaves the bus.
        self._connection.close()

    def _call(
        self, path: str, interface: str, method: str, signature: str | None, body: tuple[Any, ...]
    ) -> Any:
        from jeepney import DBusAddress, MessageType, new_method_call  # type: ignore[import-untyped]

        address = DBusAddress(path, bus_name=BUS_NAME, interface=interface)
        reply = self._connection.send_and_get_reply(
            new_method_call(address, method, signature, body), timeout=self.timeout
        )
        if reply.header.message_type == MessageType.error:
            raise NotHere(f"{interface}.{method}: {reply.header.fields.get(4, 'error')}")
        return reply.body

    def _property(self, path: str, interface: str, name: str) -> Any:
        (variant,) = self._call(
            path, "org.freedesktop.DBus.Properties", "Get", "ss", (PREFIX + interface, name)
        )
        return variant[1]

    def _open_session(self) -> tuple[str, bytes]:
        private = secrets.randbits(EXPONENT_BITS) | (1 << (EXPONENT_BITS - 1))
        public = pow(2, private, DH_PRIME).to_bytes(128, "big")
        output, session = self._call(
            SERVICE_PATH, PREFIX + "Service", "OpenSession", "sv", (ALGORITHM, ("ay", public))
        )
        if output[0] != "ay":
            raise NotHere("the Secret Service offered no DH session")
        server = int.from_bytes(output[1], "big")
        if not 1 < server < DH_PRIME - 1:
            raise NotHere("the Secret Service sent an invalid public key")
        shared = pow(server, private, DH_PRIME).to_bytes(128, "big")
        # HKDF-SHA256 (RFC 5869) with no salt and no info, one block, first 16 bytes: the AES key.
        pseudo_random_key = hmac.new(b"\0" * 32, shared, hashlib.sha256).digest()
        key = hmac.new(pseudo_random_key, b"\x01", hashlib.sha256).digest()[:16]
        return session, key

    def get(self, service: str, username: str) -> str | None:
        """What `keyring.get_password(service, username)` returns with the Secret Service backend."""
        (items,) = self._call(
            DEFAULT_COLLECTION,
            PREFIX + "Collection",
            "SearchItems",
            "a{ss}",
            ({"username": username, "service": service},),
        )
        if not items:
            return None
        if len(items) != 1:
            raise NotHere("more than one entry matches")
        (item,) = items
        if self._property(item, "Item", "Attributes").get("application") != KEYRING_APPLICATION:
            raise NotHere("the entry was not written by keyring")
        (secret,) = self._call(item, PREFIX + "Item", "GetSecret", "o", (self._session,))
        _session, iv, value, _content_type = secret
        return self._decrypt(bytes(iv), bytes(value)).decode("utf-8")

    def _decrypt(self, iv: bytes, value: bytes) -> bytes:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(value) + decryptor.finalize()
        pad = padded[-1] if padded else 0
        if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
            raise NotHere("the secret did not decrypt (bad padding)")
        return padded[:-pad]
