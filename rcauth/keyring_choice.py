"""Which keyring backend keeps the session, and why: the user's choice, a remembered one, or keyring's.

rcauth makes its backend itself and calls it directly. It never calls `keyring.set_keyring` nor reads
keyring's process-wide backend (`keyring.get_keyring()`): in a program that imports rcauth, the
program's keyring stays the program's, and rcauth's choice follows only the rules below.

The user's choice is made where keyring documents it, for every program alike, and made as keyring
makes it: `PYTHON_KEYRING_BACKEND` (keyring's `core.load_env`), then keyring's config file
(`keyringrc.cfg` in `keyring.util.platform_.config_root()`). A program's own `keyring.set_keyring`
is not one: keyring offers no public way to tell a backend a program set from one its discovery made
(`get_keyring()` runs the discovery, and sets the backend of the whole process, when none is set);
rcauth would have to read keyring's private `core._keyring_backend`. That backend is the program's,
not the user's answer to where rcauth keeps sessions.

On first use keyring discovers a backend: it scans entry points for plugins, imports every backend it
ships (the macOS one runs `ctypes.util.find_library` even on Linux) and asks each for its priority,
which for the Secret Service means a D-Bus round trip. That is about 40 ms of every command. Where the
user made no choice, rcauth remembers the backend discovery chose, in the state directory, keyed by
keyring's version and location (and where keyring looks for its config file), and instantiates that
class directly next time. A remembered backend that fails is the keyring failing (exit 6), never a
reason to look elsewhere: the sessions rcauth stored are in it. One that can no longer be made (its
package gone) is forgotten and discovered again, as is one whose key (keyring's version or location)
no longer holds.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from rcauth.errors import ConfigError, KeyringUnreachable

log = logging.getLogger(__name__)

RECORD_NAME = "keyring-backend.json"
SECRET_SERVICE = "keyring.backends.SecretService.Keyring"  # noqa: S105 - a class name, not a secret
# The reasons `choose` gives; `rcauth doctor` shows them.
FROM_ENV = "user's choice (PYTHON_KEYRING_BACKEND)"
FROM_CONFIG = "user's choice (keyring's config file {path})"
REMEMBERED_PREFIX = "remembered"
REMEMBERED = REMEMBERED_PREFIX + " ({path})"
DISCOVERED = "discovered (keyring's discovery)"
# Never remembered: they mean "no keyring", and one may appear later (a daemon started, a login).
_NOT_REMEMBERED = ("keyring.backends.fail.", "keyring.backends.null.")
# Backends that keep what they are given as it is (keyrings.alt's write it base64-encoded, which is
# no protection) in a file any process of the account, and every backup of the home directory, can
# read. keyring's discovery falls back to them where no real keyring answers (a Linux box without a
# Secret Service, a container), so a session must not go there unless the user chose it.
# keyrings.alt's encrypted file backends (`EncryptedKeyring`, a password the user types; the
# Windows one, the user's logon credentials) are not on this list: they are what their user set up.
PLAINTEXT_BACKENDS = frozenset({"keyrings.alt.file.PlaintextKeyring", "keyrings.alt.pyfs.PlaintextKeyring"})
# keyrings.alt's file backends name their encryption in `scheme`; the plain one says this.
_PLAINTEXT_SCHEME = "no encryption"
NULL_BACKEND = "keyring.backends.null.Keyring"
CHAINER = "keyring.backends.chainer.ChainerBackend"


def backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def users_choice(reason: str) -> bool:
    """`reason` (from `choose`) says the user chose the backend, rather than rcauth or keyring. A
    keyringrc.cfg that names none (only `keyring-path`, say) leaves the choice to keyring's discovery,
    as keyring itself reads it: that is no choice of the user's."""
    if reason.startswith(FROM_CONFIG.partition("{")[0]):
        return _config_names_a_backend()
    return reason.startswith("user's choice")


def _config_names_a_backend() -> bool:
    """keyring's config file sets `default-keyring` in `[backend]` (keyring's `core.load_config`)."""
    import configparser

    config = configparser.RawConfigParser()
    try:
        config.read(keyring_config_path(), encoding="utf-8")
        return bool(config.get("backend", "default-keyring", fallback="").strip())
    except (configparser.Error, OSError, UnicodeDecodeError):
        return False


def _is_a(backend: object, names: frozenset[str] | set[str]) -> bool:
    """`backend`'s class, or one it derives from, is one of `names` ("module.Class")."""
    return any(f"{cls.__module__}.{cls.__qualname__}" in names for cls in type(backend).__mro__)


def _chained(backend: object) -> list[object] | None:
    """The backends keyring's chainer passes each call to, in its order (the first one that takes a
    write keeps it); None when `backend` is no chainer. Read through the chainer's public `backends`."""
    if not _is_a(backend, {CHAINER}):
        return None
    return list(getattr(backend, "backends", None) or [])


def plaintext(backend: object) -> str | None:
    """The backend ("module.Class") that would keep a session written to `backend` in plain text, or
    None when it would not: `backend` itself (keyrings.alt's plain file backends, or any of its file
    backends whose `scheme` says "no encryption"), or, for keyring's chainer, the first backend it
    chains (the one its writes go to)."""
    members = _chained(backend)
    if members is not None:
        first = plaintext(members[0]) if members else None
        return f"{first} (through keyring's chainer)" if first else None
    if _is_a(backend, PLAINTEXT_BACKENDS):
        return backend_name(backend)
    module = type(backend).__module__
    if module.startswith("keyrings.alt.") and getattr(backend, "scheme", None) == _PLAINTEXT_SCHEME:
        return backend_name(backend)
    return None


def keeps_nothing(backend: object) -> bool:
    """A write to `backend` is silently dropped: keyring's null backend (what `keyring --disable`
    configures), or a chainer with nothing to chain. A session "stored" there would be lost at once,
    and its grant left live at RingCentral: it counts as no keyring at all."""
    members = _chained(backend)
    return _is_a(backend, {NULL_BACKEND}) or (members is not None and not members)


def keyring_config_path() -> Path:
    """Where keyring looks for `keyringrc.cfg` (`keyring.util.platform_.config_root()`, as keyring
    documents it): %LOCALAPPDATA% (else %ProgramData%) `/Python Keyring` on Windows;
    `$XDG_CONFIG_HOME` (else ~/.config) `/python_keyring` elsewhere, macOS included. Mirrored, not
    imported: importing any part of keyring imports its core. The remembered record holds keyring's
    own answer (`_keyrings_config_path`), so a difference only makes rcauth discover again, never
    miss the user's file."""
    if sys.platform == "win32":
        root = Path(os.environ.get("LOCALAPPDATA", os.environ.get("ProgramData", "."))) / "Python Keyring"
    else:
        root = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config", "python_keyring")
    return root / "keyringrc.cfg"


def _keyrings_config_path() -> Path:
    """keyring's own answer to `keyring_config_path`, through its documented `config_root()`."""
    import keyring.util.platform_

    return Path(keyring.util.platform_.config_root()) / "keyringrc.cfg"


def user_choice() -> str | None:
    """The choice the user made, if any, in keyring's own order; found without importing keyring."""
    if "PYTHON_KEYRING_BACKEND" in os.environ:  # keyring reads os.environ[...]: even empty is a choice
        return FROM_ENV
    path = keyring_config_path()
    if path.exists():
        return FROM_CONFIG.format(path=path)
    return None


def keyring_properties_set() -> bool:
    """A `KEYRING_PROPERTY_*` variable is set: keyring applies it to every backend it makes (a
    Secret Service's `preferred_collection`, its attribute `scheme`), so only keyring reads then."""
    return any("KEYRING_PROPERTY_" in name for name in os.environ)


def _keyring_identity() -> tuple[str, str] | None:
    """keyring's version and location, from its `.dist-info` beside it, without importing it (a
    metadata scan costs more than what remembering saves). None when it cannot be told."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("keyring")
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if len(locations) != 1:
        return None
    package = Path(locations[0])
    try:
        versions = [
            entry.name[len("keyring-") : -len(".dist-info")]
            for entry in os.scandir(package.parent)
            if entry.name.startswith("keyring-") and entry.name.endswith(".dist-info")
        ]
    except OSError:
        return None
    return (versions[0], str(package)) if len(versions) == 1 else None


def _record_path() -> Path:
    from rcauth.config import state_dir

    return state_dir() / RECORD_NAME


def _key() -> dict[str, str] | None:
    identity = _keyring_identity()
    if identity is None:
        return None
    return {"keyring": identity[0], "keyring_path": identity[1], "config": str(keyring_config_path())}


def remembered() -> str | None:
    """The remembered backend ("module.Class"), if the record is there and its key still holds."""
    try:
        data = json.loads(_record_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    key = _key()
    if key is None or not isinstance(data, dict) or any(data.get(k) != v for k, v in key.items()):
        return None
    backend = data.get("backend")
    return backend if isinstance(backend, str) and "." in backend else None


def remember(backend: object) -> None:
    """Best effort: a state directory that cannot be written costs the next command a discovery."""
    name = backend_name(backend)
    key = _key()
    if key is None or name.startswith(_NOT_REMEMBERED):
        return
    try:
        key["config"] = str(_keyrings_config_path())
    except (ImportError, AttributeError, RuntimeError):  # RuntimeError: keyring 24's old-location check
        pass
    record: dict[str, object] = {**key, "backend": name}
    members = _chained(backend)
    if members is not None:
        record["chain"] = [backend_name(m) for m in members]
    path = _record_path()
    try:
        from rcauth.files import write_atomically

        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomically(path, json.dumps(record, indent=1))
    except OSError as exc:
        log.debug("could not remember the keyring backend in %s: %s", path, exc)


def missing_members(backend: object) -> list[str]:
    """The backends ("module.Class") a remembered chainer chained when it was remembered and chains no
    more: keyring leaves out a backend that is not viable now (a Secret Service without its D-Bus),
    so the session it took is out of reach, and the chain's "no such entry" is no answer about it."""
    members = _chained(backend)
    if members is None:
        return []
    try:
        chain = json.loads(_record_path().read_text(encoding="utf-8")).get("chain")
    except (OSError, ValueError, AttributeError):
        return []
    if not isinstance(chain, list):
        return []
    now = {backend_name(m) for m in members}
    return [name for name in chain if isinstance(name, str) and name not in now]


def forget() -> None:
    try:
        _record_path().unlink()
    except OSError:
        pass


def _instantiate(name: str) -> KeyringBackend:
    """The class `name`, made directly: no priority check (for the Secret Service a D-Bus round trip;
    a backend that no longer works fails on use instead, and is reported then). Not
    `keyring.core.load_keyring`, which asks the class for its priority first."""
    import importlib

    module, _, cls = name.rpartition(".")
    backend: KeyringBackend = getattr(importlib.import_module(module), cls)()
    return backend


def discover() -> KeyringBackend:
    """keyring's discovery, as on its first use where nothing is configured: the viable backend of
    highest priority among those keyring ships and its plugins register, else keyring's `fail`
    backend. Put together from keyring's public parts (`backend.get_all_keyring`,
    `backend.by_priority`) because its own entry point, `core.init_backend`, sets the backend of the
    whole process; tests/test_keyring_choice.py checks the two agree on the locked keyring and on the
    lowest one `pyproject.toml` allows."""
    import keyring.backend
    from keyring.backends import fail

    return max(keyring.backend.get_all_keyring(), default=fail.Keyring(), key=keyring.backend.by_priority)


def _configured() -> KeyringBackend | None:
    """The backend keyring's config file names, made as keyring makes it (`core.load_keyring`);
    None where it names none (keyring's discovery then chooses). The file is read here as keyring's
    `core.load_config` reads it, rather than through it: `load_config` puts the file's
    `keyring-path` on `sys.path` again at every call, and rcauth chooses once per store, not once per
    process. The path is put there once, as keyring itself does on its first use: the backend named
    (or a plugin discovery finds) may live there."""
    import configparser

    import keyring.core

    config = configparser.RawConfigParser()
    config.read(keyring_config_path(), encoding="utf-8")
    extra = os.path.expanduser(config.get("backend", "keyring-path", fallback="").strip())
    if extra and extra not in sys.path:
        sys.path.insert(0, extra)
    name = config.get("backend", "default-keyring", fallback="").strip()
    return keyring.core.load_keyring(name) if name else None


def _users_backend(reason: str) -> KeyringBackend:
    """The backend the user's choice (`user_choice`'s `reason`) names, or keyring's discovery where
    their config file names none."""
    import keyring.core

    try:
        backend = keyring.core.load_env() if reason == FROM_ENV else _configured()
    except (ImportError, AttributeError, ValueError) as exc:  # no such module or class, or no name
        raise _unloadable(reason, exc) from None
    except Exception as exc:  # noqa: BLE001 - its priority check: not viable here and now
        raise _not_viable(reason, exc) from None
    return backend if backend is not None else discover()


def _not_viable(reason: str, exc: Exception) -> KeyringUnreachable:
    """The backend the user named exists but says it cannot work here now (keyring asks its
    priority first: a Secret Service without `DBUS_SESSION_BUS_ADDRESS`): the keyring unreachable,
    as if it had failed on use, and keyring's reason said."""
    from rcauth.errors import KeyringUnreachable

    named = os.environ.get("PYTHON_KEYRING_BACKEND", "") if reason == FROM_ENV else "named by keyringrc.cfg"
    said = " ".join(str(exc).split())[:200] or type(exc).__name__
    return KeyringUnreachable(
        f"the keyring backend {named} is not available here: {said}",
        hint="start or unlock that keyring and try again, or name another with PYTHON_KEYRING_BACKEND",
    )


def _unloadable(reason: str, exc: Exception) -> ConfigError:
    """The user named a backend that does not load (misspelled, not installed, empty): their setting
    to fix, not a keyring that failed, nor one to replace with a file (`--insecure-storage`)."""
    from rcauth.errors import ConfigError

    if reason == FROM_ENV:
        named = os.environ.get("PYTHON_KEYRING_BACKEND", "")
        where, fix = "PYTHON_KEYRING_BACKEND", "fix or unset PYTHON_KEYRING_BACKEND"
    else:
        named, where = "", str(keyring_config_path())
        fix = f"fix default-keyring in {where}"
    if named:
        message = f"the keyring backend {named!r} named by {where} cannot be loaded ({type(exc).__name__})"
    elif reason == FROM_ENV:
        message = "PYTHON_KEYRING_BACKEND is set but empty: it names no keyring backend"
    else:
        message = f"{where} names a keyring backend that cannot be loaded ({type(exc).__name__})"
    return ConfigError(
        message,
        hint=f"{fix} (`python3 -m keyring --list-backends` lists the backends installed)",
    )


def choose() -> tuple[KeyringBackend, str]:
    """The backend to use, and why (one of the reasons above): a new instance, rcauth's own."""
    reason = user_choice()
    if reason is not None:
        return _users_backend(reason), reason
    name = remembered()
    if name is not None:
        try:
            return _instantiate(name), REMEMBERED.format(path=_record_path())
        except Exception as exc:  # noqa: BLE001 - gone, renamed, broken: discover again
            log.debug("the remembered keyring backend %s cannot be made: %s", name, exc)
            forget()
    return discover(), DISCOVERED


def fast_path_backend() -> str | None:
    """The backend whose entries rcauth may read without keyring (`rcauth.secret_service`): the
    Secret Service, when keyring would use it with its defaults, i.e. named by PYTHON_KEYRING_BACKEND
    or remembered, and no KEYRING_PROPERTY_* changes where or how it looks."""
    if keyring_properties_set():
        return None
    if "PYTHON_KEYRING_BACKEND" in os.environ:
        return SECRET_SERVICE if os.environ["PYTHON_KEYRING_BACKEND"] == SECRET_SERVICE else None
    if keyring_config_path().exists():
        return None
    return SECRET_SERVICE if remembered() == SECRET_SERVICE else None
