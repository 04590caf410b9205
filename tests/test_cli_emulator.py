"""The CLI's scripting surface (issue: profiles, status, token, api, formats, filters, headless and
JWT login, help) through click's CliRunner against the real emulator over HTTP."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cli_runner import cli_runner
from helpers import loopback_redirect_uri

from rcauth import browser
from rcauth.cli import cli
from rcauth.commands import login as login_command
from rcauth.demo import HeadlessApprover
from ringcentral_emulator import DEMO_JWT, App, Emulator, EmulatorConfig

CLIENT_ID, CLIENT_SECRET = "rcauth-emulator-client", "rcauth-emulator-secret"


@pytest.fixture(scope="module")
def redirect_uri() -> str:
    return loopback_redirect_uri()


@pytest.fixture(scope="module")
def emulator(redirect_uri: str) -> Iterator[Emulator]:
    config = EmulatorConfig(
        apps=(App(redirect_uris=(redirect_uri,)),), rate_limits_enabled=False, call_records=3000
    )
    with Emulator(config, host="127.0.0.1", port=0) as emu:
        yield emu


@pytest.fixture
def env(emulator: Emulator, redirect_uri: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "RC_SERVER_URL": emulator.base_url,
        "RC_APP_CLIENT_ID": CLIENT_ID,
        "RC_APP_CLIENT_SECRET": CLIENT_SECRET,
        "RC_REDIRECT_URL": redirect_uri,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(login_command, "open_browser", HeadlessApprover("Approve"))
    return values


@pytest.fixture
def run(env: dict[str, str]):
    runner = cli_runner()

    def invoke(*args: str, code: int = 0, input: str | None = None):
        result = runner.invoke(cli, list(args), input=input)
        assert result.exit_code == code, (args, result.output, result.exception)
        return result

    return invoke


@pytest.fixture
def signed_in(run) -> None:
    run("login", "--timeout", "30")


def test_profiles_keep_independent_sessions(run, memory_keyring) -> None:
    run("login", "--timeout", "30")
    run("--profile", "dev", "login", "--timeout", "30")
    listing = json.loads(run("profiles", "--format", "json").stdout)
    assert [p["profile"] for p in listing] == ["default", "dev"]
    assert all(
        p["user"].startswith("Alex Morgan") and p["refresh_token_expires_at"] > time.time() for p in listing
    )
    assert {k for k in memory_keyring.entries} == {("rcauth", "default"), ("rcauth", "dev")}
    default_token = run("token").stdout.strip()
    dev_token = run("token", "--profile", "dev").stdout.strip()
    assert default_token != dev_token
    run("logout", "--profile", "dev")
    assert [p["profile"] for p in json.loads(run("profiles", "--json").stdout)] == ["default"]
    assert run("token").stdout.strip() == default_token


def test_profile_from_environment(run, monkeypatch: pytest.MonkeyPatch, memory_keyring) -> None:
    monkeypatch.setenv("RCAUTH_PROFILE", "ci")
    run("login", "--timeout", "30")
    assert ("rcauth", "ci") in memory_keyring.entries


def test_status_reports_session_and_check(run, signed_in, emulator: Emulator) -> None:
    info = json.loads(run("status", "--check", "--json").stdout)
    assert info["server"] == emulator.base_url and info["client_id"] == CLIENT_ID
    assert info["check"] == "ok" and info["user"]["email"] == "alex.morgan@example.com"
    assert info["scopes"] == ["ReadAccounts", "ReadCallLog", "ReadCallRecording"]
    assert 3500 < info["access_token_expires_at"] - time.time() <= 3600
    text = run("status", "--format", "table").stdout
    assert "in 60 min" in text and "in 7 days" in text and "system keyring" in text
    assert CLIENT_SECRET not in text


def test_status_not_signed_in_exits_4(run) -> None:
    run("status", code=4)


def test_token_prints_a_token_that_works_with_curl_like_clients(run, signed_in, emulator: Emulator) -> None:
    token = run("token").stdout
    assert token.endswith("\n") and len(token.strip().split()) == 1
    answer = requests.get(
        f"{emulator.base_url}/restapi/v1.0/account/~/extension/~",
        headers={"Authorization": f"Bearer {token.strip()}"},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.json()["extensionNumber"] == "101"


def test_token_refreshes_when_due(run, signed_in, emulator: Emulator, memory_keyring) -> None:
    before = run("token").stdout
    stored = json.loads(memory_keyring.entries[("rcauth", "default")])
    memory_keyring.entries[("rcauth", "default")] = json.dumps(
        {**stored, "access_expires_at": time.time() + 30}
    )
    refreshes = emulator.counters()["refreshes"]
    after = run("token").stdout
    assert after != before and emulator.counters()["refreshes"] == refreshes + 1
    assert json.loads(memory_keyring.entries[("rcauth", "default")])["access_token"] == after.strip()


def test_api_get_prints_the_json(run, signed_in) -> None:
    data = json.loads(run("api", "GET", "/restapi/v1.0/account/~").stdout)
    assert data["id"] == 37439510  # an integer, as the spec's GetAccountInfoResponse types it


def test_api_fields_become_query_parameters(run, signed_in) -> None:
    out = run(
        "api",
        "get",
        "restapi/v1.0/account/~/extension/~/call-log",
        "-F",
        "perPage=3",
        "-F",
        "dateFrom=2000-01-01T00:00:00Z",
        "-F",
        "type=Fax",
    ).stdout
    data = json.loads(out)
    assert len(data["records"]) == 3 and {r["type"] for r in data["records"]} == {"Fax"}
    assert data["paging"]["perPage"] == 3


def test_api_paginate_streams_every_record(run, signed_in) -> None:
    out = run(
        "api",
        "GET",
        "/restapi/v1.0/account/~/extension/~/call-log",
        "-F",
        "perPage=250",
        "-F",
        "dateFrom=2000-01-01T00:00:00Z",
        "--paginate",
        "--format",
        "ndjson",
    ).stdout
    ids = [json.loads(line)["id"] for line in out.splitlines()]
    assert len(ids) == 3000 and len(set(ids)) == 3000


def test_api_paginate_of_a_resource_that_is_no_listing_is_an_error_not_an_empty_one(run, signed_in) -> None:
    """Before, the account (an object without `records`) was listed as `[]` with exit 0."""
    result = run("api", "GET", "/restapi/v1.0/account/~", "--paginate", code=5)
    said = "/restapi/v1.0/account/~ does not answer with a listing: its answer has no records"
    assert said in result.stderr


def test_api_error_shows_error_code_and_exits_5(run, signed_in) -> None:
    result = run("api", "GET", "/restapi/v1.0/account/~/no-such-thing", code=5)
    assert "CMN-102" in result.stderr or "404" in result.stderr


def test_api_input_body_is_sent_as_json(run, signed_in, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"text": "hi"}')
    result = run("api", "POST", "/restapi/v1.0/account/~/extension/~/sms", "--input", str(body), code=5)
    assert len(result.stderr.strip().splitlines()) == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert "not JSON" in run("api", "POST", "/x", "--input", str(bad), code=2).stderr
    endless = run("api", "POST", "/x", "--input", "/dev/zero", code=2).stderr  # read no further than 16 MiB
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    nested = run("api", "POST", "/x", "--input", str(deep), code=2).stderr
    said = nested.strip().splitlines()[-1]
    assert said == "Error: Invalid value for --input: JSON nested deeper than it can be read"
    last = endless.strip().splitlines()[-1]
    assert last == "Error: Invalid value for --input: more than 16 MiB: not a request body"


def test_call_log_formats(run, signed_in) -> None:
    args = ("call-log", "--from", "30d", "--limit", "7")
    as_json = json.loads(run(*args, "--format", "json").stdout)
    as_ndjson = [json.loads(line) for line in run(*args, "--format", "ndjson").stdout.splitlines()]
    rows = list(csv.DictReader(io.StringIO(run(*args, "--format", "csv").stdout)))
    assert len(as_json) == len(as_ndjson) == len(rows) == 7
    assert [r["id"] for r in as_json] == [r["id"] for r in as_ndjson] == [r["id"] for r in rows]
    assert rows[0]["from.phoneNumber"] == (as_json[0]["from"].get("phoneNumber") or "")
    assert "to.name" in rows[0] and "startTime" in rows[0]
    assert as_json == json.loads(run(*args, "--json").stdout)


def test_piped_default_is_json_and_table_can_be_forced(run, signed_in) -> None:
    json.loads(run("call-log", "--limit", "3").stdout)
    json.loads(run("whoami").stdout)
    table = run("whoami", "--format", "table").stdout
    assert "Alex Morgan" in table and "\x1b[" not in table


def test_call_log_filters(run, signed_in) -> None:
    fax = json.loads(run("call-log", "--from", "30d", "--type", "fax", "--limit", "20", "--json").stdout)
    assert fax and {r["type"] for r in fax} == {"Fax"}
    inbound = json.loads(
        run("call-log", "--from", "30d", "--direction", "Inbound", "--limit", "20", "--json").stdout
    )
    assert inbound and {r["direction"] for r in inbound} == {"Inbound"}
    detailed = json.loads(
        run("call-log", "--from", "30d", "--view", "detailed", "--limit", "3", "--json").stdout
    )
    assert all("legs" in r for r in detailed)
    window = json.loads(run("call-log", "--from", "2d", "--to", "1d", "--limit", "1000", "--json").stdout)
    now = time.time()
    for r in window:
        start = time.mktime(time.strptime(r["startTime"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        assert now - 2 * 86400 - 5 <= start <= now - 86400 + 5


def test_call_log_all_streams_every_page(run, signed_in) -> None:
    out = run("call-log", "--all", "--from", "2000-01-01", "--format", "ndjson").stdout
    ids = [json.loads(line)["id"] for line in out.splitlines()]
    assert len(ids) == 3000 and len(set(ids)) == 3000


def test_call_log_account_needs_admin(run, signed_in, emulator: Emulator) -> None:
    assert json.loads(run("call-log", "--account", "--from", "30d", "--limit", "5", "--json").stdout)
    emulator.set(admin=False)
    try:
        result = run("call-log", "--account", code=5)
    finally:
        emulator.set(admin=True)
    assert "FullCompanyCallLog" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_jwt_login_from_environment_file_and_stdin(run, tmp_path: Path, monkeypatch, memory_keyring) -> None:
    monkeypatch.setenv("RC_JWT", DEMO_JWT)
    assert "Signed in as Alex Morgan" in run("login", "--jwt").stdout
    monkeypatch.delenv("RC_JWT")
    credential = tmp_path / "cred.jwt"
    credential.write_text(DEMO_JWT + "\n")
    run("--profile", "file", "login", "--jwt-file", str(credential))
    run("--profile", "stdin", "login", "--jwt-file", "-", input=DEMO_JWT)
    assert {("rcauth", "default"), ("rcauth", "file"), ("rcauth", "stdin")} <= set(memory_keyring.entries)
    result = run("--profile", "bad", "login", "--jwt-file", "-", input="not-a-registered-jwt", code=1)
    assert "refused the JWT credential" in result.stderr and ("rcauth", "bad") not in memory_keyring.entries


def test_jwt_login_works_without_a_keyring_given_consent(run, isolated: Path, monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("RC_JWT", DEMO_JWT)
    denied = run("login", "--jwt", code=6)
    assert "--insecure-storage" in denied.stderr
    run("login", "--jwt", "--insecure-storage")
    files = list((isolated / "data").glob("*.session.json"))
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert "Alex Morgan" in run("whoami", "--insecure-storage", "--json").stdout


def test_login_option_conflicts_are_usage_errors(run) -> None:
    assert "choose one of" in run("login", "--jwt", "--paste", code=2).stderr


def test_paste_login_in_a_real_process(emulator: Emulator, env: dict[str, str], isolated: Path) -> None:
    """`--paste`: the browser is elsewhere; the user pastes back the address it landed on."""
    proc_env = {
        **os.environ,
        **env,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "RCAUTH_INSECURE_STORAGE": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "rcauth", "login", "--paste"],
        env=proc_env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = ""
        while not url:
            line = proc.stderr.readline()
            assert line, "rcauth exited before printing the URL"
            if "/restapi/oauth/authorize?" in line:
                url = line.strip()
        with requests.Session() as browser:  # a browser on another machine: it cannot reach the redirect
            page = browser.get(url, timeout=10)
            landed = _approve_without_following(browser, page)
        out, err = proc.communicate(landed + "\n", timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Signed in as Alex Morgan" in out
    assert "code=" not in err  # the pasted address (with its code) is not echoed


def _approve_without_following(browser: requests.Session, page: requests.Response) -> str:
    from rcauth.demo import _FormParser

    parser = _FormParser()
    parser.feed(page.text)
    form = parser.forms[0]
    name, value, _ = next(b for b in form.buttons if b[2] == "Approve")
    answer = browser.post(
        requests.compat.urljoin(page.url, form.action),
        data=[*form.fields, (name, value)],
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code in (302, 303)
    return answer.headers["Location"]


def test_wsl_opens_the_windows_browser(monkeypatch, tmp_path: Path) -> None:
    log = tmp_path / "opened"
    fake = tmp_path / "wslview"
    fake.write_text(
        textwrap.dedent(f"""\
        #!/bin/sh
        printf '%s' "$1" > {log}
    """)
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert browser.open_windows_browser("http://127.0.0.1:1/x?a=1&b=2")
    assert log.read_text() == "http://127.0.0.1:1/x?a=1&b=2"


def test_every_command_has_help_with_examples_and_environment() -> None:
    runner = cli_runner()
    import click

    for name in cli.list_commands(click.Context(cli)):
        if name in ("emulator",):
            continue
        text = runner.invoke(cli, [name, "--help"]).stdout
        assert "Example" in text, name
        if name not in ("completion", "demo"):
            assert "Environment:" in text, name


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str) -> None:
    result = cli_runner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0 and "_RCAUTH_COMPLETE" in result.stdout


def test_tab_after_rcauth_lists_commands_without_loading_them() -> None:
    """zsh and fish show each command's help on Tab: it comes from the table, not from importing
    every command's module (requests, the emulator...), and options still complete."""
    code = (
        "import os, sys\n"
        "from rcauth.cli import main\n"
        "os.environ.update(_RCAUTH_COMPLETE='zsh_complete', COMP_WORDS=sys.argv[1], COMP_CWORD='1')\n"
        "try:\n"
        "    main([])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('rcauth.commands.', 'rcauth.cli_common', 'ringcentral_emulator', 'requests')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )

    def complete(words: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-c", code, words], capture_output=True, text=True, check=True, timeout=60
        )
        return result.stdout.splitlines()

    lines = complete("rcauth wh")
    assert lines[:3] == ["plain", "whoami", "Show who the stored session belongs to."]
    assert lines[-1] == "[]"
    lines = complete("rcauth --pro")
    assert lines[:2] == ["plain", "--profile"] and lines[-1] == "[]"


def test_command_table_lines_match_each_commands_own_help() -> None:
    """`rcauth --help` lists commands from `COMMANDS` without importing them; each line must be the
    first sentence of the command's docstring, and each entry must name a real command."""
    import importlib

    from rcauth.cli import COMMANDS

    for name, (target, line) in COMMANDS.items():
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        assert command.name == name, target
        assert line == command.get_short_help_str(limit=300), name


def test_help_and_version_import_no_command_module() -> None:
    """The point of the command table: listing commands loads none of them (nor requests, rich...)."""
    code = (
        "import sys\n"
        "from rcauth.cli import main\n"
        "for args in (['--help'], ['--version']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('rcauth.commands.', 'rcauth.cli_common', 'ringcentral_emulator', 'requests', 'rich',"
        " 'keyring', 'oauthlib')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"\xff\xfe binary", "is not text"), (b"x" * 70000, "more than 65536 characters")],
    ids=["not text", "far too long"],
)
def test_a_jwt_file_that_cannot_be_a_jwt_is_one_line_before_any_request(
    run, tmp_path: Path, emulator, content: bytes, says: str
) -> None:
    """A wrong file (a binary, /dev/zero) is read no further than a JWT could be long: exit 3, one line,
    and nothing asked of RingCentral."""
    credential = tmp_path / "cred.jwt"
    credential.write_bytes(content)
    before = emulator.counters()["grants"]
    result = run("login", "--jwt-file", str(credential), code=3)
    assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert emulator.counters()["grants"] == before


def test_login_records_the_media_server_given_and_status_shows_it(run, memory_keyring, monkeypatch) -> None:
    monkeypatch.setenv("RC_JWT", DEMO_JWT)
    run("login", "--jwt", "--media-server", "http://127.0.0.1:9/")
    stored = json.loads(memory_keyring.entries[("rcauth", "default")])
    assert stored["media_server"] == "http://127.0.0.1:9"
    assert json.loads(run("status", "--json").stdout)["media_server"] == "http://127.0.0.1:9"


def test_a_media_server_login_would_send_the_token_to_in_clear_stops_it_before_any_grant(
    run, emulator: Emulator, monkeypatch
) -> None:
    monkeypatch.setenv("RC_JWT", DEMO_JWT)
    monkeypatch.setenv("RC_MEDIA_URL", "http://media.example.com")
    grants = emulator.counters()["grants"]
    result = run("login", "--jwt", code=3)
    assert result.stderr.startswith("Error: media server URL 'http://media.example.com' must use https")
    assert result.stderr.count("\n") == 1
    assert emulator.counters()["grants"] == grants
