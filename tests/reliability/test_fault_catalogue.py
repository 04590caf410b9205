"""The fault catalogue: every command against every fault of the boundaries it crosses, each row checking
the same invariants (fault_catalogue.py holds the table; SECURITY.md's threat table names the rows).

A row arranges its fault, runs one command as a real process against the emulator (or a hostile server
where RingCentral would never answer so), and checks what the row names:

1. a documented exit code (the one the row pins, where it pins one) and, on failure, one line on stderr;
   never a traceback or "unexpected error";
2. no secret the emulator issued or was shown (tokens, codes, verifiers), nor the client secret, the JWT
   or a proxy's password, in stdout (except `rcauth token`'s), stderr, or any file outside the store;
3. every session live at the emulator is one the store holds (stored or revoked, nothing in between);
4. no token in a file outside the keyring unless the user consented to the file;
5. a store that could not be read is never reported as "not signed in" or "nothing to do";
6. stdout parses as the format asked for, strictly (no NaN or Infinity in JSON, whole NDJSON lines,
   rectangular CSV), even when the command failed part-way;
7. the process ends within the runner's bound (30 s), whatever the fault;
8. every file a download left under a final name in its directory is a whole recording, byte for byte
   what the emulator serves for it (or what a hostile media host sent whole); `api --output FILE`
   left FILE whole or not at all, and content on stdout is a prefix of the recording (all of it on
   success); no temp file is left but a `.part`, and nothing was written anywhere else in the test's
   tree but rcauth's own directories, the keyring and the logs. And (2) no request with the token,
   or any secret, reached a foreign host the row set up.

Commands that save recordings get a fresh directory (`{dir}`, not made yet) and file (`{file}`, in an
empty directory) under the row's own `row/`, and `{content_url}`, a recording's content URL on the media
origin the session knows; the session the rows sign in with knows the emulator's media origin.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from fault_catalogue import CONTENT_URL, DIR, FILE, Command, Fault, Inv, rows
from hostile_ringcentral import CONTENT, HostileMedia, HostileRingCentral
from reliability_support import FileKeyring, Rcauth, Result

from rcauth.errors import ExitCode
from rcauth.session import Session
from rcauth.store import FileStore
from ringcentral_emulator import DEMO_JWT, Emulator

DOCUMENTED = frozenset(code.value for code in ExitCode)
BOUND = 30.0  # seconds: the runner kills a row's process after this and the row fails
ABSENCE = re.compile(r"not signed in|nothing to do", re.IGNORECASE)
NOT_TEXT_NUMBERS = ("NaN", "Infinity", "-Infinity")
# The recording id a saved recording's name ends with (`_r4012.mp3`, `_r4012-2.wav`: rcauth.filenames).
RECORDING_ID = re.compile(r"_r(\d+)(?:-\d+)?\.(?:mp3|wav|bin)")
CONTENT_ID = re.compile(r"/recording/([^/?]+)/content")
KEEP = object()
USAGE = re.compile(r"Usage: rcauth .*|Try 'rcauth .* --help' for help\.")


@dataclass
class Scene:
    """What a row's fault is arranged on: the subprocess environment, the emulator, the stores, and the
    row's own directory (`row`: where DIR and FILE are)."""

    env: dict[str, str]
    emu: Emulator
    keyring_dir: Path
    sign_in_now: Callable[..., Session]
    stack: ExitStack
    row: Path
    runner: Rcauth  # for a fault that needs another rcauth running meanwhile (killed at the end)
    extra_secrets: list[str] = field(default_factory=list)
    hostile: HostileRingCentral | None = None
    # Hosts that are not RingCentral's: no request with the token (or any secret) may reach them.
    foreign: list[HostileMedia] = field(default_factory=list)
    content_url: str | None = None  # `{content_url}`, when a fault names it
    _emulator_content_url: str | None = None

    @property
    def dir(self) -> Path:
        return self.row / "calls"

    @property
    def file(self) -> Path:
        return self.row / "out" / "call.mp3"

    def keyring_entry(self) -> Path:
        return FileKeyring.entry("rcauth", "default", self.keyring_dir)

    def stored_session(self) -> Session:
        return Session.from_json(self.keyring_entry().read_text(encoding="utf-8"))

    def store(self, session: Session) -> None:
        self.keyring_entry().write_text(session.to_json(), encoding="utf-8")

    def make_due(self) -> None:
        self.store(dataclasses.replace(self.stored_session(), access_expires_at=time.time() - 5))

    def point_session_at(self, server: str, media_server: Any = KEEP) -> None:
        changes: dict[str, Any] = {"server": server}
        if media_server is not KEEP:
            changes["media_server"] = media_server
        self.store(dataclasses.replace(self.stored_session(), **changes))

    def use_hostile_server(self, **kwargs: Any) -> None:
        self.hostile = self.stack.enter_context(HostileRingCentral(**kwargs))
        self.point_session_at(self.hostile.base_url, self.hostile.media_origin)

    def content_url_of_a_recording(self) -> str:
        """`{content_url}`: the one a fault named, else the first recording's on the hostile server's
        media origin, else the emulator's newest recording's (asked for with the stored token, before
        the fault is arranged where it can)."""
        if self.content_url is not None:
            return self.content_url
        if self.hostile is not None:
            return self.hostile.media_origin + CONTENT.format("800")
        if self._emulator_content_url is None:
            session = self.stored_session()
            answer = requests.get(
                f"{self.emu.base_url}/restapi/v1.0/account/~/extension/~/call-log",
                params={"withRecording": "true", "dateFrom": "2000-01-01T00:00:00Z", "perPage": 1},
                headers={"Authorization": f"Bearer {session.access_token}"},
                timeout=10,
            )
            answer.raise_for_status()
            self._emulator_content_url = answer.json()["records"][0]["recording"]["contentUri"]
        return self._emulator_content_url

    def served(self, recording_id: str) -> bytes | None:
        """A recording's content as this row's media origin sent it whole (None: never whole)."""
        if self.hostile is not None:
            return self.hostile.media.whole.get(recording_id) if self.hostile.media else None
        return self.emu.recording_content(recording_id)

    def served_anything(self) -> list[bytes]:
        media = self.hostile.media if self.hostile is not None else None
        return list(media.whole.values()) if media is not None else []


@pytest.fixture
def scene(
    env: dict[str, str],
    emu: Emulator,
    keyring_dir: Path,
    sign_in: Callable[..., Session],
    tmp_path: Path,
    rcauth: Rcauth,
) -> Iterator[Scene]:
    def sign_in_with_media(**changes: Any) -> Session:
        return sign_in(**{"media_server": emu.media_url, **changes})

    row = tmp_path / "row"
    (row / "out").mkdir(parents=True)
    with ExitStack() as stack:
        env = dict(env, RC_JWT=DEMO_JWT, RC_MEDIA_URL=emu.media_url)
        yield Scene(env, emu, keyring_dir, sign_in_with_media, stack, row, rcauth)


def row_id(row: tuple[Fault, Command]) -> str:
    fault, command = row
    return f"{fault.boundary}: {fault.name} / {command.name}"


ROWS = rows()


@pytest.mark.parametrize("row", ROWS, ids=[row_id(r) for r in ROWS])
def test_fault_catalogue(row: tuple[Fault, Command], scene: Scene, rcauth: Rcauth, tmp_path: Path) -> None:
    fault, command = row
    needs_url = CONTENT_URL in command.args or "ROW_URL" in (command.script or "")
    if fault.signed_in:
        scene.sign_in_now()
        if needs_url:
            scene.content_url_of_a_recording()  # while the session is good, whatever the fault does
    fault.arrange(scene)
    before = tree(tmp_path)
    result, out = run(rcauth, command, scene, needs_url)
    checks = {
        Inv.EXIT: lambda: check_exit(result, fault, command),
        Inv.SECRETS: lambda: check_secrets(result, scene, command),
        Inv.GRANTS: lambda: check_grants(scene),
        Inv.PLAINTEXT: lambda: check_no_stray_tokens(scene, tmp_path),
        Inv.HONEST: lambda: check_honest(result, fault),
        Inv.WELL_FORMED: lambda: check_well_formed(result, command),
        Inv.BOUNDED: lambda: None,  # `run` raised already if the process outlived BOUND
        Inv.FILES: lambda: check_files(scene, command, out, before, tmp_path),
    }
    failures = []
    for invariant in sorted(fault.invariants, key=lambda i: i.value):
        try:
            checks[invariant]()
        except AssertionError as exc:
            failures.append(f"invariant {invariant.value}\n    {exc}")
    assert not failures, f"{row_id(row)}\n" + "\n".join(failures) + f"\n{result}"


def run(rcauth: Rcauth, command: Command, scene: Scene, needs_url: bool) -> tuple[Result, bytes]:
    """The command as a process (bounded), and its stdout's bytes (content is not text)."""
    url = scene.content_url_of_a_recording() if needs_url else ""
    places = {DIR: str(scene.dir), FILE: str(scene.file), CONTENT_URL: url}
    if command.script is not None:
        env = dict(scene.env, ROW_DIR=places[DIR], ROW_FILE=places[FILE], ROW_URL=url)
        proc = rcauth.start(env=env, argv=[sys.executable, "-c", command.script])
    else:
        proc = rcauth.start(*(places.get(arg, arg) for arg in command.args), env=scene.env)
    result = rcauth.finish(proc, timeout=BOUND)
    return result, proc.out_path.read_bytes()  # type: ignore[attr-defined]


# -- the invariants ---------------------------------------------------------------------------------------
def check_exit(result: Result, fault: Fault, command: Command) -> None:
    assert result.code in DOCUMENTED, f"exit {result.code} is not a documented exit code"
    assert "Traceback" not in result.err, "a traceback reached stderr"
    assert "unexpected error" not in result.err.lower(), "an unexpected error"
    expected = fault.expected_exits(command.name)
    if expected is not None:
        assert result.code in expected, f"exit {result.code}, expected one of {sorted(expected)}"
    if result.code != 0 and not command.name.startswith("doctor"):
        lines = [line for line in result.err.splitlines() if line.strip()]
        # A download's report (its summary, a line for each recording not saved) comes before it.
        said = [line for line in lines if not (command.report and re.fullmatch(command.report, line))]
        if result.code == 2:  # click's usage error: its usage and help lines, then the one error line
            said = [line for line in said if not USAGE.fullmatch(line)]
        assert len(said) == 1, f"{len(said)} lines on stderr besides the report, expected one"
        assert lines[-1] == said[0], "the error is not the last line"


def secrets_of(scene: Scene) -> list[str]:
    app = scene.emu.config.apps[0]
    return [s for s in (*scene.emu.secrets_seen(), app.client_secret, DEMO_JWT, *scene.extra_secrets) if s]


def check_secrets(result: Result, scene: Scene, command: Command) -> None:
    shown = result.err + ("" if command.prints_token else result.out)
    leaked = [s for s in secrets_of(scene) if s in shown]
    assert not leaked, f"{len(leaked)} secret(s) in the output"
    for host in scene.foreign:
        assert not host.authorizations, f"an Authorization header reached the foreign host {host.base_url}"
        sent = json.dumps(host.seen)
        assert not [s for s in secrets_of(scene) if s in sent], f"a secret reached {host.base_url}"


def check_grants(scene: Scene) -> None:
    held = "".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in scene.keyring_dir.glob("*")
        if path.is_file()
    )
    file_store = FileStore("default").path
    if file_store.exists():
        held += file_store.read_text(encoding="utf-8", errors="replace")
    orphans = [token for token in scene.emu.live_grants() if token not in held]
    assert not orphans, f"{len(orphans)} grant(s) live at RingCentral that no store holds"


def check_no_stray_tokens(scene: Scene, tmp_path: Path) -> None:
    """No secret in any file under the test's home but the keyring's own files and, with consent, the
    session file."""
    consented = scene.env.get("RCAUTH_INSECURE_STORAGE") == "1"
    allowed = {FileStore("default").path} if consented else set()
    home = Path(scene.env["HOME"])
    tokens = secrets_of(scene)
    for path in home.rglob("*"):
        if not path.is_file() or scene.keyring_dir in path.parents or path in allowed:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        found = [s for s in tokens if s in text]
        assert not found, f"{len(found)} secret(s) in {path.relative_to(tmp_path)}"


def check_honest(result: Result, fault: Fault) -> None:
    if fault.boundary != "keyring":
        return
    said = ABSENCE.search(result.out + result.err)
    assert not said, f"said {said.group(0)!r} about a store it could not read"


def check_well_formed(result: Result, command: Command) -> None:
    out = result.out
    if not out.strip() or command.output == "text":
        return
    if command.output == "json":
        strict_json(out)
    elif command.output == "ndjson":
        assert out.endswith("\n"), "the last NDJSON line is not whole"
        for line in out.splitlines():
            strict_json(line)
    elif command.output == "csv":
        table = list(csv.reader(io.StringIO(out)))
        widths = {len(r) for r in table}
        assert len(widths) == 1, f"CSV rows of {sorted(widths)} cells"
        for cell in (c for r in table for c in r):
            assert cell.lower() not in ("inf", "-inf", "nan", "infinity", "-infinity"), f"CSV cell {cell!r}"


def tree(root: Path) -> dict[Path, tuple[int, int]]:
    """Every file under `root` (symbolic links as themselves), with its size and modification time."""
    found = {}
    for path in root.rglob("*"):
        if path.is_symlink() or path.is_file():
            info = path.lstat()
            found[path] = (info.st_size, info.st_mtime_ns)
    return found


def check_files(
    scene: Scene, command: Command, out: bytes, before: dict[Path, tuple[int, int]], tmp_path: Path
) -> None:
    # Nothing written but where the row lets the command write: its own directory and file, rcauth's
    # directories (locks, the session file), the keyring, the runner's logs.
    places = [scene.dir, scene.file.parent, scene.keyring_dir, tmp_path / "logs"]
    places += [Path(scene.env[f"RCAUTH_{kind}_DIR"]) for kind in ("CONFIG", "STATE", "DATA")]
    changed = [path for path, seen in tree(tmp_path).items() if before.get(path) != seen]
    stray = [p for p in changed if not any(p == place or place in p.parents for place in places)]
    assert not stray, f"written outside its places: {sorted(str(p.relative_to(tmp_path)) for p in stray)}"
    if command.saves == "dir":
        check_saved_directory(scene)
    elif command.saves == "file":
        check_saved_file(scene, resumable=command.script is not None)
    elif command.saves == "stdout":
        url = scene.content_url_of_a_recording()
        whole = served_at(scene, url) or cut_at(scene, url) or b""
        assert whole.startswith(out), f"stdout's {len(out)} bytes are not the start of the recording"


def check_saved_directory(scene: Scene) -> None:
    if not scene.dir.is_dir():
        return
    for entry in scene.dir.iterdir():
        name = ascii(entry.name)
        assert entry.is_file() and not entry.is_symlink(), f"{name} in DIR is not a regular file"
        if entry.name.endswith(".part"):
            continue  # what the next run resumes
        assert not entry.name.startswith(".") and not entry.name.endswith(".tmp"), f"a temp file {name}"
        body = entry.read_bytes()
        named = RECORDING_ID.search(entry.name)
        whole = scene.served(named.group(1)) if named else None
        if whole is None and not named:  # a hostile recording id: its name has a digest of it instead
            assert body in scene.served_anything(), f"{name} is none of the recordings served whole"
        else:
            assert body == whole, f"{name} ({len(body)} bytes) is not its recording as served"


def check_saved_file(scene: Scene, *, resumable: bool) -> None:
    target = scene.file
    allowed = {target.name, target.name + ".part"} if resumable else {target.name}
    left = sorted(p.name for p in target.parent.iterdir() if p.name not in allowed)
    assert not left, f"left beside FILE: {left}"
    if target.exists():
        body = target.read_bytes()
        whole = served_at(scene, scene.content_url_of_a_recording())
        assert body == whole, f"FILE ({len(body)} bytes) is not the recording as served"


def served_at(scene: Scene, url: str) -> bytes | None:
    match = CONTENT_ID.search(url)
    if match is None or any(url.startswith(host.base_url) for host in scene.foreign):
        return None
    return scene.served(match.group(1))


def cut_at(scene: Scene, url: str) -> bytes | None:
    """The content a hostile media host cut short at `url`: what arrived of it is its start, no more."""
    match = CONTENT_ID.search(url)
    media = scene.hostile.media if scene.hostile is not None else None
    return media.cut.get(match.group(1)) if match is not None and media is not None else None


def strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"JSON holds {name}")

    try:
        value = json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"stdout is not JSON: {exc}") from None
    floats = [v for v in walk(value) if isinstance(v, float) and not math.isfinite(v)]
    assert not floats, "JSON holds a number past float range"
    return value


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def test_every_row_names_invariants_and_the_catalogue_covers_every_boundary() -> None:
    """The catalogue's shape: the boundaries issue 20 lists, each row with invariants to check, every
    command met by some fault."""
    from fault_catalogue import CMD, FAULTS

    boundaries = {f.boundary for f in FAULTS}
    issue_20 = {"token endpoint", "network", "server data", "listing"}
    assert issue_20 | {"media", "download directory"} <= boundaries
    assert all(f.invariants for f in FAULTS)
    used = {name for f in FAULTS for name in f.commands}
    assert used == set(CMD), f"commands no fault meets: {sorted(set(CMD) - used)}"
    assert len(ROWS) == sum(len(f.commands) for f in FAULTS)
    assert os.environ.get("RCAUTH_TEST_KEYRING_DIR") is None  # rows run only in subprocesses
