"""The fault catalogue of the storage boundaries (issue 20): the keyring, the entry it holds, the
directories on disk and the configuration file. One row per boundary x fault; every command (login,
logout, whoami, call-log, api, token, status, profiles, doctor, recordings list and download) runs
against each row in a real `rcauth` subprocess, and each row names the invariants it checks:

1. success or a documented exit code (the row's), with one line saying why: never "unexpected error",
   never a traceback;
2. no secret (token, client secret, JWT) on stdout or stderr, except the token `rcauth token` prints;
3. no grant made that cannot be kept (a login refused over storage asks RingCentral for nothing);
4. no session kept in plain text unless the user chose it (`--insecure-storage`, or naming the
   backend): nothing in the keyrings.alt stand-in, no session file without consent;
5. never "not signed in" or "nothing to do" when rcauth could not look (a keyring locked, hung or
   failing is an error naming it, exit 6);
7. every command ends, each keyring call bounded (RCAUTH_KEYRING_TIMEOUT=1 here), every run bounded;
and what `recordings download` saved is whole, byte for byte what the emulator serves (the sessions
signed in here know the emulator's media origin), with no temp file left but a `.part`.

Each row's state is made afresh before the reading commands (run side by side: none changes it), again
before `logout` and again before `login`. The rows' faults are real: keyring backends loaded by
PYTHON_KEYRING_BACKEND (reliability_support) or found by keyring's discovery (keyring_plugins/),
bytes written where the keyring keeps its entries, files in the way of rcauth's directories.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    FileKeyring,
    Rcauth,
    Result,
    discovery_env,
    plaintext_entries,
    write_atomically,
)

from rcauth.store import INDEX_MARK, FileStore
from ringcentral_emulator import DEMO_JWT

DIR = "{dir}"  # a directory under the row's home, made afresh with it
RECORDED = ("--from", "30d", "--limit", "2", "--json")
COMMANDS: dict[str, tuple[str, ...]] = {
    "whoami": ("whoami", "--json"),
    "call-log": ("call-log", "--limit", "2", "--json"),
    "api": ("api", "get", "/restapi/v1.0/account/~"),
    "token": ("token",),
    "status": ("status", "--json"),
    "profiles": ("profiles", "--json"),
    "doctor": ("doctor", "--json"),
    "recordings-list": ("recordings", "list", *RECORDED),
    "recordings-download": ("recordings", "download", *RECORDED, "--dir", DIR),
    "logout": ("logout",),
    "login": ("login", "--jwt"),
}
READING = (
    "whoami",
    "call-log",
    "api",
    "token",
    "status",
    "profiles",
    "doctor",
    "recordings-list",
    "recordings-download",
)
# What `recordings download` writes on stderr besides an error line: its summary, a line a failure.
DOWNLOAD_REPORT = re.compile(r"failed: .+|saved \d+ recordings? \(.+\) to .+|No recorded calls in that .+")
# Commands that print what they found before saying, in the exit code, that part of it is wrong.
REPORTS = ("profiles", "doctor")
NOT_LOOKED = ("not signed in", "nothing to do", "Not signed in")


@dataclass
class Context:
    """What a row's setup works with."""

    home: Path
    keyring_dir: Path
    sign_in: Callable[..., Any]
    env: dict[str, str]  # the row's environment
    app: dict[str, str]  # the emulator's app and server, as RC_* settings


@dataclass(frozen=True)
class Row:
    boundary: str
    fault: str
    invariants: tuple[int, ...]
    codes: Mapping[str, int]  # the exit code each command must end with
    says: str = ""  # what every failing command's error line names (in any case)
    warns: tuple[str, ...] = ()  # commands that succeed and still say, on stderr, what `says` says
    env: Callable[[dict[str, str], Path], dict[str, str]] = lambda env, home: env
    setup: Callable[[Context], Any] = lambda ctx: None
    consent: bool = False  # the user allowed rcauth's 0600 file
    plaintext_chosen: bool = False
    said_by: Mapping[str, str] = field(default_factory=dict)  # a command's own `says`
    # What must hold of the grants and the stored state once a command has run (`After`).
    then: Callable[[After], None] = lambda after: None

    @property
    def id(self) -> str:
        return f"{self.boundary}: {self.fault}"

    def says_for(self, name: str) -> str:
        return self.said_by.get(name, self.says)


@dataclass
class After:
    """What a row's `then` looks at: the command just run, what it did, and the state it left."""

    name: str
    result: Result
    emu: Any
    keyring_dir: Path
    setup: list[Any]  # what the row's setup returned (the sessions it stored)

    @property
    def live(self) -> set[str]:
        return set(self.emu.live_grants())

    @property
    def in_keyring(self) -> Any:
        path = FileKeyring.entry("rcauth", "default", self.keyring_dir)
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def codes(default: int, **overrides: int) -> dict[str, int]:
    return {name: overrides.get(name.replace("-", "_"), default) for name in COMMANDS}


def with_env(**values: str | None) -> Callable[[dict[str, str], Path], dict[str, str]]:
    """The suite's environment with `values` set (None: the variable removed)."""

    def make(env: dict[str, str], home: Path) -> dict[str, str]:
        merged = {**env, **{k: v for k, v in values.items() if v is not None}}
        return {k: v for k, v in merged.items() if values.get(k, "") is not None}

    return make


def discovering(*plugins: str, **values: str) -> Callable[[dict[str, str], Path], dict[str, str]]:
    return lambda env, home: {**discovery_env(env, home, *plugins), **values}


# -- setups -----------------------------------------------------------------------------------------------
def signed_in(ctx: Context, **changes: Any) -> Any:
    return ctx.sign_in(**changes)


def signed_in_due(ctx: Context) -> None:
    ctx.sign_in(access_expires_at=0)  # due: every API command takes the refresh lock first


def entry(ctx: Context, name: str = "default") -> Path:
    return FileKeyring.entry("rcauth", name, ctx.keyring_dir)


def not_utf8(ctx: Context) -> None:
    path = entry(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'{"access_token": "\xff\xfe\x00 not UTF-8')


def not_json(ctx: Context) -> None:
    write_atomically(entry(ctx), "{'access_token': 'AT-")


def other_version(ctx: Context) -> None:
    session = json.loads(ctx.sign_in().to_json())
    write_atomically(entry(ctx), json.dumps({**session, "version": 2}))


def parts_missing(ctx: Context) -> None:
    index = {"rcauth_parts": 1, "generation": "0123456789abcdef", "count": 2, "sha256": "0" * 64}
    write_atomically(entry(ctx), json.dumps(index))


def parts_of_two_sessions(ctx: Context) -> None:
    """An index over two parts, the first of one session and the second of another (a writer's
    parts mixed with another's): the digest the index holds matches neither."""
    first, second = ctx.sign_in().to_json(), ctx.sign_in().to_json()
    half = len(first) // 2
    generation = "fedcba9876543210"
    write_atomically(entry(ctx, f"default:{generation}:0"), first[:half])
    write_atomically(entry(ctx, f"default:{generation}:1"), second[half:])
    index = {
        "rcauth_parts": 1,
        "generation": generation,
        "count": 2,
        "sha256": hashlib.sha256(first.encode()).hexdigest(),
    }
    write_atomically(entry(ctx), json.dumps(index))
    assert json.dumps(index).startswith(INDEX_MARK)


def in_the_file_only(ctx: Context) -> Any:
    """A session an `--insecure-storage` sign-in put in the 0600 file; the keyring works and is empty."""
    return ctx.sign_in(store="file")


def in_both_stores(ctx: Context) -> tuple[Any, Any]:
    """The file's session, and a newer one in the keyring (a keyring that refused a write whose copy
    could not be removed, then worked again): two live grants for one profile."""
    older = ctx.sign_in(store="file")
    return older, ctx.sign_in(created_at=older.created_at + 60)


def damaged_naming_an_unreachable_server(ctx: Context) -> Any:
    """An entry of another format version whose grant is live but whose server does not answer."""
    from helpers import free_port

    session = ctx.sign_in()
    fields = {**json.loads(session.to_json()), "version": 2, "server": f"http://127.0.0.1:{free_port()}"}
    write_atomically(entry(ctx), json.dumps(fields))
    return session


def file_session_untouched_unless_replaced(after: After) -> None:
    """Without consent the file is never read for use; a login replaces it, a logout ends it (the
    grant revoked, the file removed)."""
    (older,) = after.setup
    if after.name in ("login", "logout"):
        assert not FileStore("default").path.exists(), after.result
        assert older.refresh_token not in after.live, after.result
    else:
        assert FileStore("default").path.exists() and older.refresh_token in after.live, after.result


def both_sessions_ended_by_logout_or_login(after: After) -> None:
    older, newer = after.setup
    if after.name in ("logout", "login"):
        assert older.refresh_token not in after.live and newer.refresh_token not in after.live, after.result
        assert not FileStore("default").path.exists(), after.result


def damaged_grant_kept_until_ringcentral_is_told(after: After) -> None:
    (session,) = after.setup
    if after.name == "logout":  # nothing else can end that grant: still stored, still live
        assert after.in_keyring["refresh_token"] == session.refresh_token, after.result
    if after.name == "login":  # replaced; the user told the old grant could not be ended
        assert after.in_keyring["refresh_token"] != session.refresh_token, after.result
        assert "could not revoke the session this sign-in replaced" in after.result.err, after.result


def state_dir_is_a_file(ctx: Context) -> None:
    signed_in_due(ctx)
    path = Path(ctx.env["RCAUTH_STATE_DIR"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a file where rcauth's state directory should be\n", encoding="utf-8")


def profile_index_damaged(ctx: Context) -> None:
    signed_in_due(ctx)  # a refresh writes the index's display name: it meets the damage too
    index = Path(ctx.env["RCAUTH_STATE_DIR"]) / "profiles.json"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text('{"profiles": [', encoding="utf-8")  # cut off as a crash mid-write would leave it


def state_dir_under_a_file(ctx: Context) -> None:
    signed_in_due(ctx)
    blocker = Path(ctx.env["RCAUTH_STATE_DIR"]).parent
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where a directory should be\n", encoding="utf-8")


def lock_is_a_directory(ctx: Context) -> None:
    signed_in_due(ctx)
    (Path(ctx.env["RCAUTH_STATE_DIR"]) / "default.refresh.lock").mkdir(parents=True)


def data_dir_is_a_file(ctx: Context) -> None:
    path = Path(ctx.env["RCAUTH_DATA_DIR"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a file where rcauth's data directory should be\n", encoding="utf-8")


def config_file(text: bytes, *, signed: bool = True) -> Callable[[Context], None]:
    def setup(ctx: Context) -> None:
        if signed:
            ctx.sign_in()
        path = Path(ctx.env["RCAUTH_CONFIG_DIR"]) / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text)

    return setup


def bom_config(ctx: Context) -> None:
    ctx.sign_in()
    settings = "".join(
        f'{key} = "{ctx.app[name]}"\n'
        for key, name in (
            ("client_id", "RC_APP_CLIENT_ID"),
            ("client_secret", "RC_APP_CLIENT_SECRET"),
            ("server", "RC_SERVER_URL"),
            ("redirect_uri", "RC_REDIRECT_URL"),
        )
    )
    path = Path(ctx.env["RCAUTH_CONFIG_DIR"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + settings.encode())  # as Windows Notepad saves UTF-8


NO_RC_SETTINGS = with_env(
    RC_APP_CLIENT_ID=None, RC_APP_CLIENT_SECRET=None, RC_SERVER_URL=None, RC_REDIRECT_URL=None
)


def keyring_row(fault: str, backend: str, says: str, *, consent: bool, hanging: bool = False) -> Row:
    env = {"PYTHON_KEYRING_BACKEND": backend, "RCAUTH_KEYRING_TIMEOUT": "1"}
    if consent:
        env["RCAUTH_INSECURE_STORAGE"] = "1"
    return Row(
        "keyring",
        f"{fault}, {'with' if consent else 'without'} consent to a file",
        (1, 2, 3, 5, 7) if hanging else (1, 2, 3, 5),
        # With consent only login gets anywhere: the session goes to the file, and the keyring,
        # which may hold one, is never taken for empty.
        codes(6, doctor=1, login=0 if consent else 6),
        says=says,
        env=with_env(**env),
        setup=signed_in,
        consent=consent,
    )


# Every command but login and doctor reads only the default profile from config.toml.
CONFIG_READERS = tuple(name for name in (*READING, "logout") if name != "doctor")
PLAINTEXT = "no secure keyring is available: keyring chose keyrings.alt.file.PlaintextKeyring"
ROWS = [
    # -- the keyring ---------------------------------------------------------------------------------------
    Row(
        "keyring",
        "no backend (keyring's fail backend), without consent",
        (1, 2, 3, 5),
        codes(6, doctor=1),
        says="no system keyring is available",
        env=with_env(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"),
    ),
    Row(
        "keyring",
        "no backend (keyring's fail backend), with consent",
        (1, 2, 4),
        codes(4, profiles=0, doctor=0, logout=0, login=0),  # no keyring, no file: truly not signed in
        env=with_env(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", RCAUTH_INSECURE_STORAGE="1"),
        consent=True,
    ),
    Row(
        "keyring",
        "plain-text backend chosen by keyring's discovery, without consent",
        (1, 2, 3, 4),
        codes(6, doctor=1),
        says=PLAINTEXT,
        env=discovering("plaintext"),
    ),
    Row(
        "keyring",
        "plain-text backend chosen by keyring's discovery, with consent",
        (1, 2, 4),
        codes(4, profiles=0, doctor=0, logout=0, login=0),
        env=discovering("plaintext", RCAUTH_INSECURE_STORAGE="1"),
        consent=True,
    ),
    Row(
        "keyring",
        "keyring's chainer writing to a plain-text backend, without consent",
        (1, 2, 3, 4),
        codes(6, doctor=1),
        says=f"{PLAINTEXT} (through keyring's chainer)",
        env=discovering("plaintext", "chained", RCAUTH_TEST_CHAINED="low"),
    ),
    Row(
        "keyring",
        "plain-text backend the user named",
        (1, 2, 4),
        codes(4, profiles=0, doctor=0, logout=0, login=0),
        env=discovering("plaintext", PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring"),
        plaintext_chosen=True,
    ),
    Row(
        "keyring",
        "keyring disabled (its null backend keeps nothing)",
        (1, 2, 3, 4),
        codes(6, doctor=1),
        says="no system keyring is available (keyring.backends.null.Keyring keeps nothing)",
        env=with_env(PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring"),
    ),
    *(
        Row(
            "keyring",
            f"PYTHON_KEYRING_BACKEND {fault}, {'with' if consent else 'without'} consent to a file",
            (1, 2, 3, 5),
            # The user's setting to fix (exit 3): not a keyring that failed, nor one a file replaces.
            codes(3, doctor=1),
            says=says,
            env=with_env(PYTHON_KEYRING_BACKEND=value, RCAUTH_INSECURE_STORAGE="1" if consent else None),
            setup=signed_in,
            consent=consent,
        )
        for fault, value, says in (
            ("misspelled", "keyring.backends.SecretServic.Keyring", "cannot be loaded (ModuleNotFoundError)"),
            ("set but empty", "", "PYTHON_KEYRING_BACKEND is set but empty"),
        )
        for consent in (False, True)
    ),
    keyring_row("locked", "reliability_support.LockedKeyring", "the system keyring is locked", consent=False),
    keyring_row("locked", "reliability_support.LockedKeyring", "the system keyring is locked", consent=True),
    *(
        keyring_row("hanging", "reliability_support.HangingKeyring", "did not answer within 1 s", **how)
        for how in ({"consent": False, "hanging": True}, {"consent": True, "hanging": True})
    ),
    keyring_row("raising", "reliability_support.ErroringKeyring", "the system keyring failed", consent=False),
    keyring_row("raising", "reliability_support.ErroringKeyring", "the system keyring failed", consent=True),
    # A backend's own bug (not a KeyringError): the same exit 6, named by type, its text never shown.
    keyring_row(
        "raising what no keyring class names",
        "reliability_support.BuggyKeyring",
        "RuntimeError",
        consent=False,
    ),  # fmt: skip
    keyring_row(
        "raising what no keyring class names",
        "reliability_support.BuggyKeyring",
        "RuntimeError",
        consent=True,
    ),  # fmt: skip
    Row(
        "keyring",
        "a session in the 0600 file only, without consent to read it",
        (1, 2, 3, 5),
        # Never "not signed in": the file is named, with the flag that reads it; login replaces it.
        codes(4, profiles=0, doctor=0, login=0, logout=0),
        says="is kept in plain text",
        setup=in_the_file_only,
        consent=True,  # given to the sign-in that wrote the file
        then=file_session_untouched_unless_replaced,
    ),
    Row(
        "keyring",
        "a second session in the other store, with consent",
        (1, 2, 3, 5),
        codes(0),
        env=with_env(RCAUTH_INSECURE_STORAGE="1"),
        setup=in_both_stores,
        consent=True,
        then=both_sessions_ended_by_logout_or_login,
    ),
    # -- the entry the keyring holds ------------------------------------------------------------------------
    Row(
        "stored entry",
        "damaged, naming a grant at a server that does not answer",
        (1, 2, 3, 5),
        codes(6, doctor=1, logout=5, login=0),
        says="the stored session has an unknown version (2)",
        said_by={"logout": "it is still stored here"},
        env=with_env(RCAUTH_TIMEOUT="3"),
        setup=damaged_naming_an_unreachable_server,
        then=damaged_grant_kept_until_ringcentral_is_told,
    ),
    *(
        Row(
            "stored entry",
            fault,
            (1, 2),
            # Read: damaged (exit 6, sign in again); logout removes it; login replaces it.
            codes(6, doctor=1, logout=0, login=0),
            says=says,
            setup=setup,
        )
        for fault, setup, says in (
            ("not UTF-8", not_utf8, "the stored session is not text"),
            ("not JSON", not_json, "the stored session is not valid JSON"),
            ("another format version", other_version, "the stored session has an unknown version (2)"),
            ("parts missing", parts_missing, "the stored session is incomplete"),
            ("parts of two sessions", parts_of_two_sessions, "the stored session is incomplete"),
        )
    ),
    Row(
        "stored entry",
        "split in parts (a size-capped keyring)",
        (1, 2),
        codes(0),
        env=with_env(PYTHON_KEYRING_BACKEND="reliability_support.WindowsLimitKeyring"),
        setup=signed_in,
    ),
    # -- the directories on disk -----------------------------------------------------------------------------
    *(
        Row(
            "disk",
            fault,
            (1, 2, 3),
            # What needs the refresh lock fails in one line; status shows the session and warns.
            codes(6, status=0, profiles=0, doctor=1),
            says=says,
            warns=("status",),
            env=env,
            setup=setup,
        )
        for fault, env, setup, says in (
            ("state directory is a file", with_env(), state_dir_is_a_file, "is not a directory"),
            (
                "state directory beneath a file",
                lambda env, home: {**env, "RCAUTH_STATE_DIR": str(home / "blocker" / "state")},
                state_dir_under_a_file,
                "is not a directory",
            ),
            ("refresh lock is a directory", with_env(), lock_is_a_directory, "cannot use the lock file"),
        )
    ),
    Row(
        "disk",
        "profile index (profiles.json) damaged",
        (1, 2, 3, 5),
        # The index lists names only: every command works on the session; `profiles` lists what it
        # can find and says the index is damaged (6), doctor names it (1); never "no profiles".
        codes(0, profiles=6, doctor=1),
        says="is damaged",
        setup=profile_index_damaged,
    ),
    Row(
        "disk",
        "data directory is a file (no keyring, consent to a file)",
        (1, 2, 3),
        codes(6, doctor=1),
        says="not a directory",
        env=with_env(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", RCAUTH_INSECURE_STORAGE="1"),
        setup=data_dir_is_a_file,
        consent=True,
    ),
    # -- the configuration file ---------------------------------------------------------------------------
    Row(
        "config",
        "config.toml with a UTF-8 byte-order mark",
        (1, 2),
        codes(0),
        env=NO_RC_SETTINGS,
        setup=bom_config,
    ),
    Row(
        "config",
        "config.toml that is not valid TOML",
        (1, 2, 5),
        # Only login needs its settings from it; the rest work on what they can read, and say so.
        codes(0, doctor=1, login=3),
        says="is not valid TOML",
        warns=CONFIG_READERS,
        setup=config_file(b'client_id = "unterminated\n'),
    ),
    Row(
        "config",
        "config.toml that is not UTF-8",
        (1, 2, 5),
        codes(0, doctor=1, login=3),
        says="is not valid TOML",
        warns=CONFIG_READERS,
        setup=config_file(b"client_id = '\xff\xfe'\n"),
    ),
]


@dataclass
class Catalogue:
    """Runs a row: fresh state, the commands, the invariants."""

    row: Row
    emu: Any
    home: Path
    keyring_dir: Path
    sign_in: Callable[..., Any]
    base_env: dict[str, str]
    logs: Path
    results: list[Result] = field(default_factory=list)
    made: list[Any] = field(default_factory=list)  # what the row's setup stored

    def __post_init__(self) -> None:
        media = self.emu.media_url
        self.env = self.row.env({**self.base_env, "RC_JWT": DEMO_JWT, "RC_MEDIA_URL": media}, self.home)
        self.rcauth = Rcauth(self.env, logs=self.logs)
        signing_in = self.sign_in  # every session made here knows the emulator's media origin
        self.sign_in = lambda **changes: signing_in(**{"media_server": media, **changes})

    @property
    def dir(self) -> Path:
        return self.home / "calls"

    def fresh(self) -> None:
        """The row's state from nothing: every directory under the test's home emptied, the setup
        applied (the config/state/data dirs and the keyring all live there)."""
        if self.home.exists():
            shutil.rmtree(self.home)
        self.home.mkdir(parents=True)
        app = {k: v for k, v in self.base_env.items() if k.startswith("RC_")}
        made = self.row.setup(Context(self.home, self.keyring_dir, self.sign_in, self.env, app))
        self.made = list(made) if isinstance(made, tuple) else [made]

    def run(self, *names: str) -> dict[str, Result]:
        procs = {
            name: self.rcauth.start(*(str(self.dir) if arg == DIR else arg for arg in COMMANDS[name]))
            for name in names
        }
        # Every run is bounded (invariant 7): a hung keyring is given up on after 1 s a call.
        results = {name: self.rcauth.finish(proc, timeout=60) for name, proc in procs.items()}
        self.results += results.values()
        return results

    def check(self, name: str, result: Result, grants_before: dict[str, int]) -> None:
        row = self.row
        expected = row.codes[name]
        assert result.code == expected, f"{row.id} / {name}: expected exit {expected}\n{result}"
        if 1 in row.invariants:
            assert "unexpected error" not in result.err and "Traceback" not in result.err, result
            errors = [line for line in result.err.splitlines() if line.startswith("Error:")]
            if expected not in (0,) and name != "doctor":
                assert len(errors) == 1, result
                assert result.err.splitlines()[-1] == errors[0], result  # the last word, one line
                if row.says_for(name):
                    said = row.says_for(name).lower() in errors[0].lower()
                    assert said, f"{row.id} / {name}: {row.says_for(name)!r} not said\n{result}"
                if name not in REPORTS:
                    assert result.out == "", result
            else:
                assert errors == [], result
            if name in row.warns:  # working on what it can read, and saying what is wrong
                assert row.says.lower() in result.err.lower(), result
                said = [line for line in result.err.splitlines() if not DOWNLOAD_REPORT.fullmatch(line)]
                assert len(said) == 1, result
        if 2 in row.invariants:
            secrets = [*self.emu.secrets_seen(), self.emu.config.apps[0].client_secret, DEMO_JWT]
            shown = result.err if name == "token" else result.out + result.err
            assert not [s[:6] for s in secrets if s in shown], f"{row.id} / {name}: a secret shown"
        if 3 in row.invariants and name == "login" and expected != 0:
            assert self.emu.counters()["grants"] == grants_before, f"{row.id}: a grant made and not kept"
        if 4 in row.invariants:
            kept = {key for key in plaintext_entries(self.home) if key[0] == "rcauth"}
            assert row.plaintext_chosen or not kept, f"{row.id} / {name}: a session kept in plain text"
            assert row.consent or not FileStore("default").path.exists(), f"{row.id} / {name}: a file"
        if 5 in row.invariants and expected != 0:
            assert not any(text in result.out + result.err for text in NOT_LOOKED), result
        if name == "recordings-download":
            self.check_saved(result)
        row.then(After(name, result, self.emu, self.keyring_dir, self.made))

    def check_saved(self, result: Result) -> None:
        """Each file the download left under a final name is its recording whole, as the emulator serves
        it; nothing else is left but a `.part`; and a run that succeeded saved what its manifest says."""
        saved = sorted(self.dir.iterdir()) if self.dir.exists() else []
        for path in saved:
            if path.name.endswith(".part"):
                continue
            named = re.search(r"_r(\d+)\.(?:mp3|wav)$", path.name)
            assert named, f"{self.row.id}: {path.name!r} left in DIR\n{result}"
            whole = self.emu.recording_content(named.group(1))
            assert path.read_bytes() == whole, f"{self.row.id}: {path.name} is not its recording\n{result}"
        if result.code == 0:
            manifest = json.loads(result.out)
            assert [m["status"] for m in manifest] == ["saved", "saved"], result
            assert sorted(m["file"] for m in manifest) == [p.name for p in saved], result


@pytest.fixture
def catalogue(emu, isolated, keyring_dir, sign_in, env, tmp_path) -> Callable[[Row], Catalogue]:
    made: list[Catalogue] = []

    def make(row: Row) -> Catalogue:
        cat = Catalogue(row, emu, isolated, keyring_dir, sign_in, env, tmp_path / "logs")
        made.append(cat)
        return cat

    yield make  # type: ignore[misc]
    for cat in made:
        cat.rcauth.kill_all()


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_every_command_keeps_the_rows_invariants(catalogue, row: Row, emu) -> None:
    cat = catalogue(row)
    for names in (READING, ("logout",), ("login",)):
        cat.fresh()
        grants = dict(emu.counters()["grants"])
        for name, result in cat.run(*names).items():
            cat.check(name, result, grants)


def test_the_catalogue_covers_every_command_and_names_its_invariants() -> None:
    assert len({row.id for row in ROWS}) == len(ROWS)
    for row in ROWS:
        assert set(row.codes) == set(COMMANDS), row.id
        assert row.invariants and set(row.invariants) <= {1, 2, 3, 4, 5, 7}, row.id
    assert {row.boundary for row in ROWS} == {"keyring", "stored entry", "disk", "config"}
