"""Every documented exit code, reached by a real `rcauth` process against the emulator, and every path
that once printed "unexpected error" (issue 10, part 5) ending in one plain line and its code.

stdout trouble is real here: fd 1 closed before Python starts (`>&-`, so `sys.stdout` is None),
`/dev/full` (every write fails with ENOSPC), and a pseudo-terminal whose other end has hung up
(every write fails with EIO).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reliability_support import AUTHORIZE_URL, REPO, WAIT, Rcauth, Result, wait_for, wait_for_stderr

from rcauth.errors import ExitCode

needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
needs_sh = pytest.mark.skipif(os.name != "posix", reason="closes fd 1 with a POSIX shell's >&-")

NO_SPACE = "Error: no space left on device while writing the output\n"
STDOUT_CLOSED = "Error: cannot write the output: standard output is closed\n"


def run(env: dict[str, str], *args: str, stdout: Any, sh_script: str | None = None) -> Result:
    """`python -m rcauth ARGS` with `stdout` as given; with `sh_script`, started by `sh -c SH_SCRIPT`
    (`exec "$@" >&-` closes fd 1 before Python starts)."""
    argv = [sys.executable, "-m", "rcauth", *args]
    if sh_script is not None:
        argv = ["sh", "-c", sh_script, "sh", *argv]
    proc = subprocess.run(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, timeout=WAIT
    )
    out = proc.stdout.decode() if isinstance(proc.stdout, bytes) else ""
    return Result(tuple(args), proc.returncode, out, proc.stderr.decode("utf-8", "replace"))


def closed_stdout(env: dict[str, str], *args: str) -> Result:
    return run(env, *args, stdout=subprocess.DEVNULL, sh_script='exec "$@" >&-')


def full_stdout(env: dict[str, str], *args: str) -> Result:
    with open("/dev/full", "wb") as full:
        return run(env, *args, stdout=full)


@pytest.fixture(params=["buffered", "unbuffered"])
def buffering_env(request: pytest.FixtureRequest, env: dict[str, str]) -> dict[str, str]:
    """`env` as Python buffers stdout by default, and as with PYTHONUNBUFFERED (the suite's default)."""
    if request.param == "unbuffered":
        return {**env, "PYTHONUNBUFFERED": "1"}
    return {k: v for k, v in env.items() if k != "PYTHONUNBUFFERED"}


def last_line(result: Result) -> str:
    return result.err.splitlines()[-1] if result.err else ""


def plain(result: Result) -> None:
    """What every failure path must look like: no traceback, no "unexpected error"."""
    assert "unexpected error" not in result.err, result
    assert "Traceback" not in result.err, result


def config_file(env: dict[str, str], text: str) -> Path:
    path = Path(env["RCAUTH_CONFIG_DIR"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------- the table
def test_the_readme_sends_readers_to_the_exit_codes_page_and_names_only_codes_rcauth_uses() -> None:
    """The table itself is generated from `ExitCode` (docs/reference/exit-codes.md, checked by
    tests/test_docs_reference.py); the README names the everyday ones and links it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "(docs/reference/exit-codes.md)" in text
    named = {int(code) for code in re.findall(r"[(;] ?(\d{1,3}): ", text)}  # "(4: sign in again; 5: ..."
    assert named and named <= {int(code) for code in ExitCode}, sorted(named)


def reach_ok(emu, env, rcauth: Rcauth, sign_in) -> tuple[Result, str | None]:
    sign_in()
    return rcauth.run("whoami", "--json"), None


def reach_generic(emu, env, rcauth: Rcauth, sign_in) -> tuple[Result, str | None]:
    sign_in()
    return closed_stdout(env, "token"), STDOUT_CLOSED.rstrip("\n")


def reach_usage(emu, env, rcauth: Rcauth, sign_in) -> tuple[Result, str | None]:
    sign_in()
    result = rcauth.run("call-log", "--from", "99999999d")
    return (
        result,
        "Error: Invalid value for --from: '99999999d' is out of range: dates run from year 1 to 9999",
    )


def reach_config(emu, env, rcauth: Rcauth, sign_in) -> tuple[Result, str | None]:
    path = config_file(env, "client_secret = true")
    expected = (
        f"Error: config file {str(path)!r}: client_secret must be a string in quotes "
        '(client_secret = "..."), not a boolean'
    )
    return rcauth.run("login", "--no-browser"), expected


def reach_not_logged_in(emu, env, rcauth: Rcauth, sign_in) -> tuple[Result, str | None]:
    return rcauth.run("whoami"), "Error: not signed in; run `rcauth login` first"


def reach_api(emu, env, rcauth: Rcauth, sign_in) -> tuple[Result, str | None]:
    sign_in()
    result = rcauth.run("api", "GET", "/restapi/v1.0/account/~/no-such-thing")
    return result, "Error: CMN-120: Invalid URI (HTTP 404)"


def reach_storage(emu, env, rcauth: Rcauth, sign_in) -> tuple[Result, str | None]:
    locked = {"PYTHON_KEYRING_BACKEND": "reliability_support.LockedKeyring"}
    return rcauth.run("whoami", env=locked), None


def reach_interrupted(emu, env, rcauth: Rcauth, sign_in) -> tuple[Result, str | None]:
    proc = rcauth.start("login", "--no-browser")
    wait_for_stderr(proc, AUTHORIZE_URL)
    return rcauth.interrupt(proc), "Error: interrupted"


def reach_signal(name: str) -> Callable[..., tuple[Result, str | None]]:
    """SIGTERM/SIGHUP while a refresh is in flight (the token answer held by `token_delay`): held until
    the rotated pair is stored, then honoured with 128 + the signal's number."""

    def reach(emu, env, rcauth: Rcauth, sign_in) -> tuple[Result, str | None]:
        sign_in(access_expires_at=time.time() - 5)
        emu.set(token_delay=60)
        # rcauth keeps a signal it inherits ignored (`nohup`) ignored: the child must not inherit that.
        previous = signal.signal(signal.SIGHUP, signal.SIG_DFL)
        try:
            proc = rcauth.start("whoami", "--json")
        finally:
            signal.signal(signal.SIGHUP, previous)
        wait_for(lambda: emu.counters()["refreshes"] >= 1, "the refresh to rotate the pair", proc=proc)
        proc.send_signal(getattr(signal, name))
        emu.set(token_delay=0)
        return rcauth.finish(proc), f"Error: terminated ({name})"

    return reach


REACH: dict[ExitCode, Callable[..., tuple[Result, str | None]]] = {
    ExitCode.OK: reach_ok,
    ExitCode.GENERIC: reach_generic,
    ExitCode.USAGE: reach_usage,
    ExitCode.CONFIG: reach_config,
    ExitCode.NOT_LOGGED_IN: reach_not_logged_in,
    ExitCode.API: reach_api,
    ExitCode.STORAGE: reach_storage,
    ExitCode.INTERRUPTED: reach_interrupted,
    ExitCode.HANGUP: reach_signal("SIGHUP"),
    ExitCode.TERMINATED: reach_signal("SIGTERM"),
}


def test_every_exit_code_has_a_way_to_reach_it() -> None:
    assert set(REACH) == set(ExitCode)


@needs_sh
@pytest.mark.parametrize("code", list(ExitCode), ids=lambda code: f"{int(code)}-{code.name}")
def test_each_documented_exit_code_is_what_a_real_command_returns(
    emu, env, rcauth: Rcauth, sign_in, code: ExitCode
) -> None:
    result, line = REACH[code](emu, env, rcauth, sign_in)
    assert result.code == int(code), result
    plain(result)
    if code == ExitCode.OK:
        assert result.err == "" and result.out.startswith("{"), result
    else:
        assert result.err.endswith("\n") and result.err.count("Error: ") == 1, result
    if line is not None:
        assert last_line(result) == line, result


# ---------------------------------------------------------------------------------------- stdout
@needs_sh
def test_the_closed_stdout_these_tests_use_is_what_python_sees_as_none(env) -> None:
    probe = [sys.executable, "-c", "import sys; sys.stderr.write(repr(sys.stdout))"]
    proc = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", *probe], env=env, capture_output=True, text=True, timeout=WAIT
    )
    assert proc.stderr == "None"


@needs_sh
@pytest.mark.parametrize(
    "args", [("whoami",), ("whoami", "--json"), ("token",), ("call-log", "--limit", "3")]
)
def test_a_command_started_with_stdout_closed_exits_1_saying_so(env, sign_in, stored, args) -> None:
    session = sign_in()
    result = closed_stdout(env, *args)
    assert (result.code, result.err) == (1, STDOUT_CLOSED), result
    assert stored() == session


@needs_sh
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc/self/fd (Linux)")
@pytest.mark.parametrize("closed", ["<&-", ">&-", "2>&-", "<&- >&- 2>&-"])
def test_a_closed_standard_fd_is_held_on_the_null_device_so_no_file_can_take_its_number(
    env, tmp_path: Path, closed: str
) -> None:
    """Otherwise the next file rcauth opens (the session file, a lock, a socket) would be given fd 0, 1
    or 2, and a child process (the browser) would read it or write its output into it."""
    probe = (
        "import os\n"
        "from rcauth.stdio import guard_std_streams\n"
        "guard_std_streams()\n"
        "opened = open(os.devnull)\n"
        "with open(os.environ['PROBE_OUT'], 'w') as out:\n"
        "    out.write(' '.join(os.readlink(f'/proc/self/fd/{fd}') for fd in (0, 1, 2)))\n"
        "    out.write(f' {opened.fileno() > 2}')\n"
    )
    out = tmp_path / "probe.txt"
    subprocess.run(
        ["sh", "-c", f'exec "$@" {closed}', "sh", sys.executable, "-c", probe],
        env={**env, "PROBE_OUT": str(out)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=WAIT,
        check=True,
    )
    *targets, later_file_above_2 = out.read_text().split()
    assert (targets, later_file_above_2) == (["/dev/null"] * 3, "True")


@needs_sh
def test_a_command_with_nothing_to_print_still_works_with_stdout_closed(env) -> None:
    """Only a write to the closed stdout fails: `logout` with no session writes to stderr alone."""
    result = closed_stdout(env, "logout")
    assert (result.code, result.err) == (0, "Not signed in; nothing to do.\n"), result


@needs_dev_full
@pytest.mark.parametrize(
    "args",
    [
        ("whoami",),
        ("whoami", "--json"),
        ("token",),
        ("status", "--json"),
        ("call-log", "--limit", "3"),
        ("call-log", "--all", "--from", "2000-01-01", "--format", "csv"),
        ("api", "GET", "/restapi/v1.0/account/~"),
        ("--help",),
    ],
)
def test_a_full_disk_under_stdout_is_named_in_one_line_exit_1(buffering_env, sign_in, stored, args) -> None:
    session = sign_in()
    result = full_stdout(buffering_env, *args)
    assert (result.code, result.err) == (1, NO_SPACE), result
    assert stored() == session


@needs_dev_full
def test_a_full_disk_after_a_refresh_keeps_the_rotated_session(env, sign_in, stored) -> None:
    before = sign_in(access_expires_at=0)
    result = full_stdout(env, "token")
    assert (result.code, result.err) == (1, NO_SPACE), result
    after = stored()
    assert after is not None and after.refresh_token != before.refresh_token


@needs_sh
def test_a_listing_cut_short_by_a_file_size_limit_keeps_what_was_written_and_exits_1(
    buffering_env, sign_in, emu, tmp_path: Path
) -> None:
    """A disk that fills up part way: `ulimit -f 16` lets 8192 bytes into the file, then every write
    fails (EFBIG). What was written stays; the error is one line; the exit code says it failed."""
    sign_in()
    emu.set(call_records=2000)
    target = tmp_path / "calls.ndjson"
    args = ("call-log", "--all", "--from", "2000-01-01", "--format", "ndjson")
    result = run(
        buffering_env,
        *args,
        stdout=subprocess.DEVNULL,
        sh_script=f'ulimit -f 16; exec "$@" > {shlex.quote(str(target))}',
    )
    assert (result.code, result.err) == (1, "Error: file too large while writing the output\n"), result
    written = target.read_bytes()
    assert len(written) == 8192
    lines = written.split(b"\n")
    assert all(json.loads(line)["id"] for line in lines[:-1]) and len(lines) > 2


def test_a_terminal_that_hung_up_is_an_input_output_error_exit_1(buffering_env, sign_in) -> None:
    sign_in()
    controller, terminal = os.openpty()
    os.close(controller)  # the terminal's other end is gone: every write fails with EIO
    try:
        result = run(buffering_env, "whoami", stdout=terminal)
    finally:
        os.close(terminal)
    assert (result.code, result.err) == (1, "Error: input/output error while writing the output\n"), result


@needs_sh
def test_stderr_closed_keeps_the_exit_code(env) -> None:
    proc = subprocess.run(
        ["sh", "-c", 'exec "$@" 2>&-', "sh", sys.executable, "-m", "rcauth", "whoami", "--no-such-option"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        timeout=WAIT,
    )
    assert proc.returncode == 2


@needs_dev_full
def test_stderr_on_a_full_disk_keeps_the_exit_code(env) -> None:
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "rcauth", "whoami", "--no-such-option"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=full,
            timeout=WAIT,
        )
    assert proc.returncode == 2


@needs_sh
def test_input_from_a_closed_stdin_reads_nothing_and_is_a_usage_error(env, sign_in) -> None:
    sign_in()
    args = ("api", "POST", "/restapi/v1.0/account/~/extension/~/sms", "--input", "-")
    result = run(env, *args, stdout=subprocess.PIPE, sh_script='exec "$@" <&-')
    assert result.code == 2, result
    plain(result)
    assert (
        last_line(result)
        == "Error: Invalid value for --input: not JSON: Expecting value: line 1 column 1 (char 0)"
    )


# ---------------------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--from", "99999999d"),
        ("--to", "99999999999999999999d"),
        ("--from", "0000-01-01"),
        ("--from", "10000-01-01"),
        ("--to", "9999-12-31T23:00-05:00"),
    ],
)
def test_a_date_out_of_range_is_a_usage_error(rcauth: Rcauth, sign_in, option: str, value: str) -> None:
    sign_in()
    result = rcauth.run("call-log", option, value)
    assert result.code == 2, result
    plain(result)
    assert last_line(result) == (
        f"Error: Invalid value for {option}: {value!r} is out of range: dates run from year 1 to 9999"
    )


def test_from_later_than_to_is_a_usage_error_not_an_empty_list(rcauth: Rcauth, sign_in) -> None:
    sign_in()
    result = rcauth.run("call-log", "--from", "2026-01-02", "--to", "2026-01-01T00:00Z", "--json")
    assert (result.code, result.out) == (2, ""), result
    plain(result)
    assert re.fullmatch(
        r"Error: Invalid value for --from: '2026-01-02' \(\S+Z\) is later than "
        r"--to '2026-01-01T00:00Z' \(2026-01-01T00:00:00.000Z\): no call can match",
        last_line(result),
    ), result


def test_from_later_than_to_is_explained_in_help(rcauth: Rcauth) -> None:
    result = rcauth.run("call-log", "--help")
    assert "not later than --to (or now)" in " ".join(result.out.split())


# ---------------------------------------------------------------------------------------- api
@pytest.mark.parametrize("field", ["perPage=007", "to=0044123"])
def test_a_field_with_leading_zeros_is_sent_as_text(rcauth: Rcauth, sign_in, field: str) -> None:
    sign_in()
    result = rcauth.run("api", "GET", "/restapi/v1.0/account/~/extension", "-F", field)
    assert result.code == 0, result
    assert '"records"' in result.out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"text": NaN}', "not JSON: NaN is not a JSON value"),
        (b'{"n": 1e999}', "not JSON: 1e999 is too large for a JSON number"),
        (b"\xff\xfe{}", "not UTF-8 text (invalid start byte)"),
    ],
)
def test_an_input_body_that_is_not_json_is_a_usage_error(
    rcauth: Rcauth, sign_in, tmp_path: Path, content: bytes, message: str
) -> None:
    sign_in()
    body = tmp_path / "body.json"
    body.write_bytes(content)
    result = rcauth.run("api", "POST", "/restapi/v1.0/account/~/extension/~/sms", "--input", str(body))
    assert result.code == 2, result
    plain(result)
    assert last_line(result) == f"Error: Invalid value for --input: {message}"


# ---------------------------------------------------------------------------------------- config.toml
@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ('profiles = "x"', "profiles must be a table ([profiles.NAME] sections), not a string"),
        ("[profiles]\ndev = 3", "profiles.dev must be a table ([profiles.dev]), not an integer"),
        (
            "client_secret = true",
            'client_secret must be a string in quotes (client_secret = "..."), not a boolean',
        ),
        ("server = 42", 'server must be a string in quotes (server = "..."), not an integer'),
        ('client_id = ["a"]', 'client_id must be a string in quotes (client_id = "..."), not an array'),
    ],
)
def test_a_config_value_of_the_wrong_type_exits_3_naming_file_and_key(
    env, rcauth: Rcauth, toml: str, problem: str
) -> None:
    path = config_file(env, toml)
    result = rcauth.run("login", "--no-browser")
    assert result.code == 3, result
    plain(result)
    assert result.err == f"Error: config file {str(path)!r}: {problem}\n"
