"""Commands through click's CliRunner: an in-memory keyring, RingCentral at the HTTP layer via
requests-mock, and the loopback receiver on a real socket fed by a scripted browser."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import requests_mock
from cli_runner import cli_runner
from click.testing import CliRunner
from helpers import save_session, token_answer

from rcauth.cli import cli
from rcauth.commands import login as login_command
from rcauth.session import Session

SERVER = "https://platform.ringcentral.com"
TOKEN_URL = SERVER + "/restapi/oauth/token"
REVOKE_URL = SERVER + "/restapi/oauth/revoke"
EXT_URL = SERVER + "/restapi/v1.0/account/~/extension/~"
CALLS_URL = SERVER + "/restapi/v1.0/account/~/extension/~/call-log"
ACCOUNT_CALLS_URL = SERVER + "/restapi/v1.0/account/~/call-log"
SECRET = "client-secret-value-42"
TOKEN = token_answer(
    "AT-login-access-token-1",
    "RT-login-refresh-token-1",
    scope="ReadAccounts ReadCallLog",
    owner_id="62264425004",
    endpoint_id="ep1",
)
EXT = {
    "id": 62264425004,
    "extensionNumber": "101",
    "name": "Alex Doe",
    "status": "Enabled",
    "type": "User",
    "contact": {"firstName": "Alex", "lastName": "Doe", "email": "alex.doe@example.com"},
    "account": {
        "id": "62264425001",
        "uri": "https://platform.ringcentral.com/restapi/v1.0/account/62264425001",
    },
}


def record(i: int) -> dict:
    return {
        "id": f"rec{i}",
        "startTime": "2026-11-28T10:00:00.000Z",
        "duration": 65 + i,
        "type": "Voice",
        "direction": "Inbound",
        "result": "Accepted",
        "action": "Phone Call",
        "from": {"phoneNumber": "+16505550100", "name": "Caller"},
        "to": {"extensionNumber": "101", "name": "Alex"},
    }


@pytest.fixture
def runner() -> CliRunner:
    return cli_runner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "RC_APP_CLIENT_ID": "cid",
        "RC_APP_CLIENT_SECRET": SECRET,
        "RC_SERVER_URL": SERVER,
        "RC_REDIRECT_URL": "http://localhost:0/oauth2callback",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


class ScriptedBrowser:
    """Stands in for the system browser: reads the authorize URL and hits the loopback redirect."""

    def __init__(self, answer: str = "approve", state: str | None = None) -> None:
        self.answer, self.forced_state = answer, state
        self.url: str | None = None
        self.page: tuple[int, str] | None = None
        self.done = threading.Event()

    def __call__(self, url: str) -> None:
        self.url = url
        threading.Thread(target=self._run, daemon=True).start()

    @property
    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.url or "").query).items()}

    def _run(self) -> None:
        q = self.query
        redirect = urlsplit(q["redirect_uri"])
        state = self.forced_state if self.forced_state is not None else q["state"]
        params = (
            "code=the-auth-code-123"
            if self.answer == "approve"
            else "error=access_denied&error_description=no"
        )
        conn = http.client.HTTPConnection(redirect.hostname, redirect.port, timeout=10)
        conn.request("GET", f"{redirect.path}?{params}&state={state}")
        response = conn.getresponse()
        self.page = (response.status, response.read().decode())
        conn.close()
        self.done.set()


def logged_in(expires_in: float = 3600) -> Session:
    return save_session(
        expires_in=expires_in,
        server=SERVER,
        client_secret=SECRET,
        access_token="AT-stored-access-1",
        refresh_token="RT-stored-refresh-1",
        scope="ReadAccounts ReadCallLog",
        owner_id="62264425004",
    )


def test_login_stores_session_and_prints_who_signed_in(runner, env, monkeypatch, memory_keyring) -> None:
    browser = ScriptedBrowser()
    monkeypatch.setattr(login_command, "open_browser", browser)
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        m.get(EXT_URL, json=EXT)
        result = runner.invoke(cli, ["login", "--timeout", "10"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Signed in as Alex Doe (extension 101, alex.doe@example.com)" in result.stdout
    assert browser.done.wait(5) and browser.page and browser.page[0] == 200
    assert "Signed in to RingCentral" in browser.page[1]
    # the exchange: Basic auth, the code, the same redirect URI, a verifier matching the challenge
    exchange = m.request_history[0]
    body = {k: v[0] for k, v in parse_qs(exchange.text).items()}
    assert exchange.headers["Authorization"] == "Basic " + base64.b64encode(f"cid:{SECRET}".encode()).decode()
    assert body["code"] == "the-auth-code-123" and body["redirect_uri"] == browser.query["redirect_uri"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(body["code_verifier"].encode()).digest()).rstrip(b"=")
    assert browser.query["code_challenge"] == challenge.decode()
    assert browser.query["code_challenge_method"] == "S256"
    stored = json.loads(memory_keyring.entries[("rcauth", "default")])
    assert (
        stored["access_token"] == TOKEN["access_token"] and stored["refresh_token"] == TOKEN["refresh_token"]
    )
    assert stored["client_secret"] == SECRET and stored["server"] == SERVER
    assert stored["access_expires_at"] > time.time() + 3500
    # the URL is always printed, and no secret is
    assert browser.url in result.stderr
    for secret in (
        SECRET,
        TOKEN["access_token"],
        TOKEN["refresh_token"],
        "the-auth-code-123",
        body["code_verifier"],
    ):
        assert secret not in result.stdout + result.stderr


def test_login_denied_stores_nothing(runner, env, monkeypatch, memory_keyring) -> None:
    monkeypatch.setattr(login_command, "open_browser", ScriptedBrowser(answer="deny"))
    with requests_mock.Mocker() as m:
        result = runner.invoke(cli, ["login", "--timeout", "10"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == "Error: access was denied in the browser (no)"
    assert memory_keyring.entries == {} and m.request_history == []


def test_login_with_forged_state_times_out_and_stores_nothing(
    runner, env, monkeypatch, memory_keyring
) -> None:
    browser = ScriptedBrowser(state="forged-state")
    monkeypatch.setattr(login_command, "open_browser", browser)
    with requests_mock.Mocker() as m:
        result = runner.invoke(cli, ["login", "--timeout", "1"])
    assert result.exit_code == 1
    assert "no sign-in arrived within 1 s" in result.stderr
    assert browser.page and browser.page[0] == 400
    assert memory_keyring.entries == {} and m.request_history == []


def test_login_refused_code_is_a_clear_error(runner, env, monkeypatch, memory_keyring) -> None:
    monkeypatch.setattr(login_command, "open_browser", ScriptedBrowser())
    with requests_mock.Mocker() as m:
        m.post(
            TOKEN_URL,
            status_code=400,
            json={
                "error": "invalid_grant",
                "error_description": "Invalid code",
                "errors": [{"errorCode": "OAU-106"}],
            },
        )
        result = runner.invoke(cli, ["login", "--timeout", "10"])
    assert result.exit_code == 1
    assert "RingCentral refused the authorization code: OAU-106: Invalid code (HTTP 400)" in result.stderr
    assert memory_keyring.entries == {}


def test_login_without_client_id_names_the_ways_to_give_it(runner) -> None:
    result = runner.invoke(cli, ["login"])
    assert result.exit_code == 3
    assert (
        "--client-id" in result.stderr
        and "RC_APP_CLIENT_ID" in result.stderr
        and "--env-file" in result.stderr
    )


def test_login_no_browser_only_prints_the_url(runner, env, monkeypatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(login_command, "open_browser", opened.append)
    result = runner.invoke(cli, ["login", "--no-browser", "--timeout", "1"])
    assert opened == [] and result.exit_code == 1
    assert "/restapi/oauth/authorize?response_type=code" in result.stderr


def test_login_tells_the_user_when_no_browser_can_open(runner, env, monkeypatch) -> None:
    """The browser module only reports `NO_BROWSER`; the command is the one that says so."""
    from rcauth import browser

    monkeypatch.setattr(browser.sys, "platform", "linux")
    monkeypatch.setattr(browser, "is_wsl", lambda: False)
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(cli, ["login", "--timeout", "1"])
    assert result.exit_code == 1
    assert "No graphical browser here: open the URL above, or use --paste over SSH." in result.stderr


def test_login_over_existing_session_revokes_the_old_one(runner, env, monkeypatch, memory_keyring) -> None:
    logged_in()
    monkeypatch.setattr(login_command, "open_browser", ScriptedBrowser())
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        m.post(REVOKE_URL, text="")
        m.get(EXT_URL, json=EXT)
        result = runner.invoke(cli, ["login", "--timeout", "10"], catch_exceptions=False)
    assert result.exit_code == 0
    revoke = [r for r in m.request_history if r.url == REVOKE_URL]
    assert len(revoke) == 1 and parse_qs(revoke[0].text) == {"token": ["RT-stored-refresh-1"]}
    assert json.loads(memory_keyring.entries[("rcauth", "default")])["access_token"] == TOKEN["access_token"]


@pytest.mark.parametrize(
    ("answer", "warned"),
    [
        ({"status_code": 503, "text": "<html>down</html>", "headers": {"Content-Type": "text/html"}}, True),
        (
            {
                "status_code": 200,
                "text": "<html>hotel Wi-Fi</html>",
                "headers": {"Content-Type": "text/html"},
            },
            True,
        ),
        ({"exc": requests.ConnectionError("network down")}, True),
        ({"status_code": 302, "text": "", "headers": {"Location": "http://10.0.0.1/portal"}}, True),
        (
            {"status_code": 400, "json": {"error": "invalid_grant", "error_description": "Token is expired"}},
            False,
        ),
    ],
    ids=["5xx", "a captive portal's 200 page", "unreachable", "a redirect elsewhere", "a refusal"],
)
def test_login_over_a_session_it_could_not_revoke_says_so(
    runner, env, monkeypatch, memory_keyring, answer, warned
) -> None:
    """The replaced session is gone from this machine: if RingCentral gave no verdict on its
    revocation it may be live there, and the user is told, on stderr, in one line; the new session is
    stored all the same. A refusal is RingCentral's verdict (the grant was already dead): nothing to say."""
    logged_in()
    monkeypatch.setattr(login_command, "open_browser", ScriptedBrowser())
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=TOKEN)
        m.post(REVOKE_URL, **answer)
        m.get(EXT_URL, json=EXT)
        result = runner.invoke(cli, ["login", "--timeout", "10"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "Signed in as Alex Doe" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    if warned:
        assert len(warnings) == 1 and warnings[0].startswith(
            f"Warning: could not revoke the session this sign-in replaced at {SERVER} ("
        )
        assert warnings[0].endswith("it stays valid at RingCentral until it expires")
    else:
        assert warnings == []
    assert json.loads(memory_keyring.entries[("rcauth", "default")])["access_token"] == TOKEN["access_token"]


def test_whoami_shows_the_user(runner) -> None:
    logged_in()
    with requests_mock.Mocker() as m:
        m.get(EXT_URL, json=EXT)
        result = runner.invoke(cli, ["whoami", "--format", "table"], catch_exceptions=False)
    assert result.exit_code == 0
    for text in ("Alex Doe", "101", "alex.doe@example.com", "62264425001", "Enabled"):
        assert text in result.stdout
    assert m.request_history[0].headers["Authorization"] == "Bearer AT-stored-access-1"


def test_whoami_json_prints_the_api_json(runner) -> None:
    logged_in()
    with requests_mock.Mocker() as m:
        m.get(EXT_URL, json=EXT)
        result = runner.invoke(cli, ["whoami", "--json"], catch_exceptions=False)
    assert json.loads(result.stdout) == EXT


def test_whoami_when_not_logged_in(runner) -> None:
    result = runner.invoke(cli, ["whoami"])
    assert result.exit_code == 4
    assert result.stderr == "Error: not signed in; run `rcauth login` first\n"


def test_whoami_refreshes_an_expiring_token_and_stores_the_new_pair(runner, memory_keyring) -> None:
    logged_in(expires_in=10)
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json={**TOKEN, "access_token": "AT-rotated-2", "refresh_token": "RT-rotated-2"})
        m.get(EXT_URL, json=EXT)
        result = runner.invoke(cli, ["whoami", "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    stored = json.loads(memory_keyring.entries[("rcauth", "default")])
    assert (stored["access_token"], stored["refresh_token"]) == ("AT-rotated-2", "RT-rotated-2")
    shown = result.stdout + result.stderr
    assert "AT-rotated-2" not in shown and "RT-rotated-2" not in shown


def test_ended_session_exits_4_and_is_removed(runner, memory_keyring) -> None:
    logged_in(expires_in=0)
    with requests_mock.Mocker() as m:
        m.post(
            TOKEN_URL,
            status_code=400,
            json={
                "error": "invalid_grant",
                "error_description": "Token is revoked",
                "errors": [{"errorCode": "OAU-211"}],
            },
        )
        result = runner.invoke(cli, ["whoami"])
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: the session has ended (OAU-211: Token is revoked (HTTP 400))")
    assert "rcauth login" in result.stderr and len(result.stderr.splitlines()) == 1
    assert memory_keyring.entries == {}


def test_call_log_table_follows_pages_to_the_limit(runner) -> None:
    logged_in()
    pages = [
        {
            "json": {
                "records": [record(i) for i in range(5 * p, 5 * p + 5)],
                "navigation": {"nextPage": {"uri": f"{CALLS_URL}?page={p + 2}&perPage=5"}},
            }
        }
        for p in range(3)
    ]
    with requests_mock.Mocker() as m:
        m.get(CALLS_URL, pages)
        result = runner.invoke(cli, ["call-log", "--limit", "12", "--json"], catch_exceptions=False)
    records = json.loads(result.stdout)
    assert [r["id"] for r in records] == [f"rec{i}" for i in range(12)]
    assert len(m.request_history) == 3


def test_call_log_table_has_the_columns(runner) -> None:
    logged_in()
    with requests_mock.Mocker() as m:
        m.get(CALLS_URL, json={"records": [record(1)], "navigation": {}})
        result = runner.invoke(
            cli, ["call-log", "--limit", "10", "--format", "table"], catch_exceptions=False
        )
    for text in (
        "Start time",
        "Direction",
        "Type",
        "From",
        "To",
        "Duration",
        "Result",
        "Inbound",
        "Voice",
        "+16505550100",
        "1:06",
        "Accepted",
    ):
        assert text in result.stdout
    assert m.request_history[0].qs["perpage"] == ["10"]


def test_call_log_account_denied_names_the_permission(runner) -> None:
    logged_in()
    body = {
        "errorCode": "InsufficientPermissions",
        "message": "In order to call this API endpoint, user needs "
        "to have [FullCompanyCallLog] permission for requested resource.",
        "errors": [{"errorCode": "CMN-408", "permissionName": "FullCompanyCallLog"}],
    }
    with requests_mock.Mocker() as m:
        m.get(ACCOUNT_CALLS_URL, status_code=403, json=body)
        result = runner.invoke(cli, ["call-log", "--account"])
    assert result.exit_code == 5
    assert (
        "InsufficientPermissions" in result.stderr
        and "lacks the FullCompanyCallLog permission" in result.stderr
    )
    assert len(result.stderr.splitlines()) == 1


def test_call_log_rejects_a_bad_date(runner) -> None:
    logged_in()
    result = runner.invoke(cli, ["call-log", "--from", "yesterdayish"])
    assert result.exit_code == 2 and "--from" in result.stderr


def test_logout_revokes_then_deletes(runner, memory_keyring) -> None:
    logged_in()
    with requests_mock.Mocker() as m:
        m.post(REVOKE_URL, text="")
        result = runner.invoke(cli, ["logout"], catch_exceptions=False)
    assert result.exit_code == 0 and "tokens revoked and removed" in result.stdout
    assert parse_qs(m.request_history[0].text) == {"token": ["RT-stored-refresh-1"]}
    assert m.request_history[0].headers["Authorization"].startswith("Basic ")
    assert memory_keyring.entries == {}


@pytest.mark.parametrize(
    "answer",
    [
        {"exc": requests.ConnectionError("network down")},
        {"status_code": 503, "text": "<html>Service Unavailable</html>"},
        {"status_code": 403, "text": "<html>Blocked</html>", "headers": {"Content-Type": "text/html"}},
        {
            "status_code": 200,
            "text": "<html>Sign in to the hotel Wi-Fi</html>",
            "headers": {"Content-Type": "text/html"},
        },
        {"status_code": 204, "text": "<html>Portal</html>", "headers": {"Content-Type": "text/html"}},
        {"status_code": 304, "text": ""},
        {"status_code": 302, "text": "", "headers": {"Location": "http://10.0.0.1/portal"}},
        {"status_code": 302, "text": "", "headers": {"Location": "/portal"}},
    ],
    ids=["unreachable", "5xx", "a proxy's page", "a captive portal's 200 page", "a 2xx page", "a 3xx",
         "a redirect to another host", "a redirect on the server"],  # fmt: skip
)
def test_logout_keeps_the_session_when_ringcentral_cannot_be_told(runner, memory_keyring, answer) -> None:
    """Removed without a revocation, the session would stay valid at RingCentral with nothing left to
    end it: logout keeps it, says so in one line (exit 5), and a later logout can still end it."""
    logged_in()
    before = dict(memory_keyring.entries)
    with requests_mock.Mocker() as m:
        m.post(REVOKE_URL, **answer)
        result = runner.invoke(cli, ["logout"], catch_exceptions=False)
    assert result.exit_code == 5, result.stderr
    assert result.stderr.startswith("Error: could not revoke the session at ")
    assert "it is still stored here; run `rcauth logout` again" in result.stderr
    assert "rcauth logout --forget" in result.stderr and len(result.stderr.splitlines()) == 1
    assert memory_keyring.entries == before


def test_logout_forget_removes_the_session_it_could_not_revoke(runner, memory_keyring) -> None:
    logged_in()
    with requests_mock.Mocker() as m:
        m.post(REVOKE_URL, exc=requests.ConnectionError("network down"))
        result = runner.invoke(cli, ["logout", "--forget"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "could not revoke the session" in result.stderr and "will expire on its own" in result.stderr
    assert memory_keyring.entries == {}


def test_logout_removes_a_session_ringcentral_refuses_to_revoke(runner, memory_keyring) -> None:
    """An OAuth refusal is RingCentral's verdict (the grant is dead, or these credentials can never end
    it): keeping the session would only make every later logout fail the same way."""
    logged_in()
    with requests_mock.Mocker() as m:
        m.post(REVOKE_URL, status_code=401, json={"error": "invalid_client", "error_description": "bad"})
        result = runner.invoke(cli, ["logout"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert memory_keyring.entries == {}


def test_logout_when_not_logged_in_is_a_friendly_no_op(runner) -> None:
    result = runner.invoke(cli, ["logout"], catch_exceptions=False)
    assert result.exit_code == 0 and "Not signed in" in result.stderr


def test_token_prints_only_the_access_token(runner) -> None:
    logged_in()
    result = runner.invoke(cli, ["token"], catch_exceptions=False)
    assert result.stdout == "AT-stored-access-1\n"


def test_damaged_session_points_to_login(runner, memory_keyring) -> None:
    memory_keyring.entries[("rcauth", "default")] = "not json at all"
    result = runner.invoke(cli, ["whoami"])
    assert result.exit_code == 6
    assert "not valid JSON" in result.stderr and "rcauth login" in result.stderr


def test_debug_output_masks_every_secret(runner, memory_keyring) -> None:
    logged_in(expires_in=0)
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json={**TOKEN, "access_token": "AT-debug-new-1", "refresh_token": "RT-debug-new-1"})
        m.get(EXT_URL, json=EXT)
        result = runner.invoke(cli, ["--debug", "whoami", "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    for secret in (SECRET, "AT-stored-access-1", "RT-stored-refresh-1", "AT-debug-new-1", "RT-debug-new-1"):
        assert secret not in result.stdout + result.stderr


def test_version_and_module_entry_point(runner) -> None:
    import subprocess
    import sys

    from rcauth import __version__

    assert runner.invoke(cli, ["--version"]).stdout == f"rcauth {__version__}\n"
    proc = subprocess.run(
        [sys.executable, "-m", "rcauth", "--version"], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0 and proc.stdout == f"rcauth {__version__}\n"


def test_entry_point_runs_the_command_with_collection_on_and_exits_with_its_code() -> None:
    """`rcauth.__main__` pauses collection during start-up; by the time a command runs collection is
    back on (a long listing must collect), and the process still exits with the command's code and
    flushed output."""
    import subprocess
    import sys

    code = (
        "import gc, sys, click\n"
        "import rcauth.__main__, rcauth.cli\n"
        "@click.command()\n"
        "def probe():\n"
        "    click.echo(f'{gc.isenabled()}')\n"
        "    sys.exit(3)\n"
        "rcauth.cli.cli.add_command(probe)\n"
        "sys.argv = ['rcauth', 'probe']\n"
        "rcauth.__main__.main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (3, "True\n"), proc.stderr


def test_ctrl_c_while_options_are_parsed_is_an_interrupt_not_an_abort(runner, monkeypatch) -> None:
    from rcauth.cli import RcauthGroup

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(RcauthGroup, "parse_args", interrupted)
    result = runner.invoke(cli, ["whoami"])
    assert (result.exit_code, result.stderr, result.stdout) == (130, "Error: interrupted\n", "")


def test_ctrl_c_while_rcauth_is_still_loading_exits_130_without_a_traceback() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'rcauth.cli':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "import rcauth.__main__\n"
        "rcauth.__main__.main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stderr, proc.stdout) == (130, "Error: interrupted\n", "")


def test_in_process_use_leaves_the_garbage_collector_alone(runner) -> None:
    """Only the program's entry point touches the collector: tests and library callers keep theirs."""
    import gc

    frozen = gc.get_freeze_count()
    assert runner.invoke(cli, ["status"]).exit_code == 4
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_status_shows_session_without_secrets(runner) -> None:
    logged_in()
    result = runner.invoke(cli, ["status", "--format", "table"], catch_exceptions=False)
    assert result.exit_code == 0
    for text in (SERVER, "cid", "ReadAccounts ReadCallLog", "system keyring", "in 60 min", "in 7 days"):
        assert text in result.stdout
    for secret in (SECRET, "AT-stored-access-1", "RT-stored-refresh-1"):
        assert secret not in result.stdout + result.stderr


def test_status_check_json_calls_the_api(runner) -> None:
    logged_in()
    with requests_mock.Mocker() as m:
        m.get(EXT_URL, json=EXT)
        result = runner.invoke(cli, ["status", "--check", "--json"], catch_exceptions=False)
    info = json.loads(result.stdout)
    assert info["check"] == "ok" and info["user"]["email"] == "alex.doe@example.com"
    assert info["storage"].startswith("system keyring")


def test_status_when_not_logged_in_exits_4(runner) -> None:
    assert runner.invoke(cli, ["status"]).exit_code == 4


def test_guarded_stdout_and_stderr_keep_their_names_as_python_gave_them() -> None:
    """rcauth swaps the process's own stdout/stderr for guarded ones (a failed write is one line, not
    a traceback); code that reads `sys.stdout.name` (argparse's and click's "-" files do) must see
    what Python's stream said, not an AttributeError."""
    import subprocess
    import sys

    probe = (
        "import json, sys\n"
        "from rcauth.stdio import guard_std_streams\n"
        "before = [sys.stdout.name, sys.stderr.name]\n"
        "guard_std_streams()\n"
        "sys.stdout.write(json.dumps([before, [sys.stdout.name, sys.stderr.name]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    before, after = json.loads(done.stdout)
    assert after == before == ["<stdout>", "<stderr>"]


def test_no_command_module_imports_another() -> None:
    """Commands parse, call the library and render: a helper two commands share lives below them."""
    import ast
    from pathlib import Path

    import rcauth.commands

    found = []
    for path in sorted(Path(rcauth.commands.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            found += [(path.name, n) for n in names if n.startswith("rcauth.commands.")]
    assert found == []


def test_running_out_of_memory_is_one_line_not_an_unexpected_error(
    runner, monkeypatch, memory_keyring
) -> None:
    """A decompression bomb or `--input /dev/zero` exhausts memory: said in one line (exit 1), the
    stored session untouched."""
    from rcauth.client import ApiClient

    logged_in()
    before = dict(memory_keyring.entries)

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(ApiClient, "get_json", exhausted)
    result = runner.invoke(cli, ["whoami", "--json"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: ran out of memory: an answer or an input was far larger than RingCentral's ever are"
    ]
    assert memory_keyring.entries == before


@pytest.mark.parametrize("value", ["nan", "1e10", "inf", "0"])
def test_login_timeout_is_a_number_of_seconds_up_to_a_day(runner, value: str) -> None:
    """`--timeout 1e10` overflowed the wait's timer (an unexpected error), and nan ended it at once."""
    result = runner.invoke(cli, ["login", "--no-browser", "--client-id", "x", "--timeout", value])
    assert result.exit_code == 2
    assert "Invalid value for '--timeout'" in result.stderr and "unexpected" not in result.stderr


# -- the media origin and `api --output` ----------------------------------------------------------------
MEDIA = "https://media.ringcentral.com"
CONTENT_URL = MEDIA + "/restapi/v1.0/account/37439510/recording/401/content"
AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 300


def _audio(m: requests_mock.Mocker) -> None:
    m.get(CONTENT_URL, content=AUDIO, headers={"Content-Type": "audio/mpeg"})


def test_api_output_streams_a_recording_to_the_file_and_sends_the_token_to_the_media_host(
    runner, tmp_path
) -> None:
    logged_in()
    target = tmp_path / "call.mp3"
    with requests_mock.Mocker() as m:
        _audio(m)
        result = runner.invoke(
            cli, ["api", "GET", CONTENT_URL, "--output", str(target)], catch_exceptions=False
        )
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert target.read_bytes() == AUDIO
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["call.mp3"]
    (sent,) = m.request_history
    assert sent.headers["Authorization"] == "Bearer AT-stored-access-1" and sent.headers["Accept"] == "*/*"


def test_api_output_dash_writes_the_bytes_to_stdout_unchanged(runner) -> None:
    logged_in()
    with requests_mock.Mocker() as m:
        _audio(m)
        result = runner.invoke(cli, ["api", "GET", CONTENT_URL, "-o", "-"], catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout_bytes == AUDIO


@pytest.mark.parametrize("to", ["-", "FILE"])
def test_api_output_refuses_a_body_compressed_though_asked_as_it_is(runner, tmp_path, to) -> None:
    """Inflated as it is read, a few KB of gzip fill a disk or a pipe's reader: what --output writes
    is the body as sent (`Accept-Encoding: identity`), or nothing."""
    import gzip

    logged_in()
    target = tmp_path / "call.mp3"
    bomb = gzip.compress(b"\0" * 2**20)
    with requests_mock.Mocker() as m:
        headers = {"Content-Type": "audio/mpeg", "Content-Encoding": "gzip", "Content-Length": str(len(bomb))}
        m.get(CONTENT_URL, content=bomb, headers=headers)
        output = "-" if to == "-" else str(target)
        result = runner.invoke(cli, ["api", "GET", CONTENT_URL, "-o", output], catch_exceptions=False)
    assert result.exit_code == 5 and result.stdout_bytes == b"" and not target.exists()
    assert "sent the content compressed (gzip) though asked not to" in result.stderr
    assert m.request_history[0].headers["Accept-Encoding"] == "identity"


def test_api_output_to_a_name_ending_in_a_slash_that_is_no_directory_is_a_usage_error(
    runner, tmp_path
) -> None:
    logged_in()
    with requests_mock.Mocker() as m:
        _audio(m)
        result = runner.invoke(cli, ["api", "GET", CONTENT_URL, "-o", f"{tmp_path}/calls/"])
    assert result.exit_code == 2 and "is not a directory" in result.stderr and not m.called
    assert not (tmp_path / "calls").exists()


def test_api_without_output_pipes_binary_content_as_it_is(runner) -> None:
    logged_in()
    with requests_mock.Mocker() as m:
        _audio(m)
        result = runner.invoke(cli, ["api", "GET", CONTENT_URL], catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout_bytes == AUDIO


def test_api_without_output_streams_binary_to_a_pipe_past_the_cap_of_answers_read_whole(
    runner, monkeypatch
) -> None:
    # A 70-minute WAV passes the 64 MiB cap an answer read whole has: declared binary content is
    # streamed to the pipe instead (here the cap is made smaller than the recording).
    from rcauth import transport

    logged_in()
    monkeypatch.setattr(transport, "ANSWER_MAX_BYTES", 4096)
    with requests_mock.Mocker() as m:
        _audio(m)
        m.get(EXT_URL, json={"pad": "x" * 8192})
        piped = runner.invoke(cli, ["api", "GET", CONTENT_URL], catch_exceptions=False)
        too_big = runner.invoke(cli, ["api", "GET", "/restapi/v1.0/account/~/extension/~"])
    assert piped.exit_code == 0 and piped.stdout_bytes == AUDIO and len(AUDIO) > 4096
    assert too_big.exit_code == 5 and "larger than" in too_big.stderr  # JSON is still read whole, capped


def test_api_output_keeps_an_existing_file_unless_forced_and_asks_nothing_of_the_server(
    runner, tmp_path
) -> None:
    logged_in()
    target = tmp_path / "call.mp3"
    target.write_bytes(b"keep me")
    with requests_mock.Mocker() as m:
        _audio(m)
        refused = runner.invoke(cli, ["api", "GET", CONTENT_URL, "-o", str(target)])
        assert m.request_history == []
        forced = runner.invoke(cli, ["api", "GET", CONTENT_URL, "-o", str(target), "--force"])
    assert refused.exit_code == 2
    assert f"{str(target)!r} exists: pass --force to replace it" in refused.stderr
    assert forced.exit_code == 0 and target.read_bytes() == AUDIO


def test_api_output_into_a_directory_that_is_missing_is_one_line_and_leaves_nothing(runner, tmp_path) -> None:
    logged_in()
    target = tmp_path / "no-such-dir" / "call.mp3"
    with requests_mock.Mocker() as m:
        _audio(m)
        result = runner.invoke(cli, ["api", "GET", CONTENT_URL, "-o", str(target)])
        assert m.request_history == []  # refused before a request of the Heavy budget is spent
        longest = tmp_path / ("a" * 250 + ".mp3")  # a valid name whose temp name must stay valid too
        saved = runner.invoke(cli, ["api", "GET", CONTENT_URL, "-o", str(longest)], catch_exceptions=False)
    assert result.exit_code == 1, result.stderr
    assert result.stderr == f"Error: cannot write {str(target)!r}: No such file or directory\n"
    assert saved.exit_code == 0 and longest.read_bytes() == AUDIO


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--paginate", "-o", "x.json"],
            "--output writes one answer's body: it cannot be used with --paginate",
        ),
        (["--force"], "--force replaces the file --output names: give --output FILE"),
    ],
)
def test_api_output_options_that_cannot_go_together_are_usage_errors(runner, args, message) -> None:
    logged_in()
    result = runner.invoke(cli, ["api", "GET", "/restapi/v1.0/account/~/extension", *args])
    assert result.exit_code == 2 and message in result.stderr


def test_api_output_of_an_error_answer_writes_no_file(runner, tmp_path) -> None:
    logged_in()
    target = tmp_path / "call.mp3"
    with requests_mock.Mocker() as m:
        m.get(CONTENT_URL, status_code=404, json={"errorCode": "CMN-102", "message": "Resource not found"})
        result = runner.invoke(cli, ["api", "GET", CONTENT_URL, "-o", str(target)])
    assert result.exit_code == 5 and "CMN-102" in result.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == []


@pytest.mark.parametrize(
    ("status", "headers"), [(302, {}), (206, {"Content-Range": "bytes 0-99/76810"}), (304, {})]
)
def test_api_output_saves_no_file_for_an_answer_that_is_not_the_whole_content(
    runner, tmp_path, status, headers
) -> None:
    # A redirect nobody followed (no Location) or a part nobody asked for is not the recording.
    logged_in()
    target = tmp_path / "call.mp3"
    with requests_mock.Mocker() as m:
        m.get(CONTENT_URL, status_code=status, content=AUDIO[:100], headers=headers)
        result = runner.invoke(cli, ["api", "GET", CONTENT_URL, "-o", str(target)])
    assert result.exit_code == 5, result.stderr
    assert result.stderr == (
        f"Error: media.ringcentral.com answered HTTP {status}, not the whole content: nothing saved\n"
    )
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == []


def test_api_refuses_a_look_alike_media_host_naming_both_origins(runner) -> None:
    logged_in()
    with requests_mock.Mocker() as m:
        m.register_uri(requests_mock.ANY, requests_mock.ANY, content=b"")
        result = runner.invoke(cli, ["api", "GET", "https://media.ringcentral.com.evil.example/x"])
    assert result.exit_code == 2 and m.request_history == []
    assert f"a URL on the session's {SERVER} or its media server {MEDIA}" in result.stderr


def test_api_output_writes_into_a_fifo_or_device_and_never_renames_over_it(runner, tmp_path) -> None:
    # curl writes into `-o /dev/null` or a FIFO; a temp file renamed over one would replace the node
    # itself (as root, /dev/null or /dev/stdout), with or without --force. FIFOs stand in for devices
    # here, one of them behind a symlink as /dev/stdout is, so a regression never touches /dev.
    import stat
    import threading

    logged_in()
    fifos = [tmp_path / "pipe", tmp_path / "pipe-behind-link"]
    got: dict[str, bytes] = {}
    readers = []
    for fifo in fifos:
        os.mkfifo(fifo)
        reader = threading.Thread(target=lambda f=fifo: got.update({f.name: f.read_bytes()}), daemon=True)
        reader.start()
        readers.append(reader)
    (tmp_path / "stdout").symlink_to(fifos[1])
    with requests_mock.Mocker() as m:
        _audio(m)
        direct = runner.invoke(cli, ["api", "GET", CONTENT_URL, "-o", str(fifos[0])], catch_exceptions=False)
        link = ["-o", str(tmp_path / "stdout"), "--force"]
        linked = runner.invoke(cli, ["api", "GET", CONTENT_URL, *link], catch_exceptions=False)
    for reader in readers:
        reader.join(10)
    assert (direct.exit_code, linked.exit_code) == (0, 0), direct.stderr + linked.stderr
    assert got == {"pipe": AUDIO, "pipe-behind-link": AUDIO}
    assert all(stat.S_ISFIFO(f.stat().st_mode) for f in fifos) and (tmp_path / "stdout").is_symlink()
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "home")
    assert left == ["pipe", "pipe-behind-link", "stdout"]


def test_a_refused_url_is_named_without_its_query_which_may_carry_a_token(runner) -> None:
    logged_in()
    with requests_mock.Mocker() as m:
        m.register_uri(requests_mock.ANY, requests_mock.ANY, content=b"")
        result = runner.invoke(cli, ["api", "GET", "https://evil.example/x?access_token=AT-pasted-secret-1#f"])
    assert result.exit_code == 2 and m.request_history == []
    assert "AT-pasted-secret-1" not in result.stderr
    assert "'https://evil.example/x?...'" in result.stderr


def test_a_recording_url_on_a_session_without_a_media_server_says_how_to_add_one(runner) -> None:
    sandbox = "https://platform.devtest.ringcentral.com"
    save_session(server=sandbox, access_token="AT-stored-access-1", refresh_token="RT-stored-refresh-1")
    url = "https://media.devtest.ringcentral.com/restapi/v1.0/account/1/recording/2/content"
    with requests_mock.Mocker() as m:
        m.register_uri(requests_mock.ANY, requests_mock.ANY, content=b"")
        result = runner.invoke(cli, ["api", "GET", url])
    assert result.exit_code == 2 and m.request_history == []
    assert "sign in again with `rcauth login --media-server URL` (or RC_MEDIA_URL)" in " ".join(
        result.stderr.split()
    )


def test_api_json_answers_are_printed_as_before(runner) -> None:
    logged_in()
    with requests_mock.Mocker() as m:
        m.get(EXT_URL, json=EXT)
        result = runner.invoke(
            cli, ["api", "GET", "/restapi/v1.0/account/~/extension/~"], catch_exceptions=False
        )
    assert json.loads(result.stdout) == EXT


def test_status_shows_the_media_server_the_token_may_go_to(runner) -> None:
    logged_in()
    info = json.loads(runner.invoke(cli, ["status", "--json"], catch_exceptions=False).stdout)
    assert info["media_server"] == MEDIA
    table = runner.invoke(cli, ["status", "--format", "table"], catch_exceptions=False).stdout
    assert "Media server" in table and MEDIA in table
