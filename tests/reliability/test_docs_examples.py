"""Every shell and Python example in the documentation runs against the emulator, or says why not.

The pages are README.md and docs/**/*.md, less docs/reference/ (generated from the code). Each fenced
block is classified by its info string, which every block must have (`text` for output and
transcripts):

- `bash`, `sh`, `shell`, `console`: a shell example (of a `console` block, the `$ ` lines);
- `python`: a Python example;
- `javascript`: run by tests/contract/test_js_sdks.py, which reads the one in docs/guides/python.md;
- anything else (`text`, `toml`, `json`...): not an example, but a `toml` block must parse with
  tomllib and a `json` block with json.

A block that cannot run says so on the line just before its opening fence, with a reason:
`<!-- not runnable: REASON -->`. The Python blocks of docs/guides/python.md are run, in order and
with what each should print, by tests/reliability/test_readme_python_examples.py, and not here.

Every other example runs here, in bash (`set -euo pipefail`) or with this Python, in a process of
its own, with a scratch directory as its working directory, a home, config, state and data
directories and keyring of its own (`reliability_support.FileKeyring`), and within `BLOCK_TIMEOUT`
seconds; it must exit 0 and print no traceback. All blocks of one page share one emulator (rate
limits off: each block signs in again). Around each block, as a reader's machine would have it:

- `rcauth`, `python` and `python3` on the PATH are this checkout's rcauth and this Python;
- the emulator's app in the environment (`RC_SERVER_URL`, `RC_APP_CLIENT_ID`,
  `RC_APP_CLIENT_SECRET`), unless the block gets it the way it says: from the `--env-file FILE` it
  names (written with the app's settings), or from the page's `toml` block holding the
  `[profiles.NAME]` of a `--profile NAME` it uses (written as config.toml, its values the app's);
  the redirect URI (`RC_REDIRECT_URL`, a free loopback port the app registers) and the media origin
  (`RC_MEDIA_URL`) always are, and `RC_JWT` (the emulator's JWT) where the block reads `$RC_JWT`;
- `$BROWSER` approves the consent page as a person would (`rcauth.demo.HeadlessApprover`);
- for a block that uses rcauth, a session signed in with `rcauth login --jwt`, unless the block's
  first rcauth command is a login;
- the files the block names: `--jwt-file FILE` (the emulator's JWT);
- `curl` and `jq` from the machine (without them the page's examples skip, and fail under CI=true),
  `curl` failing on an HTTP error (`--fail-with-body`), so an example that gets a 401 does not pass.

The examples talk to RingCentral; here they talk to the emulator. Before a block runs, its text is
rewritten: `https://platform.ringcentral.com` and `https://platform.devtest.ringcentral.com` become
the emulator's API origin, `https://media.ringcentral.com` its media origin, the placeholders
`RC_APP_CLIENT_ID=...`, `RC_APP_CLIENT_SECRET=...` and `RC_JWT=...` the app's values, and
`RECORDING_ID` the id of a recording in the emulator's call log. A block that would show something
else once rewritten is marked not runnable instead.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from helpers import jwt_token, loopback_redirect_uri
from reliability_support import BACKEND, HERE, KEYRING_DIR_ENV, REPO

from ringcentral_emulator import DEMO_JWT, App, Emulator, EmulatorConfig
from tests.e2e.support import unavailable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - rcauth's own fallback on 3.10
    import tomli as tomllib

BLOCK_TIMEOUT = 60.0  # seconds for one block (the slowest, a browser sign-in and three commands: ~3 s)
SHELL = frozenset({"bash", "sh", "shell", "console"})
MARKER = re.compile(r"^<!--\s*not runnable:(?P<reason>.*?)-->$")
# Examples another test runs: (page, kind) -> that test, which must name the page.
COVERED = {
    ("docs/guides/python.md", "python"): "tests/reliability/test_readme_python_examples.py",
    ("docs/guides/python.md", "javascript"): "tests/contract/test_js_sdks.py",
}
# Inherited settings that would reach past the test's own: the reader's rcauth, app, keyring, browser.
# Programs the examples pipe into or call beside rcauth: a machine without one skips the page's examples
# (with the reason; under CI=true that fails).
PROGRAMS = ("curl", "jq")
DROPPED_ENV = ("RC_", "RCAUTH_", "PYTHON_KEYRING", "BROWSER", "PYTEST_ADDOPTS", "COV_CORE", "XDG_")


# ------------------------------------------------------------------------------------------ reading
@dataclass(frozen=True)
class Block:
    page: str  # relative to the repository, with /
    line: int  # of the opening fence, from 1
    info: str  # the info string's first word ("" for none)
    code: str  # the content, less the fence's indentation
    marker: str | None  # the line before the fence, when it is a not-runnable marker
    reason: str | None  # the marker's reason, stripped

    @property
    def kind(self) -> str:
        if self.info in SHELL:
            return "shell"
        return self.info if self.info in ("python", "javascript") else "other"

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def covered_by(self) -> str | None:
        return COVERED.get((self.page, self.kind))

    @property
    def runs_here(self) -> bool:
        return self.kind in ("shell", "python") and self.marker is None and self.covered_by is None


FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def fenced_blocks(page: str, text: str) -> Iterator[Block]:
    """The fenced code blocks of a Markdown page, as CommonMark reads them (fences indented in a list
    item included): each opened by a run of 3 or more backticks or tildes, closed by a run of the same
    character at least as long with nothing after it, or by the end of the page."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        body: list[str] = []
        end = index + 1
        while end < len(lines):
            closing = FENCE.match(lines[end])
            if closing and closing["fence"][0] == fence[0] and len(closing["fence"]) >= len(fence):
                if not closing["info"].strip():
                    break
            strip = min(indent, len(lines[end]) - len(lines[end].lstrip(" ")))
            body.append(lines[end][strip:])
            end += 1
        before = lines[index - 1].strip() if index else ""
        marked = MARKER.match(before)
        info = opening["info"].strip()
        yield Block(
            page=page,
            line=index + 1,
            info=info.split()[0] if info else "",
            code="\n".join(body) + "\n",
            marker=before if marked else None,
            reason=marked["reason"].strip() if marked else None,
        )
        index = end + 1


def documentation_pages() -> list[Path]:
    docs = REPO / "docs"
    pages = [path for path in docs.rglob("*.md") if path.relative_to(docs).parts[0] != "reference"]
    return [REPO / "README.md", *sorted(pages)]


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


BLOCKS = [
    block
    for path in documentation_pages()
    for block in fenced_blocks(relative(path), path.read_text("utf-8"))
]
PAGES_WITH_EXAMPLES = sorted({block.page for block in BLOCKS if block.runs_here})


# ------------------------------------------------------------------------------------ static checks
def test_every_fenced_block_says_what_it_holds() -> None:
    bare = [block.where for block in BLOCKS if not block.info]
    assert not bare, (
        "fenced blocks without an info string (`text` for output or a transcript, `bash` for commands, "
        f"`python`...): {', '.join(bare)}"
    )


def test_every_not_runnable_marker_gives_its_reason_and_marks_a_block() -> None:
    without_reason = [block.where for block in BLOCKS if block.marker is not None and not block.reason]
    assert not without_reason, f"`<!-- not runnable: REASON -->` with no reason before: {without_reason}"
    marked = {(block.page, block.line - 1) for block in BLOCKS if block.marker is not None}
    dangling = [
        f"{relative(path)}:{number}"
        for path in documentation_pages()
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if MARKER.match(line.strip()) and (relative(path), number) not in marked
    ]
    assert not dangling, f"not-runnable markers not on the line just before a fence: {dangling}"


def test_toml_and_json_blocks_parse() -> None:
    problems = []
    for block in BLOCKS:
        try:
            if block.info == "toml":
                tomllib.loads(block.code)
            elif block.info == "json":
                json.loads(block.code)
        except ValueError as exc:
            problems.append(f"{block.where} ({block.info}): {exc}")
    assert not problems, "\n".join(problems)


def test_every_example_another_test_runs_is_one_that_test_reads() -> None:
    """A `javascript` block is run only where a test reads it; a covered page's test must name it."""
    orphans = [
        block.where
        for block in BLOCKS
        if block.kind == "javascript" and block.marker is None and block.covered_by is None
    ]
    assert not orphans, (
        f"javascript blocks that no test runs (run them, or mark them not runnable): {orphans}"
    )
    for (page, _kind), test in COVERED.items():
        source = (REPO / test).read_text("utf-8")
        parts = page.split("/")
        assert " / ".join(f'"{part}"' for part in parts) in source or page in source, f"{test} reads {page}"


# ------------------------------------------------------------------------------------ running
def program(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def tools(directory: Path) -> Path:
    """A directory for the front of the PATH: this checkout's `rcauth`, this Python as `python` and
    `python3`, and the `$BROWSER` that approves the consent page and follows the redirect."""
    directory.mkdir(parents=True)
    python = shlex.quote(sys.executable)
    program(directory, "rcauth", f'#!/bin/sh\nexec {python} -m rcauth "$@"\n')
    for name in ("python", "python3"):
        program(directory, name, f'#!/bin/sh\nexec {python} "$@"\n')
    program(
        directory,
        "approve-in-browser",
        f"#!{sys.executable}\nimport sys\nfrom rcauth.demo import HeadlessApprover\n"
        "HeadlessApprover('Approve').approve(sys.argv[1])\n",
    )
    return directory


def without_comments(code: str) -> str:
    """The block's code less its shell or Python comments (near enough: no example quotes a `#`)."""
    return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in code.splitlines())


def starts_with_a_login(block: Block) -> bool:
    """Whether the first thing the block asks of rcauth is to sign in (then it starts signed out)."""
    code = without_comments(block.code)
    pattern = (
        r"\brcauth\.(\w+)\(" if block.kind == "python" else r"\brcauth(?:\s+--profile\s+\S+)?\s+([a-z-]+)"
    )
    first = re.search(pattern, code)
    return first is not None and first.group(1) == "login"


def uses_rcauth(block: Block) -> bool:
    return re.search(r"\brcauth\b", without_comments(block.code)) is not None


def shell_script(block: Block) -> str:
    code = block.code
    if block.info == "console":
        code = "".join(line[2:] + "\n" for line in code.splitlines() if line.startswith("$ "))
    return (
        "set -euo pipefail\n"
        'curl() { command curl --fail-with-body "$@"; }  # an HTTP error fails the example\n' + code
    )


@dataclass
class PageRun:
    """One page's emulator and the scratch directories of its blocks."""

    emu: Emulator
    redirect_uris: list[str]
    root: Path
    page_blocks: list[Block]
    recording_id: str | None = None

    def recording(self) -> str:
        """The id of a recording in the emulator's call log, for the placeholder RECORDING_ID."""
        if self.recording_id is None:
            token = jwt_token(self.emu)["access_token"]
            answer = requests.get(
                f"{self.emu.base_url}/restapi/v1.0/account/~/extension/~/call-log",
                params={"withRecording": "true", "perPage": 1, "dateFrom": "2000-01-01T00:00:00Z"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            answer.raise_for_status()
            self.recording_id = str(answer.json()["records"][0]["recording"]["id"])
        return self.recording_id

    def rewritten(self, code: str) -> str:
        """The block as it runs here: production origins and placeholders made the emulator's."""
        app = self.emu.config.apps[0]
        code = code.replace("https://platform.devtest.ringcentral.com", self.emu.base_url)
        code = code.replace("https://platform.ringcentral.com", self.emu.base_url)
        code = code.replace("https://media.ringcentral.com", self.emu.media_url)
        values = {
            "RC_APP_CLIENT_ID": app.client_id,
            "RC_APP_CLIENT_SECRET": app.client_secret,
            "RC_JWT": DEMO_JWT,
        }
        for name, value in values.items():
            code = re.sub(rf"\b{name}=\.\.\.(?=\s|$)", f"{name}={shlex.quote(value)}", code)
        if "RECORDING_ID" in code:
            code = code.replace("RECORDING_ID", self.recording())
        return code

    def app(self) -> dict[str, str]:
        """The emulator's app, as the environment and a `.env` file name it."""
        app = self.emu.config.apps[0]
        return {
            "RC_SERVER_URL": self.emu.base_url,
            "RC_APP_CLIENT_ID": app.client_id,
            "RC_APP_CLIENT_SECRET": app.client_secret,
        }

    def environment(self, number: int, block: Block, home: Path, work: Path) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith(DROPPED_ENV)}
        env.update(
            HOME=str(home),
            RCAUTH_CONFIG_DIR=str(home / "config"),
            RCAUTH_STATE_DIR=str(home / "state"),
            RCAUTH_DATA_DIR=str(home / "data"),
            PATH=os.pathsep.join([str(tools(home / "bin")), env.get("PATH", os.defpath)]),
            BROWSER=str(home / "bin" / "approve-in-browser"),
            **self.app(),
            RC_REDIRECT_URL=self.redirect_uris[number],
            RC_MEDIA_URL=self.emu.media_url,
            PYTHON_KEYRING_BACKEND=BACKEND,
            PYTHONPATH=os.pathsep.join([str(HERE), str(HERE.parent), str(REPO)]),
            PYTHONUNBUFFERED="1",
            NO_COLOR="1",
            COLUMNS="200",
            **{KEYRING_DIR_ENV: str(home / "keyring")},
        )
        if "$RC_JWT" in block.code or "${RC_JWT}" in block.code:
            env["RC_JWT"] = DEMO_JWT
        if self.prepare_files(block, work, env):
            for name in self.app():
                del env[name]
        return env

    def prepare_files(self, block: Block, work: Path, env: dict[str, str]) -> bool:
        """Write the files the block names; True when they give it the app (then the environment must
        not, or its settings would win over theirs)."""
        code = without_comments(block.code)
        gives_app = False
        for name in re.findall(r"--jwt-file\s+(\S+)", code):
            if name != "-":
                (work / name).write_text(DEMO_JWT + "\n", encoding="utf-8")
        for name in re.findall(r"--env-file\s+(\S+)", code):
            settings = {**self.app(), "RC_JWT": DEMO_JWT}
            (work / name).write_text("".join(f"{k}={v}\n" for k, v in settings.items()), encoding="utf-8")
            gives_app = True
        tables = self.profile_tables(set(re.findall(r"--profile\s+(\S+)", code)))
        if tables:
            config = Path(env["RCAUTH_CONFIG_DIR"])
            config.mkdir(parents=True, exist_ok=True)
            (config / "config.toml").write_text(tables, encoding="utf-8")
            gives_app = True
        return gives_app

    def profile_tables(self, profiles: set[str]) -> str:
        """The page's `[profiles.NAME]` tables of these profiles, as config.toml, with the app's values."""
        app = self.emu.config.apps[0]
        ours = {"client_id": app.client_id, "client_secret": app.client_secret, "server": self.emu.base_url}
        text = ""
        for block in self.page_blocks:
            if block.info != "toml":
                continue
            for name, table in tomllib.loads(block.code).get("profiles", {}).items():
                if name in profiles:
                    values = {key: ours.get(key, value) for key, value in table.items()}
                    values.setdefault("server", self.emu.base_url)  # production's, by default: the emulator
                    text += f"[profiles.{name}]\n" + "".join(
                        f"{k} = {json.dumps(v)}\n" for k, v in values.items()
                    )
        return text


def run_bounded(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run `argv` in a session of its own (so a timeout ends whatever it started too), bounded."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=BLOCK_TIMEOUT)
        return -1, out, err + f"\n[still running after {BLOCK_TIMEOUT:g} s: killed]"
    finally:
        try:  # anything it left in the background
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return proc.returncode, out, err


def run_block(run: PageRun, number: int, block: Block) -> str | None:
    """Run one example; what went wrong, or None."""
    home = run.root / f"block-{number}" / "home"
    work = run.root / f"block-{number}" / "work"
    work.mkdir(parents=True)
    env = run.environment(number, block, home, work)
    if uses_rcauth(block) and not starts_with_a_login(block):
        code, out, err = run_bounded(
            [sys.executable, "-m", "rcauth", "login", "--jwt"],
            {**env, **run.app(), "RC_JWT": DEMO_JWT},
            work,
        )
        if code != 0:
            return f"{block.where}: signing in before the block failed ({code}):\n{out}\n{err}"
    code_text = run.rewritten(block.code)
    if block.kind == "shell":
        argv = ["bash", "-c", shell_script(dataclasses.replace(block, code=code_text))]
    else:
        argv = [sys.executable, "-c", code_text]
    started = time.monotonic()
    code, out, err = run_bounded(argv, env, work)
    took = time.monotonic() - started
    if code != 0 or "Traceback (most recent call last)" in err:
        return (
            f"{block.where} ({block.info}) exited {code} after {took:.1f} s:\n{code_text}"
            f"--- stdout\n{out[-4000:]}\n--- stderr\n{err[-4000:]}"
        )
    return None


@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES)
def test_the_examples_of_the_page_run_against_the_emulator(page: str, tmp_path: Path) -> None:
    examples = [block for block in BLOCKS if block.page == page and block.runs_here]
    for name in PROGRAMS:
        wanted = any(re.search(rf"(^|[|;&(]|\s){name}\s", without_comments(b.code), re.M) for b in examples)
        if wanted and shutil.which(name) is None:
            unavailable(f"{page}'s examples run {name}, which is not on the PATH")
    page_blocks = [block for block in BLOCKS if block.page == page]
    uris = [loopback_redirect_uri() for _ in examples]
    config = EmulatorConfig(apps=(App(redirect_uris=tuple(uris)),), rate_limits_enabled=False)
    with Emulator(config, host="127.0.0.1", port=0) as emu:
        run = PageRun(emu, uris, tmp_path, page_blocks)
        failures = [
            problem for number, block in enumerate(examples) if (problem := run_block(run, number, block))
        ]
    assert not failures, "\n\n".join(failures)
