"""Where settings come from, in precedence order, and where rcauth keeps its files.

Order for each setting: command-line flag > environment > `--env-file` (a RingCentral quick-start
`.env`) > the TOML config file in the user config dir > built-in default.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from rcauth.errors import ConfigError, InvalidProfileName
from rcauth.redact import has_credentials, mask_credentials

DEFAULT_SERVER = "https://platform.ringcentral.com"
# The redirect URI RingCentral's quick start registers for a "Web server" app.
DEFAULT_REDIRECT_URI = "http://localhost:5000/oauth2callback"
DEFAULT_PROFILE = "default"
# A profile name becomes a keyring entry and part of file names in rcauth's directories: ASCII letters,
# digits, `.`, `_` and `-`, no leading dot (no hidden file, no `..`), at most 64 characters.
_PROFILE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")

ANSWER_WITHIN = 120.0  # seconds for a whole HTTP answer, its body included (RCAUTH_TIMEOUT overrides)
# The longest wait any setting may ask for: a day. Timers refuse more than the platform's time_t holds
# (`threading.TIMEOUT_MAX`), and no answer or keyring call worth waiting for takes longer.
LONGEST_WAIT = 86400.0


class ConfigKey:
    """A key of `config.toml`. `CONFIG_KEYS` lists every one rcauth reads; the file is checked against
    it, and the documentation's table is generated from it (scripts/docs_reference.py).

    A plain class with slots, as `EnvVar`: the tables are built at every start, `rcauth --help`'s too,
    and a NamedTuple or dataclass would cost ten times as much to define."""

    __slots__ = ("key", "meaning", "default", "setting")

    def __init__(self, key: str, meaning: str, default: str | None = None, *, setting: bool = True) -> None:
        self.key = key
        self.meaning = meaning
        self.default = default
        # A setting: accepted at the top level and in a `[profiles.NAME]` table (which wins for that
        # profile), and given by a flag and environment variables too. Not one: the top level only.
        self.setting = setting


class EnvVar:
    """An environment variable that changes what rcauth does. `ENVIRONMENT` lists every one: the code
    takes the names it reads from these entries, a test fails on a name read that is not listed, and
    the documentation's table is generated from it (scripts/docs_reference.py)."""

    __slots__ = ("name", "meaning", "setting", "defined_by")

    def __init__(
        self, name: str, meaning: str, setting: str | None = None, defined_by: str = "rcauth"
    ) -> None:
        self.name = name
        self.meaning = meaning
        # The `config.toml` key it gives a value for; the variables of one key are read in the order
        # listed.
        self.setting = setting
        # Who named it, when not rcauth: the program or library that reads it too, or defined it first.
        self.defined_by = defined_by

    def __repr__(self) -> str:
        return f"EnvVar({self.name!r})"


CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("client_id", "The RingCentral app's client id (required to sign in)."),
    ConfigKey(
        "client_secret",
        'The app\'s client secret; left unset for a public ("Client-side") app, which signs in with '
        "PKCE alone.",
    ),
    ConfigKey(
        "server",
        "The RingCentral server: `https://`, except on a loopback address (the emulator), and just "
        "`scheme://host[:port]`.",
        DEFAULT_SERVER,
    ),
    ConfigKey(
        "redirect_uri",
        "The loopback redirect URI registered for the app: `http://` on a loopback host, with an "
        "explicit port and a path.",
        DEFAULT_REDIRECT_URI,
    ),
    ConfigKey(
        "media_server",
        "The media host the session's token may also go to (call recordings). Production's is known "
        "and needs none; for another server there is none unless given. Recorded in the session at "
        "login.",
    ),
    ConfigKey(
        "default_profile",
        "The profile commands use when neither `--profile` nor `RCAUTH_PROFILE` names one; it wins "
        "over the one `rcauth profiles use` chose.",
        DEFAULT_PROFILE,
        setting=False,
    ),
    ConfigKey(
        "profiles",
        "Tables `[profiles.NAME]`, each holding settings for the profile NAME, which win over the top "
        "level's for it.",
        setting=False,
    ),
)
FIELDS = tuple(k.key for k in CONFIG_KEYS if k.setting)

_TEMPLATE = "RingCentral's `.env` template"
PROFILE_VAR = EnvVar(
    "RCAUTH_PROFILE", "The profile to use when `--profile` is not given (as if given, for every command)."
)
ENV_FILE_VAR = EnvVar(
    "RCAUTH_ENV_FILE",
    "A `.env` file to read the `RC_*` settings from (`--env-file`), as RingCentral's quick start writes it.",
)
INSECURE_STORAGE_VAR = EnvVar(
    "RCAUTH_INSECURE_STORAGE",
    "`1` (or `true`, `yes`, `on`): where no keyring works, keep the session in a 0600 file in the user "
    "data directory (`--insecure-storage`).",
)
TIMEOUT_VAR = EnvVar(
    "RCAUTH_TIMEOUT",
    f"Seconds an HTTP answer may take, from the request to its last byte (default {ANSWER_WITHIN:g}; "
    f"at most {LONGEST_WAIT:g}).",
)
KEYRING_TIMEOUT_VAR = EnvVar(
    "RCAUTH_KEYRING_TIMEOUT",
    f"Seconds a keyring call may take before the keyring is reported as not answering (default 20; at "
    f"most {LONGEST_WAIT:g}).",
)
CONFIG_DIR_VAR = EnvVar(
    "RCAUTH_CONFIG_DIR", "The directory of `config.toml`, in place of the platform's user config directory."
)
STATE_DIR_VAR = EnvVar(
    "RCAUTH_STATE_DIR",
    "The directory of rcauth's state (lock files, the profile list, the default profile, the remembered "
    "keyring backend; no secret), in place of the platform's user state directory.",
)
DATA_DIR_VAR = EnvVar(
    "RCAUTH_DATA_DIR",
    "The directory of the `--insecure-storage` session file, in place of the platform's user data directory.",
)
JWT_VAR = EnvVar(
    "RC_JWT",
    "The JWT credential for `rcauth login --jwt` when no `--jwt-file` is given; read from the `--env-file` "
    "too.",
    defined_by=_TEMPLATE,
)
SSL_CERT_FILE_VAR = EnvVar(
    "SSL_CERT_FILE",
    "A CA bundle to verify servers with, in place of the operating system's trust store (checked after "
    "`REQUESTS_CA_BUNDLE` and `CURL_CA_BUNDLE`), on every operating system.",
    defined_by="OpenSSL",
)
REQUESTS_CA_BUNDLE_VAR = EnvVar(
    "REQUESTS_CA_BUNDLE",
    "A CA bundle to verify servers with, in place of the operating system's trust store.",
    defined_by="requests",
)
CURL_CA_BUNDLE_VAR = EnvVar(
    "CURL_CA_BUNDLE", "As `REQUESTS_CA_BUNDLE`, when that is not set.", defined_by="requests"
)
BROWSER_VAR = EnvVar(
    "BROWSER",
    "The browser `rcauth login` opens the sign-in page with; on Linux, set, a browser is tried even "
    "without a display.",
    defined_by="Python's webbrowser",
)
DISPLAY_VAR = EnvVar(
    "DISPLAY",
    "On Linux, an X display: a browser is tried. With none of `BROWSER`, `DISPLAY` and "
    "`WAYLAND_DISPLAY` set (and not under WSL), `login` opens none and prints the URL to open elsewhere.",
    defined_by="X11",
)
WAYLAND_DISPLAY_VAR = EnvVar("WAYLAND_DISPLAY", "As `DISPLAY`, for Wayland.", defined_by="Wayland")
WSL_DISTRO_NAME_VAR = EnvVar(
    "WSL_DISTRO_NAME",
    "Set: running under the Windows Subsystem for Linux, where the browser is opened on the Windows side.",
    defined_by="WSL",
)
WSL_INTEROP_VAR = EnvVar("WSL_INTEROP", "As `WSL_DISTRO_NAME`.", defined_by="WSL")
PYTHON_KEYRING_BACKEND_VAR = EnvVar(
    "PYTHON_KEYRING_BACKEND",
    "The keyring backend to keep sessions in (a class, e.g. `keyring.backends.SecretService.Keyring`), "
    "in place of the one keyring's discovery would choose and rcauth remembers.",
    defined_by="keyring",
)

ENVIRONMENT: tuple[EnvVar, ...] = (
    # The settings, first match wins for each: RingCentral's current `.env` template, then its older
    # names; RC_MEDIA_URL is rcauth's own (the template has no media server), named in its style.
    EnvVar("RC_APP_CLIENT_ID", "The app's client id.", "client_id", _TEMPLATE),
    EnvVar("RC_CLIENT_ID", "The older name of `RC_APP_CLIENT_ID`, read after it.", "client_id", _TEMPLATE),
    EnvVar("RC_APP_CLIENT_SECRET", "The app's client secret.", "client_secret", _TEMPLATE),
    EnvVar(
        "RC_CLIENT_SECRET",
        "The older name of `RC_APP_CLIENT_SECRET`, read after it.",
        "client_secret",
        _TEMPLATE,
    ),
    EnvVar("RC_SERVER_URL", "The RingCentral server.", "server", _TEMPLATE),
    EnvVar("RC_REDIRECT_URL", "The loopback redirect URI registered for the app.", "redirect_uri", _TEMPLATE),
    EnvVar("RC_MEDIA_URL", "The media host the session's token may also go to.", "media_server"),
    JWT_VAR,
    PROFILE_VAR,
    ENV_FILE_VAR,
    INSECURE_STORAGE_VAR,
    TIMEOUT_VAR,
    KEYRING_TIMEOUT_VAR,
    CONFIG_DIR_VAR,
    STATE_DIR_VAR,
    DATA_DIR_VAR,
    REQUESTS_CA_BUNDLE_VAR,
    CURL_CA_BUNDLE_VAR,
    SSL_CERT_FILE_VAR,
    EnvVar(
        "HTTPS_PROXY",
        "The proxy for https URLs, e.g. `http://proxy.example:3128` (`https_proxy` too).",
        defined_by="requests",
    ),
    EnvVar("HTTP_PROXY", "The proxy for http URLs (`http_proxy` too).", defined_by="requests"),
    EnvVar(
        "ALL_PROXY",
        "The proxy for URLs no scheme-specific variable covers (`all_proxy` too).",
        defined_by="requests",
    ),
    EnvVar(
        "NO_PROXY", "Hosts to reach directly, not through a proxy (`no_proxy` too).", defined_by="requests"
    ),
    PYTHON_KEYRING_BACKEND_VAR,
    EnvVar(
        "KEYRING_PROPERTY_*",
        "Properties of the keyring backend, set by keyring from these names; with any set, rcauth leaves "
        "every read to keyring (no direct Secret Service read).",
        defined_by="keyring",
    ),
    EnvVar(
        "XDG_CONFIG_HOME",
        "On Linux, the user config directory: rcauth's (`rcauth/config.toml` in it) and keyring's "
        "(`python_keyring/keyringrc.cfg`).",
        defined_by="XDG (platformdirs, keyring)",
    ),
    EnvVar(
        "XDG_STATE_HOME",
        "On Linux, the user state directory (`rcauth/` in it).",
        defined_by="XDG (platformdirs)",
    ),
    EnvVar(
        "XDG_DATA_HOME",
        "On Linux, the user data directory (`rcauth/` in it).",
        defined_by="XDG (platformdirs)",
    ),
    EnvVar(
        "LOCALAPPDATA",
        "On Windows, where keyring's config file `keyringrc.cfg` is looked for (`Python Keyring` in it).",
        defined_by="Windows (keyring)",
    ),
    EnvVar(
        "ProgramData", "On Windows, as `LOCALAPPDATA`, when that is not set.", defined_by="Windows (keyring)"
    ),
    BROWSER_VAR,
    DISPLAY_VAR,
    WAYLAND_DISPLAY_VAR,
    WSL_DISTRO_NAME_VAR,
    WSL_INTEROP_VAR,
    EnvVar("NO_COLOR", "Set: no colour in tables and listings.", defined_by="rich (no-color.org)"),
)

# The environment's names for each setting, first match wins.
ENV_NAMES: dict[str, tuple[str, ...]] = {
    key: tuple(var.name for var in ENVIRONMENT if var.setting == key) for key in FIELDS
}


def answer_budget(default: float = ANSWER_WITHIN) -> float:
    """`RCAUTH_TIMEOUT` seconds if it is a positive number, else `default`: the most one answer may take
    from its send to its last byte (at most `LONGEST_WAIT`). Read when it is needed, not at import: a
    script may set it later."""
    return seconds_from_env(TIMEOUT_VAR.name, default)


def seconds_from_env(name: str, default: float) -> float:
    """The environment's `name` as a positive number of seconds, at most `LONGEST_WAIT`; else `default`."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return min(value, LONGEST_WAIT) if 0 < value < float("inf") else default


def check_profile_name(name: str) -> str:
    """The one rule for profile names, checked where a name comes in (the command line) and again
    where one is used to name storage (`store.open_store`, `store.refresh_lock`): a name such as
    `../../x` or `a/b` would otherwise put a lock file outside the state dir or fail after sign-in."""
    if not isinstance(name, str) or not _PROFILE_NAME.fullmatch(name):
        raise InvalidProfileName(
            f"{str(name)[:80]!r} is not a valid profile name: use 1 to 64 letters, digits, '.', '_' "
            "or '-', not starting with '.'"
        )
    return name


def _platform_dir(kind: str, override_env: str) -> Path:
    override = os.environ.get(override_env)
    if override:
        return Path(override)
    import platformdirs  # deferred: only commands that touch files pay for it

    return Path(getattr(platformdirs, f"user_{kind}_dir")("rcauth", appauthor=False))


def config_dir() -> Path:
    """The directory of `config.toml`: `$RCAUTH_CONFIG_DIR`, else the platform's user config dir."""
    return _platform_dir("config", CONFIG_DIR_VAR.name)


def state_dir() -> Path:
    """Lock files live here (never a secret): `$RCAUTH_STATE_DIR`, else the platform's user state dir."""
    return _platform_dir("state", STATE_DIR_VAR.name)


def data_dir() -> Path:
    """The opt-in session file lives here: `$RCAUTH_DATA_DIR`, else the platform's user data dir."""
    return _platform_dir("data", DATA_DIR_VAR.name)


@dataclass(frozen=True)
class Settings:
    """What `login` needs to reach RingCentral as a given app."""

    client_id: str
    client_secret: str | None
    server: str
    redirect_uri: str
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    # The media origin the session's token may also go to (`rcauth.origin.TokenOrigins`): as
    # configured, else the one RingCentral pairs with the server, else None.
    media_server: str | None = None


def is_loopback_host(host: str | None) -> bool:
    """True for `localhost` and any loopback literal (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_server(url: str, what: str = "server URL") -> str:
    """Validate a server URL: https, except on a loopback address (the emulator). `what` names it in
    the error (the media server's URL is held to the same rule)."""
    url = url.strip().rstrip("/")
    if has_credentials(url):
        # requests would send it as Basic credentials, and every message naming the server would show
        # the password; RingCentral's server URLs never carry one.
        raise ConfigError(
            f"{what} {mask_credentials(url)!r} carries a user name or password: give just scheme://host[:port]"
        )
    try:
        parts = urlsplit(url)
        if parts.port == 0:  # urlsplit checks the port only when asked; 0 is no port to connect to
            raise ValueError("port 0")
    except ValueError:
        raise ConfigError(f"{what} {url!r} has an invalid host or port") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"{what} {url!r} is not an http(s) URL", hint="e.g. --server https://platform.ringcentral.com"
        )
    if not _host_name_ok(parts.hostname):
        raise ConfigError(f"{what} {url!r} has an invalid host or port")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(f"{what} {url!r} must use https (plain http is allowed only on a loopback address)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"{what} {url!r} must be just scheme://host[:port]")
    return f"{parts.scheme}://{parts.netloc}"


def media_server_for(server: str, configured: str | None) -> str | None:
    """The media origin a session on `server` (already normalised) may send its token to: `configured`
    (validated as a server URL is) or, without one (or where it is the server itself), the one
    RingCentral pairs with the server (`rcauth.origin.PAIRED_MEDIA`), else None. A configured one
    that contradicts the pairing is a `ConfigError`: production's token goes to production's media
    host and no other."""
    from rcauth.origin import media_mismatch, paired_media, same_origin

    paired = paired_media(server)
    if not configured:
        return paired
    media = normalize_server(configured, "media server URL")
    if (why := media_mismatch(server, media)) is not None:
        raise ConfigError(why, hint="leave the media server unset for this server: rcauth knows its pair")
    # The pair as RingCentral spells it; the server's own origin as its media server adds nothing.
    return paired if paired is not None or same_origin(media, server) else media


def _host_name_ok(host: str) -> bool:
    """A host a connection can be made to: an IP literal, or dot-separated labels of letters, digits,
    `-` and `_`, none empty (`a..b` and `ho st` would pass urlsplit and fail later, as a network error)."""
    if ":" in host:  # an IPv6 literal (urlsplit took the brackets off)
        return True
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return len(host) <= 253 and all(
        0 < len(label) <= 63
        and all(c.isalnum() or c in "-_" for c in label)
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    )


def validate_redirect_uri(uri: str) -> str:
    """RFC 8252 §7.3: a loopback redirect is `http://` on a loopback host with an explicit port."""
    parts = urlsplit(uri.strip())
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"redirect URI {uri!r} has an invalid port") from exc
    if parts.scheme != "http" or not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"redirect URI {uri!r} must be http:// on localhost or a loopback address "
            "(rcauth receives the code on this machine)"
        )
    if port is None:
        raise ConfigError(
            f"redirect URI {uri!r} needs an explicit port, e.g. http://localhost:5000/oauth2callback"
        )
    if not parts.path or parts.path == "/":
        raise ConfigError(f"redirect URI {uri!r} needs a path, e.g. /oauth2callback")
    return uri.strip()


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a `.env` file as RingCentral's samples write it (python-dotenv syntax)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"env file {str(path)!r} not found")
    from dotenv import dotenv_values

    try:
        # utf-8-sig: a leading byte-order mark (Windows Notepad) is dropped here, not left to dotenv
        # (python-dotenv 1.0.0, the lowest allowed, keeps it in the first key).
        values = dotenv_values(path, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"env file {str(path)!r} is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the env file {str(path)!r}: {exc.strerror or exc}") from None
    return {k: v for k, v in values.items() if v is not None}


def _parse_toml(path: Path) -> dict[str, object]:
    """The config file's TOML; an unreadable or invalid one is a `ConfigError`. A UTF-8 byte-order
    mark at its start is accepted (Windows Notepad writes one; TOML forbids it)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {str(path)!r}: {exc.strerror or exc}") from exc


def read_config_file(path: Path, profile: str = DEFAULT_PROFILE) -> dict[str, str]:
    """Read `config.toml`: top-level keys, overridden by a `[profiles.NAME]` table for the profile."""
    if not path.is_file():
        return {}
    data = _parse_toml(path)
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise _wrong_type(path, "profiles", profiles, "a table ([profiles.NAME] sections)")
    for name, section in profiles.items():
        if not isinstance(section, dict):
            raise _wrong_type(path, f"profiles.{name}", section, f"a table ([profiles.{name}])")
    values = _settings_in(path, data, "")
    # Every profile's settings are checked, not only this one's: a mistake is found when it is made.
    sections = {name: _settings_in(path, section, f"profiles.{name}.") for name, section in profiles.items()}
    values.update(sections.get(profile, {}))
    return values


def config_file_path() -> Path:
    return config_dir() / "config.toml"


def default_profile(path: Path | None = None) -> str | None:
    """The default profile the user wrote into `config.toml` (`default_profile = "NAME"` at its top),
    or None. `--profile` and `RCAUTH_PROFILE` win over it; it wins over the profile `rcauth profiles
    use` chose (`rcauth.profiles.chosen_default`): rcauth never overrides what the user wrote."""
    path = path if path is not None else config_file_path()
    if not path.is_file():
        return None
    value = _parse_toml(path).get("default_profile")
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong_type(path, "default_profile", value, 'a string in quotes (default_profile = "...")')
    try:
        return check_profile_name(value)
    except InvalidProfileName as exc:
        raise ConfigError(f"config file {str(path)!r}: default_profile: {exc.message}") from None


def read_default_profile(path: Path | None = None) -> tuple[str | None, ConfigError | None]:
    """`default_profile` for a command that needs nothing else of the config file (every command but
    `login`): the profile, and the problem with the file if it has one.

    A file that is not valid TOML (a typo in an unrelated setting, a half-saved edit) must not keep
    `logout` or `status` from working on the session they find: the default is read from what can be
    read, the `default_profile = "..."` line before any table, and the problem is returned for the
    caller to mention. Raises the `ConfigError` only when the file names a default that cannot be read
    (a broken line, a value that is no profile name): acting on another profile than the user's
    default, logging it out, would be worse than stopping.
    """
    path = path if path is not None else config_file_path()
    try:
        return default_profile(path), None
    except ConfigError as exc:
        problem = exc
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        raise problem from None
    header = re.search(_TABLE_HEADER, text)
    head = text[: header.start()] if header else text
    match = re.search(_DEFAULT_PROFILE_VALUE, head)
    if match is None:
        if "default_profile" in text:
            raise problem
        return None, problem
    try:
        return check_profile_name(match.group(1)[1:-1]), problem
    except InvalidProfileName:
        raise problem from None


# `default_profile = "..."` (or '...') on a line of its own, and the first table's header: what
# `read_default_profile` reads of a file TOML cannot parse. Patterns as text, compiled when first used
# (`re` caches them): only a broken config file needs them.
_DEFAULT_PROFILE_VALUE = r"(?m)^[ \t]*default_profile[ \t]*=[ \t]*(\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*')"
_TABLE_HEADER = r"(?m)^[ \t]*\["


def _settings_in(path: Path, table: Mapping[str, object], prefix: str) -> dict[str, str]:
    """The settings a TOML table holds: each must be a string. `client_secret = true` would
    otherwise be sent as "True", and `server = 42` checked as the URL "42"."""
    values: dict[str, str] = {}
    for key, value in table.items():
        if key in FIELDS:
            if not isinstance(value, str):
                raise _wrong_type(path, prefix + key, value, f'a string in quotes ({key} = "...")')
            values[key] = value
    return values


# TOML's types as tomllib returns them (bool before int: a bool is an int); the rest are dates/times.
_TOML_TYPES = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
)


def _wrong_type(path: Path, key: str, value: object, expected: str) -> ConfigError:
    # Names the TOML type, never the value: it may be a client secret.
    kind = next((name for cls, name in _TOML_TYPES if isinstance(value, cls)), "a date or time")
    return ConfigError(f"config file {str(path)!r}: {key} must be {expected}, not {kind}")


def resolve(
    flags: Mapping[str, str | None],
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | os.PathLike[str] | None = None,
    config_file: Path | None = None,
    profile: str = DEFAULT_PROFILE,
) -> Settings:
    """Build `Settings` from every source, first source wins per field; raise `ConfigError` if unusable."""
    environ = os.environ if environ is None else environ
    dotenv = read_env_file(env_file) if env_file else {}
    config_file = config_file if config_file is not None else config_dir() / "config.toml"
    toml = read_config_file(config_file, profile)

    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for name, env_names in ENV_NAMES.items():
        candidates: list[tuple[str, str | None]] = [(f"--{name.replace('_', '-')}", flags.get(name))]
        candidates += [(f"${e}", environ.get(e)) for e in env_names]
        candidates += [(f"{env_file}:{e}", dotenv.get(e)) for e in env_names]
        candidates.append((str(config_file), toml.get(name)))
        for source, value in candidates:
            if value:
                values[name], sources[name] = value, source
                break

    if not values.get("client_id"):
        raise ConfigError(
            "no RingCentral client id: pass --client-id, set RC_APP_CLIENT_ID, "
            f"use --env-file with your app's .env, or put client_id in {config_file}"
        )
    server = normalize_server(values.get("server") or DEFAULT_SERVER)
    redirect_uri = validate_redirect_uri(values.get("redirect_uri") or DEFAULT_REDIRECT_URI)
    media_server = media_server_for(server, values.get("media_server"))
    sources.setdefault("server", "default")
    sources.setdefault("redirect_uri", "default")
    if media_server is not None:
        sources.setdefault("media_server", "RingCentral's pairing with the server")
    return Settings(
        client_id=values["client_id"],
        client_secret=values.get("client_secret") or None,
        server=server,
        redirect_uri=redirect_uri,
        sources=sources,
        media_server=media_server,
    )
