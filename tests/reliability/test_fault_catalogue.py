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
7. the process ends within the runner's bound (30 s), whatever the fault.
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
from fault_catalogue import Command, Fault, Inv, rows
from hostile_ringcentral import HostileRingCentral
from reliability_support import FileKeyring, Rcauth, Result

from rcauth.errors import ExitCode
from rcauth.session import Session
from rcauth.store import FileStore
from ringcentral_emulator import DEMO_JWT, Emulator

DOCUMENTED = frozenset(code.value for code in ExitCode)
BOUND = 30.0  # seconds: the runner kills a row's process after this and the row fails
ABSENCE = re.compile(r"not signed in|nothing to do", re.IGNORECASE)
NOT_TEXT_NUMBERS = ("NaN", "Infinity", "-Infinity")


@dataclass
class Scene:
    """What a row's fault is arranged on: the subprocess environment, the emulator, the stores."""

    env: dict[str, str]
    emu: Emulator
    keyring_dir: Path
    sign_in_now: Callable[..., Session]
    stack: ExitStack
    extra_secrets: list[str] = field(default_factory=list)
    hostile: HostileRingCentral | None = None

    def keyring_entry(self) -> Path:
        return FileKeyring.entry("rcauth", "default", self.keyring_dir)

    def stored_session(self) -> Session:
        return Session.from_json(self.keyring_entry().read_text(encoding="utf-8"))

    def store(self, session: Session) -> None:
        self.keyring_entry().write_text(session.to_json(), encoding="utf-8")

    def make_due(self) -> None:
        self.store(dataclasses.replace(self.stored_session(), access_expires_at=time.time() - 5))

    def point_session_at(self, server: str) -> None:
        self.store(dataclasses.replace(self.stored_session(), server=server))

    def use_hostile_server(self, **kwargs: Any) -> None:
        self.hostile = self.stack.enter_context(HostileRingCentral(**kwargs))
        self.point_session_at(self.hostile.base_url)


@pytest.fixture
def scene(
    env: dict[str, str], emu: Emulator, keyring_dir: Path, sign_in: Callable[..., Session]
) -> Iterator[Scene]:
    with ExitStack() as stack:
        yield Scene(dict(env, RC_JWT=DEMO_JWT), emu, keyring_dir, sign_in, stack)


def row_id(row: tuple[Fault, Command]) -> str:
    fault, command = row
    return f"{fault.boundary}: {fault.name} / {command.name}"


ROWS = rows()


@pytest.mark.parametrize("row", ROWS, ids=[row_id(r) for r in ROWS])
def test_fault_catalogue(row: tuple[Fault, Command], scene: Scene, rcauth: Rcauth, tmp_path: Path) -> None:
    fault, command = row
    if fault.signed_in:
        scene.sign_in_now()
    fault.arrange(scene)
    result = run(rcauth, command, scene.env)
    checks = {
        Inv.EXIT: lambda: check_exit(result, fault, command),
        Inv.SECRETS: lambda: check_secrets(result, scene, command),
        Inv.GRANTS: lambda: check_grants(scene),
        Inv.PLAINTEXT: lambda: check_no_stray_tokens(scene, tmp_path),
        Inv.HONEST: lambda: check_honest(result, fault),
        Inv.WELL_FORMED: lambda: check_well_formed(result, command),
        Inv.BOUNDED: lambda: None,  # `run` raised already if the process outlived BOUND
    }
    failures = []
    for invariant in sorted(fault.invariants, key=lambda i: i.value):
        try:
            checks[invariant]()
        except AssertionError as exc:
            failures.append(f"invariant {invariant.value}\n    {exc}")
    assert not failures, f"{row_id(row)}\n" + "\n".join(failures) + f"\n{result}"


def run(rcauth: Rcauth, command: Command, env: dict[str, str]) -> Result:
    if command.script is not None:
        proc = rcauth.start(env=env, argv=[sys.executable, "-c", command.script])
    else:
        proc = rcauth.start(*command.args, env=env)
    return rcauth.finish(proc, timeout=BOUND)


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
        assert len(lines) == 1, f"{len(lines)} lines on stderr, expected one"


def secrets_of(scene: Scene) -> list[str]:
    app = scene.emu.config.apps[0]
    return [s for s in (*scene.emu.secrets_seen(), app.client_secret, DEMO_JWT, *scene.extra_secrets) if s]


def check_secrets(result: Result, scene: Scene, command: Command) -> None:
    shown = result.err + ("" if command.prints_token else result.out)
    leaked = [s for s in secrets_of(scene) if s in shown]
    assert not leaked, f"{len(leaked)} secret(s) in the output"


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
    assert {"token endpoint", "network", "server data", "listing"} <= boundaries
    assert all(f.invariants for f in FAULTS)
    used = {name for f in FAULTS for name in f.commands}
    assert used == set(CMD), f"commands no fault meets: {sorted(set(CMD) - used)}"
    assert len(ROWS) == sum(len(f.commands) for f in FAULTS)
    assert os.environ.get("RCAUTH_TEST_KEYRING_DIR") is None  # rows run only in subprocesses
