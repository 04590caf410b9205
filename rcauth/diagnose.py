"""`rcauth doctor`'s checks: what on this machine would stop a sign-in or a command, and what to do.

What trips people up with sign-in CLIs is rarely the happy path: no keyring on a headless box, port 5000
held by macOS AirPlay Receiver, a redirect URI that does not match the app's registration exactly
(RingCentral's OAU-109), a TLS-inspecting proxy, a clock that is off, a refresh token that expired after
seven idle days. Each check here returns `Check` values and changes nothing on the machine, except the
keyring probe's own test entry (written, read and deleted) and, as any command would, the state
directory and the profile's empty lock file when they are missing (the directory check). Each is
bounded in time, in total: the server's by a deadline on the whole exchange (its status and headers
only; a body is never read), keyring calls by `store`'s bounded calls, the socket scan by the size
of `/proc`.

Where a command decides (where the session goes, which directories it needs, what an unusable
keyring means with or without consent to a file), the check asks the function the command asks
(`store.open_store`, `store.check_login_dirs`): the verdict here is the commands' verdict.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from rcauth.config import BROWSER_VAR, DEFAULT_PROFILE, FIELDS, Settings
from rcauth.errors import RcauthError

if TYPE_CHECKING:
    import requests

# What the commands ask of RingCentral: whoami and status read the extension (ReadAccounts), call-log
# reads the call log (ReadCallLog); `call-log --account` reads the whole account's (FullCompanyCallLog).
NEEDED_SCOPES = ("ReadAccounts", "ReadCallLog")
ACCOUNT_SCOPE = "FullCompanyCallLog"
# Past this offset from the server's clock, expiry arithmetic and signed JWT assertions (whose `exp`
# and `iat` the server checks against its own clock) go wrong.
CLOCK_TOLERANCE = 60.0
HTTP_TIMEOUT = (5.0, 10.0)  # connect, read: a reachable server answers well within these
# The server check as a whole: a server (or a proxy) that trickles its answer a byte at a time never
# trips a per-read timeout, so the exchange runs against this deadline too.
SERVER_DEADLINE = 15.0
SECRETS = ("client_secret",)


class Status(str, Enum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


@dataclass(frozen=True)
class Check:
    """One line of the checklist: `hint` says what to do (empty when there is nothing to do), as an
    error's `hint` does; an error a check meets gives its own."""

    name: str
    status: Status
    detail: str
    hint: str = ""

    def to_json(self) -> dict[str, str]:
        # The hint's key is `advice`: `rcauth doctor --json`'s documented output (README) since it began.
        return {"name": self.name, "status": self.status.value, "detail": self.detail, "advice": self.hint}


def ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def _failed(name: str, exc: RcauthError, status: Status = Status.PROBLEM) -> Check:
    # One line: an error's message may carry outside text (a keyring's or a server's), and only the
    # checks' own details (the configuration's, one setting a line) are several lines.
    return Check(name, status, " ".join(exc.message.split()), exc.hint or "")


# -- configuration -------------------------------------------------------------------------------------
def check_configuration(
    flags: Mapping[str, str | None], *, env_file: str | None, profile: str = DEFAULT_PROFILE
) -> tuple[list[Check], Settings | None]:
    """Where each setting came from (flag, environment, `.env`, config file), secrets as set/unset only;
    returns the checks and the resolved `Settings` (None when they are unusable)."""
    from rcauth import config

    try:
        settings = config.resolve(flags, env_file=env_file, profile=profile)
    except RcauthError as exc:
        partial: Settings | None = None
        if "client id" in exc.message:
            # The other settings are still worth checking (the server, the redirect port).
            with contextlib.suppress(RcauthError):
                stand_in = {**os.environ, config.ENV_NAMES["client_id"][0]: "unset"}
                partial = config.resolve(flags, environ=stand_in, env_file=env_file, profile=profile)
        hint = exc.hint or (
            "set RC_APP_CLIENT_ID (and RC_APP_CLIENT_SECRET for a confidential app), or pass --env-file "
            "with the .env of your app from the RingCentral Developer Console"
            if "client id" in exc.message
            else "fix the setting named above"
        )
        return [Check("configuration", Status.PROBLEM, exc.message, hint)], partial
    parts = []
    for name in FIELDS:
        source = settings.sources.get(name, "unset")
        if name in SECRETS:
            value = "set" if getattr(settings, name) else "unset (a public app: PKCE only)"
        else:
            value = getattr(settings, name) or "none"
        parts.append(f"{name}={value} (from {source})" if source != "unset" else f"{name}={value}")
    return [ok("configuration", "\n".join(parts))], settings


# -- the redirect URI ------------------------------------------------------------------------------------
def check_redirect_uri(uri: str) -> Check:
    """The form (loopback, explicit port, path: RFC 8252 §7.3) and whether its port is free now.

    RingCentral matches the redirect URI exactly (OAU-109): `localhost` and `127.0.0.1` are different
    URIs to it, so the detail repeats the URI as it will be sent.
    """
    parts = urlsplit(uri)
    host = parts.hostname or ""
    port = parts.port
    form = (
        f"{uri} (loopback {host}, port {port}, path {parts.path}); "
        "it must match the app's registration exactly"
    )
    bind_host = "127.0.0.1" if host.lower() == "localhost" else host.strip("[]")
    try:
        family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            if sys.platform != "win32":  # as the login's receiver binds (rcauth.loopback)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((bind_host, port or 0))
    except OSError as exc:
        from rcauth.loopback import privileged_port

        if privileged_port(exc):  # as `login` meets it (rcauth.loopback), not "in use"
            return Check(
                "redirect URI",
                Status.PROBLEM,
                f"{form}; port {port} is one only a privileged program may listen on here (below 1024)",
                "register a redirect URI with a port from 1024 up for the app and pass "
                "--redirect-uri http://localhost:PORT/oauth2callback",
            )
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
            return Check(
                "redirect URI", Status.PROBLEM, f"{form}; cannot listen on it: {exc.strerror or exc}"
            )
        who = port_holder(port)
        detail = f"{form}; port {port} is in use" + (f" by {who}" if who else " by another program")
        hint = (
            "stop that program, or register another port for the app and pass "
            "--redirect-uri http://localhost:PORT/oauth2callback"
        )
        if port == 5000 and sys.platform == "darwin":
            hint = (
                "port 5000 on macOS is AirPlay Receiver's: turn it off in System Settings > General > "
                "AirDrop & Handoff, or " + hint
            )
        return Check("redirect URI", Status.PROBLEM, detail, hint)
    return ok("redirect URI", f"{form}; port {port} is free")


def port_holder(port: int | None) -> str | None:
    """What listens on `port`, where the OS tells: Linux's /proc (sockets of this user's processes only,
    unless run as root), AirPlay Receiver for 5000 on macOS; None when unknown."""
    if port is None:
        return None
    if sys.platform == "darwin" and port == 5000:
        return "AirPlay Receiver (ControlCenter), most likely"
    if not sys.platform.startswith("linux"):
        return None
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    for pid_dir in _proc_pids():
        try:
            fds = os.listdir(pid_dir / "fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(pid_dir / "fd" / fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                try:
                    name = (pid_dir / "comm").read_text(encoding="utf-8").strip()
                except OSError:
                    name = "?"
                return f"{name} (pid {pid_dir.name})"
    return None


def _listening_inodes(port: int) -> set[str]:
    """Inodes of sockets listening (TCP state 0A) on `port`, from /proc/net/tcp and tcp6."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rpartition(":")[2], 16) == port:
                inodes.add(fields[9])
    return inodes


def _proc_pids() -> Iterable[Path]:
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    return [Path("/proc", e) for e in entries if e.isdigit()]


# -- the server ------------------------------------------------------------------------------------------
def check_server(server: str, *, now: Callable[[], float] = time.time) -> list[Check]:
    """The proxy the environment names, whether the server answers (over TLS verified with which trust
    store), and the clock's offset from the server's `Date` header (RFC 9110 §6.6.1)."""
    import requests

    from rcauth import transport

    url = f"{server}/restapi/v1.0"
    proxy = transport.proxy_in_use(url)
    checks = [ok("proxy", f"{proxy} (from the environment)" if proxy else "none: direct connection")]
    session = transport.new_session()
    try:
        sent = now()
        response = _status_and_headers(session, url)
        answered = now()
        if response is None:
            checks.append(
                Check(
                    "server",
                    Status.PROBLEM,
                    f"{server} did not finish answering within {SERVER_DEADLINE:g} s",
                    "check the server URL (--server, RC_SERVER_URL) and this machine's network: "
                    "something on the way sends its answer too slowly to use",
                )
            )
            return checks
    except requests.RequestException as exc:
        failure = transport.failure(exc, url)
        if proxy and isinstance(exc, requests.exceptions.ProxyError):
            checks[0] = Check("proxy", Status.PROBLEM, f"{proxy} does not answer", failure.hint or "")
        server_check = _failed("server", failure)
        if not server_check.hint:
            server_check = Check(
                "server",
                Status.PROBLEM,
                server_check.detail,
                "check the server URL (--server, RC_SERVER_URL) and this machine's network",
            )
        checks.append(server_check)
        return checks
    except RcauthError as exc:  # a CA bundle that is named and missing
        checks.append(_failed("server", exc))
        return checks
    finally:
        session.close()
    checks.append(ok("server", f"{server} answers (HTTP {response.status_code}); {trust_store(server)}"))
    checks.append(clock_offset(response.headers.get("Date"), (sent + answered) / 2))
    return checks


def check_media_server(media_server: str, source: str) -> Check:
    """Whether the media host answers, over TLS verified as the server's is: recordings come from it,
    and a proxy or firewall that lets the server through may not let it through (a warning: every
    command but the downloads works without it)."""
    import requests

    from rcauth import transport

    url = f"{media_server}/restapi/v1.0"
    advice = (
        "recordings are fetched from it: check the media server (--media-server, RC_MEDIA_URL) and "
        "whether a proxy or firewall on the way lets this machine reach it"
    )
    session = transport.new_session()
    try:
        response = _status_and_headers(session, url)
    except requests.RequestException as exc:
        return Check("media server", Status.WARNING, transport.failure(exc, url).message, advice)
    except RcauthError as exc:  # a CA bundle that is named and missing
        return _failed("media server", exc, Status.WARNING)
    finally:
        session.close()
    if response is None:
        detail = f"{media_server} did not finish answering within {SERVER_DEADLINE:g} s"
        return Check("media server", Status.WARNING, detail, advice)
    detail = f"{media_server} ({source}) answers (HTTP {response.status_code}); {trust_store(media_server)}"
    return ok("media server", detail)


def _status_and_headers(session: requests.Session, url: str) -> requests.Response | None:
    """GET `url` and read its status and headers only (the body is left unread and the connection
    closed), within `SERVER_DEADLINE` in total; None when that passes first. On a daemon thread: the
    only way to bound a socket that keeps answering, a byte at a time, just inside each read timeout."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            response = session.get(url, timeout=HTTP_TIMEOUT, allow_redirects=False, stream=True)
            response.close()
            outcome["response"] = response
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="rcauth-doctor-server", daemon=True)
    thread.start()
    thread.join(SERVER_DEADLINE)
    if thread.is_alive():
        return None
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["response"]  # type: ignore[return-value]


def trust_store(server: str) -> str:
    """Whose certificates verified the server (`rcauth.transport`'s rule): a bundle the user named, else
    the operating system's trust store."""
    from rcauth import transport

    if not server.lower().startswith("https:"):
        return "plain http on loopback: no TLS"
    for name in (*transport.CA_BUNDLE_ENV, transport.CA_FILE_ENV):
        if os.environ.get(name):
            return f"TLS verified with the CA bundle {os.environ[name]} ({name})"
    return "TLS verified with the operating system's trust store"


def clock_offset(date_header: str | None, local: float) -> Check:
    """The server's `Date` against this machine's clock at the middle of the exchange (the header has
    one-second resolution, so the offset is good to about a second)."""
    from email.utils import parsedate_to_datetime

    if not date_header:
        return Check("clock", Status.WARNING, "the server sent no Date header: the clock was not compared")
    try:
        server_time = parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError):
        return Check("clock", Status.WARNING, f"the server's Date header is not a date: {date_header[:60]!r}")
    offset = server_time - local
    ahead = "ahead of" if offset < 0 else "behind"
    detail = f"this machine's clock is {abs(offset):.0f} s {ahead} the server's"
    if abs(offset) > CLOCK_TOLERANCE:
        return Check(
            "clock",
            Status.WARNING,
            detail,
            "set the clock right (turn on automatic time / NTP): token expiry and JWT assertions use it",
        )
    return ok("clock", detail)


# -- storage ---------------------------------------------------------------------------------------------
def check_storage(profile: str = DEFAULT_PROFILE, *, insecure_storage: bool = False) -> list[Check]:
    """The keyring backend and why; where a session of `profile` goes, as the commands decide it
    (`store.open_store`), with a write/read/delete probe of the keyring when that is where; the
    directories a sign-in needs (`store.check_login_dirs`, what `login` checks first); the
    insecure-storage file.

    With consent to a file (`--insecure-storage`, RCAUTH_INSECURE_STORAGE), a keyring that does not
    work is a warning, not a problem: the commands keep the session in the file, as the user chose."""
    from rcauth import keyring_choice, store

    consent = store.insecure_storage_allowed(insecure_storage)
    checks: list[Check] = []
    plaintext: str | None = None
    try:
        backend, why = store.keyring_backend_choice()
    except RcauthError as exc:  # the user named a backend that does not load
        checks.append(_failed("keyring backend", exc))
    except Exception as exc:  # noqa: BLE001 - a broken keyring install is a finding, not a crash
        checks.append(
            Check(
                "keyring backend",
                Status.PROBLEM,
                f"unknown: keyring could not load a backend ({type(exc).__name__})",
                "reinstall rcauth (its keyring and the backends keyring finds)",
            )
        )
    else:
        name = keyring_choice.backend_name(backend)
        plaintext = keyring_choice.plaintext(backend)
        checks.append(_backend_check(name, why, plaintext, consent))
    where, to_file = _where_sessions_go(profile, insecure_storage, consent)
    checks.append(where)
    checks.append(check_directories(profile, session_file=to_file))
    checks.append(check_session_file(store.FileStore(profile).path, plaintext=plaintext))
    return checks


def _backend_check(name: str, why: str, plaintext: str | None, consent: bool) -> Check:
    from rcauth import keyring_choice

    if plaintext is None:
        return ok("keyring backend", f"{name} ({why})")
    chosen = keyring_choice.users_choice(why)
    if not chosen and why.startswith("user's choice"):  # a keyringrc.cfg that names no backend
        why = f"{keyring_choice.DISCOVERED}; {keyring_choice.keyring_config_path()} names no backend"
    clear = f"{name} ({why}) keeps secrets in plain text ({plaintext}), readable by any program run as you"
    if chosen:
        return Check(
            "keyring backend",
            Status.WARNING,
            f"{clear}: your choice, so rcauth keeps sessions there",
            "name a keyring that encrypts (PYTHON_KEYRING_BACKEND, or keyring's keyringrc.cfg) to keep "
            "them safe",
        )
    return Check(
        "keyring backend",
        Status.WARNING if consent else Status.PROBLEM,
        f"{clear}: keyring chose it, not you, so rcauth keeps no session there",
        ""
        if consent
        else "name a keyring that encrypts with PYTHON_KEYRING_BACKEND, or allow rcauth's "
        "own 0600 file with --insecure-storage",
    )


def _where_sessions_go(profile: str, insecure_storage: bool, consent: bool) -> tuple[Check, bool]:
    """The store the commands open for `profile` (`store.open_store`, the same call), and for the
    keyring a write/read/delete probe of its own test entry; and whether sessions go to the file."""
    from rcauth import store

    moved = (
        "once a keyring works, `rcauth login` without --insecure-storage replaces it with a session "
        "kept there"
    )
    chosen = store.open_store(profile, insecure_storage=insecure_storage)
    try:
        chosen.probe()  # as `login` does before a grant; a damaged entry is a keyring that answers
    except RcauthError as exc:
        return _failed("keyring probe", exc), False
    refused = chosen.refused
    if refused is not None:
        detail = (
            f"{' '.join(refused.split())}; sessions are kept in {store.FileStore(profile).path} instead "
            "(insecure storage allowed)"
        )
        return Check("keyring probe", Status.WARNING, detail, moved), True
    try:
        seconds = store.probe_keyring()  # bounded as every keyring call is (RCAUTH_KEYRING_TIMEOUT)
    except RcauthError as exc:
        if not consent:
            return _failed("keyring probe", exc), False
        # With consent, a keyring that refuses a write sends the session to the file (KeyringOrFile.save):
        # the error's own advice (pass --insecure-storage) is what the user has done already.
        return Check("keyring probe", Status.WARNING, " ".join(exc.message.split()), moved), True
    return ok("keyring probe", f"wrote, read and deleted a test entry in {seconds * 1000:.0f} ms"), False


def check_directories(profile: str = DEFAULT_PROFILE, *, session_file: bool = False) -> Check:
    """What `login` checks before it signs in, and every refresh and logout needs: the config
    directory readable, the state directory (lock files, the profile index) writable, and the data
    directory writable when the session goes to a file (`store.check_login_dirs`, the same call)."""
    from rcauth import config, store

    try:
        store.check_login_dirs(profile, session_file=session_file)
    except RcauthError as exc:
        return _failed("directories", exc)
    used = f"state {config.state_dir()} writable, config {config.config_dir()} readable"
    if session_file:
        used += f", data {config.data_dir()} writable"
    return ok("directories", used)


def check_session_file(path: Path, *, plaintext: str | None = None) -> Check:
    """The opt-in 0600 session file (`--insecure-storage`): where it is, and whether others can read it."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        if plaintext:
            return ok(
                "session file",
                f"none (but the keyring backend, {plaintext}, keeps its entries in plain text)",
            )
        return ok("session file", "none (no session kept outside the keyring)")
    except OSError as exc:
        return Check("session file", Status.PROBLEM, f"{path}: {exc.strerror or exc}")
    if mode & 0o077:
        return Check(
            "session file",
            Status.PROBLEM,
            f"{path} is readable by others (mode {mode:04o})",
            f"chmod 600 {path}",
        )
    return Check(
        "session file",
        Status.WARNING,
        f"{path} holds a session (mode {mode:04o}: insecure storage, as safe as this account's files)",
        "once a keyring works, `rcauth login` without --insecure-storage replaces it with a session kept "
        "there (and ends this one)",
    )


# -- stored sessions ------------------------------------------------------------------------------------
def check_session(profile: str, *, insecure_storage: bool = False, now: float | None = None) -> Check:
    """The profile's stored session: access and refresh expiry, scopes against what the commands need,
    and whether the app issues refresh tokens."""
    from rcauth import store
    from rcauth.session import NO_REFRESH_TOKEN, REFRESH_ENDING_NOTICE
    from rcauth.timeparse import expiry

    name = f"session {profile}"
    now = time.time() if now is None else now
    try:
        chosen = store.open_store(profile, insecure_storage=insecure_storage)
        session = chosen.load()
    except RcauthError as exc:
        return _failed(name, exc)
    if session is None:
        if store.session_file_not_read(chosen) is not None:
            return _failed(name, store.not_signed_in(chosen), Status.WARNING)
        login = f"rcauth --profile {profile} login" if profile != DEFAULT_PROFILE else "rcauth login"
        return Check(name, Status.WARNING, "not signed in", f"run `{login}`")
    scopes = set(session.scope.split())
    missing = [s for s in NEEDED_SCOPES if s not in scopes]
    account = "with" if ACCOUNT_SCOPE in scopes else "without"
    scope_text = (
        f"scopes {' '.join(sorted(scopes)) or '-'} "
        f"({account} {ACCOUNT_SCOPE}, which call-log --account needs)"
    )
    access = expiry(session.access_expires_at, now)
    login = f"run `rcauth --profile {profile} login`" if profile != DEFAULT_PROFILE else "run `rcauth login`"
    turn_on = "turn on 'Issue refresh tokens' for the app in the Developer Console"
    if session.refresh_token is None:
        detail = f"access token {access}; {NO_REFRESH_TOKEN}; {scope_text}"
        if session.access_expires_at <= now:  # what `whoami` meets: exit 4, the session has ended
            return Check(name, Status.PROBLEM, detail, f"the session has ended: {login} (or {turn_on})")
        if not missing:
            return Check(name, Status.WARNING, detail, f"{turn_on}, or sign in every hour")
    else:
        refresh_left = (session.refresh_expires_at or float("inf")) - now
        refresh = expiry(session.refresh_expires_at, now)
        detail = f"access token {access}; refresh token {refresh}; {scope_text}"
        if refresh_left <= 0:
            return Check(name, Status.PROBLEM, detail, f"the session has ended: {login}")
    if missing:
        return Check(
            name,
            Status.PROBLEM,
            detail,
            f"add the {', '.join(missing)} permission to the app in the Developer Console, then {login}",
        )
    if session.refresh_ends_within(REFRESH_ENDING_NOTICE, now):
        return Check(name, Status.WARNING, detail, f"use it (any command refreshes it) or {login}")
    return ok(name, detail)


def check_profile_index() -> Check | None:
    """A problem when the profile index is damaged (`rcauth.profiles.read`): the profiles `--all`
    looks at, and `rcauth profiles` lists, may then miss some; nothing while it is whole."""
    from rcauth import profiles

    problem = profiles.read().problem()
    return _failed("profile index", problem) if problem is not None else None


def check_sessions(profiles: Iterable[str], *, insecure_storage: bool = False) -> list[Check]:
    return [check_session(p, insecure_storage=insecure_storage) for p in profiles]


# -- the browser -------------------------------------------------------------------------------------------
def check_browser() -> Check:
    """What would open the sign-in URL: `$BROWSER`, Windows' browser from WSL, the system browser, or
    nothing (a Linux box without a display, where rcauth prints the URL instead: rcauth.browser)."""
    from rcauth import browser

    if chosen := os.environ.get(BROWSER_VAR.name):
        return ok("browser", f"${BROWSER_VAR.name}: {chosen}")
    if browser.is_wsl():
        return ok("browser", "WSL: Windows' default browser (through wslview or PowerShell)")
    if browser.graphical_browser_likely():
        return ok("browser", "the system's default browser")
    return Check(
        "browser",
        Status.WARNING,
        "none: no display and no $BROWSER on this Linux box",
        "sign in with `rcauth login --paste` (open the URL in any browser, then paste back the address "
        "it landed on), or forward the redirect's port (`ssh -L 5000:localhost:5000 HOST`) and open the "
        "URL `rcauth login --no-browser` prints",
    )


# -- all of it ----------------------------------------------------------------------------------------------
def diagnose(
    flags: Mapping[str, str | None] | None = None,
    *,
    env_file: str | None = None,
    profile: str = DEFAULT_PROFILE,
    profiles: Iterable[str] | None = None,
    insecure_storage: bool = False,
) -> list[Check]:
    """Every check, in the order a sign-in meets them; `profiles` (default: `profile`) are the stored
    sessions to look at."""
    checks, settings = check_configuration(flags or {}, env_file=env_file, profile=profile)
    if settings is not None:
        checks.append(check_redirect_uri(settings.redirect_uri))
        checks += check_server(settings.server)
        if settings.media_server:
            checks.append(
                check_media_server(settings.media_server, settings.sources.get("media_server", "set"))
            )
    checks += check_storage(profile, insecure_storage=insecure_storage)
    damaged_index = check_profile_index()
    if damaged_index is not None:
        checks.append(damaged_index)
    checks += check_sessions(
        list(profiles) if profiles is not None else [profile], insecure_storage=insecure_storage
    )
    checks.append(check_browser())
    return checks


def healthy(checks: Iterable[Check]) -> bool:
    """No problem (warnings allowed): `rcauth doctor` exits 0."""
    return all(c.status is not Status.PROBLEM for c in checks)
