"""`rcauth doctor` (issue 14, point 1): each check made to fail for its real reason, in a real `rcauth`
subprocess against the emulator: a port held by a real socket, a proxy that does not answer, a locked
keyring, a server whose `Date` is off, a refresh token that has expired, no client id."""

from __future__ import annotations

import json
import os
import socket
import stat
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import test_network_trouble_explained as network
from helpers import free_port
from stub_servers import TricklingServer

from rcauth import profiles
from rcauth.store import FileStore


def doctor(rcauth, *args: str, env: dict[str, str] | None = None):
    result = rcauth.run("doctor", "--json", *args, env=env, timeout=60)
    report = json.loads(result.out)
    return result, {check["name"]: check for check in report["checks"]}, report


def test_doctor_passes_with_a_working_setup_and_changes_nothing(rcauth, sign_in, keyring_dir) -> None:
    sign_in()
    before = sorted(p.name for p in keyring_dir.iterdir())
    result, checks, report = doctor(rcauth)
    assert result.code == 0, result
    assert report["ok"] is True
    for name in (
        "configuration",
        "redirect URI",
        "proxy",
        "server",
        "clock",
        "keyring probe",
        "session default",
    ):
        assert checks[name]["status"] == "ok", checks[name]
    # The secret is named as set, never shown; each setting's source is named.
    config = checks["configuration"]["detail"]
    assert "client_secret=set" in config and "from $RC_APP_CLIENT_ID" in config
    assert rcauth.env["RC_APP_CLIENT_SECRET"] not in result.out + result.err
    assert (
        "reliability_support.FileKeyring (user's choice (PYTHON_KEYRING_BACKEND))"
        in checks["keyring backend"]["detail"]
    )
    # The keyring probe's entry was written and deleted: the keyring holds what it held.
    assert sorted(p.name for p in keyring_dir.iterdir()) == before
    assert "ReadAccounts" in checks["session default"]["detail"]
    assert "without FullCompanyCallLog, which call-log --account needs" in checks["session default"]["detail"]


def test_doctor_names_the_program_holding_the_redirect_port(rcauth, sign_in, redirect_uri) -> None:
    sign_in()
    port = urlsplit(redirect_uri).port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", port))
        held.listen()
        result, checks, _ = doctor(rcauth)
    assert result.code == 1, result
    check = checks["redirect URI"]
    assert check["status"] == "problem"
    assert f"port {port} is in use" in check["detail"]
    if os.path.exists("/proc/net/tcp"):
        assert f"(pid {os.getpid()})" in check["detail"]  # this test's process holds it
    assert "--redirect-uri" in check["advice"]


def test_doctor_reports_a_proxy_that_does_not_answer(rcauth, sign_in, env) -> None:
    sign_in()
    dead = f"http://127.0.0.1:{free_port()}"  # a port nobody listens on
    proxied = {"HTTP_PROXY": dead, "HTTPS_PROXY": dead, "NO_PROXY": "", "no_proxy": ""}
    result, checks, _ = doctor(rcauth, env=proxied)
    assert result.code == 1, result
    assert checks["proxy"]["status"] == "problem"
    assert dead in checks["proxy"]["detail"]
    assert "NO_PROXY" in checks["proxy"]["advice"]
    assert checks["server"]["status"] == "problem"
    assert "could not reach the proxy" in checks["server"]["detail"]


def test_doctor_reports_a_locked_keyring(rcauth) -> None:
    locked = {"PYTHON_KEYRING_BACKEND": "reliability_support.LockedKeyring", "RCAUTH_KEYRING_TIMEOUT": "5"}
    result, checks, _ = doctor(rcauth, env=locked)
    assert result.code == 1, result
    assert checks["keyring probe"]["status"] == "problem"
    # What every command meets first, said as they say it: reading the session.
    assert checks["keyring probe"]["detail"] == "the system keyring is locked (read the session)"
    assert "--insecure-storage" in checks["keyring probe"]["advice"]
    assert "LockedKeyring (user's choice (PYTHON_KEYRING_BACKEND))" in checks["keyring backend"]["detail"]


def test_with_consent_a_keyring_refusing_the_test_entry_is_a_warning_whose_advice_is_not_the_flag_given(
    rcauth,
) -> None:
    """The commands keep the session in the file then: advising --insecure-storage to a user who passed
    it says nothing."""
    refusing = {
        "PYTHON_KEYRING_BACKEND": "refusing_keyring.WriteRefusingKeyring",
        "RCAUTH_INSECURE_STORAGE": "1",
    }
    result, checks, _ = doctor(rcauth, env=refusing)
    probe = checks["keyring probe"]
    assert probe["status"] == "warning", result
    assert "--insecure-storage" not in probe["advice"].replace("without --insecure-storage", "")
    assert probe["advice"].startswith("once a keyring works, `rcauth login` without --insecure-storage")


def test_doctor_finishes_when_the_keyring_never_answers(rcauth) -> None:
    hanging = {"PYTHON_KEYRING_BACKEND": "reliability_support.HangingKeyring", "RCAUTH_KEYRING_TIMEOUT": "1"}
    result, checks, _ = doctor(rcauth, env=hanging)
    assert result.code == 1, result
    assert checks["keyring probe"]["detail"] == (
        "the system keyring did not answer within 1 s while trying to read the session (is it locked?)"
    )
    assert checks["server"]["status"] == "ok"  # the other checks still ran


def test_doctor_warns_when_the_servers_clock_differs_by_minutes(rcauth, sign_in, emu) -> None:
    sign_in()
    emu.set(clock_skew=300)
    result, checks, _ = doctor(rcauth)
    assert result.code == 0, result  # a warning, not a problem
    assert checks["clock"]["status"] == "warning"
    assert "behind the server's" in checks["clock"]["detail"]
    offset = int(checks["clock"]["detail"].split(" s ")[0].rsplit(" ", 1)[1])
    assert 295 <= offset <= 305
    assert "NTP" in checks["clock"]["advice"]


def test_doctor_reports_an_expired_refresh_token(rcauth, sign_in) -> None:
    sign_in(refresh_expires_at=time.time() - 60)
    result, checks, _ = doctor(rcauth)
    assert result.code == 1, result
    check = checks["session default"]
    assert check["status"] == "problem"
    assert "refresh token expired" in check["detail"]
    assert "run `rcauth login`" in check["advice"]


def test_doctor_reports_scopes_the_commands_need_and_the_session_lacks(rcauth, sign_in) -> None:
    sign_in(scope="ReadAccounts")
    result, checks, _ = doctor(rcauth)
    assert result.code == 1, result
    check = checks["session default"]
    assert check["status"] == "problem"
    assert check["advice"] == (
        "add the ReadCallLog permission to the app in the Developer Console, then run `rcauth login`"
    )


def test_doctor_warns_of_an_app_that_issues_no_refresh_token(rcauth, sign_in) -> None:
    sign_in(refresh_token=None, refresh_expires_at=None)
    result, checks, _ = doctor(rcauth)
    assert result.code == 0, result
    check = checks["session default"]
    assert check["status"] == "warning"
    assert "this app issues no refresh token" in check["detail"]
    assert "'Issue refresh tokens'" in check["advice"]


def test_an_app_without_refresh_tokens_whose_access_token_expired_is_a_problem_as_whoami_says(
    rcauth, sign_in
) -> None:
    """doctor and the command it is about reach the same verdict: `whoami` exits 4 for this session."""
    sign_in(refresh_token=None, refresh_expires_at=None, access_expires_at=time.time() - 60)
    result, checks, _ = doctor(rcauth)
    assert result.code == 1, result
    check = checks["session default"]
    assert check["status"] == "problem" and "this app issues no refresh token" in check["detail"]
    assert check["advice"].startswith("the session has ended: run `rcauth login`")
    assert rcauth.run("whoami").code == 4


def test_doctor_warns_of_a_refresh_token_ending_within_a_day(rcauth, sign_in) -> None:
    sign_in(refresh_expires_at=time.time() + 3 * 3600)
    result, checks, _ = doctor(rcauth)
    assert result.code == 0, result
    assert checks["session default"]["status"] == "warning"
    assert "refresh token expires in" in checks["session default"]["detail"]


def test_doctor_with_all_checks_every_profile(rcauth, sign_in) -> None:
    sign_in()
    sign_in("dev", refresh_expires_at=time.time() - 60)
    profiles.remember("dev")  # what `rcauth --profile dev login` records
    result, checks, _ = doctor(rcauth, "--all")
    assert result.code == 1, result
    assert checks["session default"]["status"] == "ok"
    assert checks["session dev"]["status"] == "problem"


def test_doctor_without_a_client_id_says_what_to_set(rcauth) -> None:
    result, checks, _ = doctor(rcauth, env={"RC_APP_CLIENT_ID": "", "RC_APP_CLIENT_SECRET": ""})
    assert result.code == 1, result
    assert checks["configuration"]["status"] == "problem"
    assert "no RingCentral client id" in checks["configuration"]["detail"]
    assert "RC_APP_CLIENT_ID" in checks["configuration"]["advice"]
    assert checks["server"]["status"] == "ok"  # the rest is still checked


def test_doctor_reports_a_config_file_that_is_not_toml_instead_of_stopping(rcauth, env) -> None:
    path = Path(env["RCAUTH_CONFIG_DIR"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("client_id = \n", encoding="utf-8")
    result, checks, _ = doctor(rcauth)
    assert result.code == 1, result
    assert checks["configuration"]["status"] == "problem"
    assert f"config file {str(path)!r} is not valid TOML" in checks["configuration"]["detail"]
    assert checks["keyring probe"]["status"] == "ok"  # the rest is still checked


def test_doctor_reports_a_session_file_others_can_read(rcauth, file_store_env, sign_in) -> None:
    sign_in(store="file")
    path = FileStore("default").path
    os.chmod(path, 0o644)
    result, checks, _ = doctor(rcauth, env=file_store_env)
    assert result.code == 1, result
    assert checks["session file"]["status"] == "problem"
    assert "mode 0644" in checks["session file"]["detail"]
    assert checks["session file"]["advice"] == f"chmod 600 {path}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # reported, not changed


def test_doctor_gives_the_no_browser_advice_when_nothing_can_open_the_url(rcauth, sign_in) -> None:
    sign_in()
    headless = {"BROWSER": "", "DISPLAY": "", "WAYLAND_DISPLAY": "", "WSL_DISTRO_NAME": "", "WSL_INTEROP": ""}
    if "microsoft" in os.uname().release.lower():
        pytest.skip("a WSL kernel always has Windows' browser")
    result, checks, _ = doctor(rcauth, env=headless)
    assert checks["browser"]["status"] == "warning"
    assert "--no-browser" in checks["browser"]["advice"] and "--paste" in checks["browser"]["advice"]
    result, checks, _ = doctor(rcauth, env={"BROWSER": "firefox"})
    assert checks["browser"] == {
        "name": "browser",
        "status": "ok",
        "detail": "$BROWSER: firefox",
        "advice": "",
    }


def test_doctor_table_is_a_checklist_with_advice_under_each_problem(rcauth) -> None:
    locked = {"PYTHON_KEYRING_BACKEND": "reliability_support.LockedKeyring"}
    result = rcauth.run("doctor", env=locked, timeout=60)
    assert result.code == 1, result
    lines = result.out.splitlines()
    probe = next(i for i, line in enumerate(lines) if "keyring probe" in line)
    assert lines[probe].startswith("✗")
    assert "→ pass --insecure-storage" in lines[probe + 1]
    assert "problem(s)" in result.err


# -- TLS: which trust store verified the server (fixtures: a private CA and a TLS server on a real socket)
private_ca, tls_server, clean_env = network.private_ca, network.tls_server, network.clean_env


def test_doctor_names_the_trust_store_that_verified_the_server(
    rcauth, clean_env, tls_server, private_ca
) -> None:
    server = ("--server", tls_server.base_url)
    untrusted, checks, _ = doctor(rcauth, *server)
    assert untrusted.code == 1, untrusted
    assert checks["server"]["status"] == "problem"
    assert (
        f"could not verify the TLS certificate of 127.0.0.1:{tls_server.port}" in checks["server"]["detail"]
    )
    assert "REQUESTS_CA_BUNDLE" in checks["server"]["advice"]

    _, checks, _ = doctor(rcauth, *server, env={"SSL_CERT_DIR": str(private_ca.ca_dir)})
    assert checks["server"]["status"] == "ok", checks["server"]
    assert checks["server"]["detail"].endswith("TLS verified with the operating system's trust store")

    _, checks, _ = doctor(rcauth, *server, env={"REQUESTS_CA_BUNDLE": str(private_ca.ca_file)})
    assert checks["server"]["status"] == "ok", checks["server"]
    assert checks["server"]["detail"].endswith(
        f"TLS verified with the CA bundle {private_ca.ca_file} (REQUESTS_CA_BUNDLE)"
    )


# -- issue 20: the verdict is the commands' verdict; every check bounded in total --------------------------
def test_doctor_reports_the_state_directory_login_refuses_in_logins_words(rcauth, env, sign_in) -> None:
    sign_in()
    state = Path(env["RCAUTH_STATE_DIR"])
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("not a directory\n", encoding="utf-8")  # in the way, whoever runs rcauth (root too)
    login = rcauth.run("login", "--jwt", env={"RC_JWT": "any"})
    assert login.code == 6, login
    result, checks, report = doctor(rcauth)
    assert result.code == 1 and report["ok"] is False, result
    directories = checks["directories"]
    assert directories["status"] == "problem"
    assert login.err.splitlines() == [f"Error: {directories['detail']}; {directories['advice']}"]


def test_doctor_is_healthy_when_the_user_consented_to_the_session_file(rcauth, file_store_env, sign_in):
    """No keyring and RCAUTH_INSECURE_STORAGE=1: every command works (the session is in the 0600
    file), so doctor warns and exits 0, as the commands succeed."""
    sign_in(store="file")
    result, checks, report = doctor(rcauth, env=file_store_env)
    assert result.code == 0 and report["ok"] is True, result
    probe = checks["keyring probe"]
    assert probe["status"] == "warning"
    assert probe["detail"] == (
        f"no system keyring is available; sessions are kept in {FileStore('default').path} instead "
        "(insecure storage allowed)"
    )
    assert checks["session default"]["status"] == "ok"
    assert checks["directories"]["status"] == "ok"
    whoami = rcauth.run("whoami", env=file_store_env)
    assert whoami.code == 0, whoami  # the verdict the command reaches


def test_doctor_with_a_locked_keyring_and_consent_says_what_the_commands_say(rcauth) -> None:
    locked = {
        "PYTHON_KEYRING_BACKEND": "reliability_support.LockedKeyring",
        "RCAUTH_INSECURE_STORAGE": "1",
    }
    result, checks, _ = doctor(rcauth, env=locked)
    assert checks["keyring probe"]["status"] == "warning"  # a login would keep the session in the file
    session = checks["session default"]
    whoami = rcauth.run("whoami", env=locked)
    assert whoami.code == 6, whoami
    assert whoami.err.splitlines() == [f"Error: {session['detail']}; {session['advice']}"]
    assert session["status"] == "problem" and result.code == 1


def test_doctor_shows_the_configuration_one_setting_a_line(rcauth, sign_in) -> None:
    sign_in()
    result = rcauth.run("doctor", timeout=60)
    assert "\\x0a" not in result.out, result  # a line break shown as one, never as an escape
    lines = result.out.splitlines()
    first = next(i for i, line in enumerate(lines) if "configuration" in line)
    settings = [line.strip() for line in lines[first : first + 4]]
    assert settings[0].endswith("client_id=rcauth-emulator-client (from $RC_APP_CLIENT_ID)"), result
    assert settings[1] == "client_secret=set (from $RC_APP_CLIENT_SECRET)", result
    assert settings[2].startswith("server=http://127.0.0.1:"), result
    assert settings[3].startswith("redirect_uri=http://127.0.0.1:"), result


def test_doctor_reads_only_the_status_and_headers_of_a_server_whose_body_never_ends(rcauth) -> None:
    """A server (or something on the way) that trickles its body a byte at a time, each byte inside
    the read timeout: doctor takes the status and headers and leaves the body unread."""
    with TricklingServer(headers_done=True) as stub:
        result = rcauth.run("doctor", "--json", "--server", stub.base_url, timeout=30)
    checks = {check["name"]: check for check in json.loads(result.out)["checks"]}
    assert checks["server"]["status"] == "ok", checks["server"]
    assert checks["server"]["detail"].startswith(f"{stub.base_url} answers (HTTP 200)")
    assert checks["clock"]["status"] == "ok"


def test_the_server_check_ends_at_its_deadline_when_even_the_headers_trickle(monkeypatch) -> None:
    """Each byte comes inside the read timeout, so only a deadline on the whole exchange ends it.
    In this process, with the deadline shortened; run on a thread so a regression fails, not hangs."""
    import threading

    from rcauth import diagnose

    monkeypatch.setattr(diagnose, "SERVER_DEADLINE", 1.0, raising=False)
    found: list = []
    with TricklingServer(headers_done=False) as stub:
        started = time.monotonic()
        worker = threading.Thread(target=lambda: found.extend(diagnose.check_server(stub.base_url)))
        worker.daemon = True
        worker.start()
        worker.join(20)
        elapsed = time.monotonic() - started
    assert not worker.is_alive(), "the server check never ended"
    assert elapsed < 10
    server = {check.name: check for check in found}["server"]
    assert server.status is diagnose.Status.PROBLEM
    assert server.detail == f"{stub.base_url} did not finish answering within 1 s"


def test_doctor_all_says_the_profile_index_is_damaged_and_still_checks_the_default(
    rcauth, sign_in
) -> None:
    """A damaged index may have lost profiles: a problem named with its file, never "all well";
    the profile in use and the default are checked whatever the index says."""
    sign_in()
    index = Path(os.environ["RCAUTH_STATE_DIR"]) / "profiles.json"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text("garbage", encoding="utf-8")
    result, checks, report = doctor(rcauth, "--all")
    assert result.code == 1 and report["ok"] is False, result
    assert checks["profile index"]["status"] == "problem"
    detail = checks["profile index"]["detail"]
    assert str(index) in detail and "is damaged" in detail
    assert checks["session default"]["status"] == "ok"


def test_doctor_checks_the_media_server_given_on_its_command_line(rcauth, emu) -> None:
    # The media origin is where the token goes for recordings: doctor checks one given to it as login
    # would take it (production's pairing, https off loopback), naming where the setting came from.
    result, checks, _ = doctor(rcauth, "--media-server", "http://127.0.0.1:9")
    assert "media_server=http://127.0.0.1:9 (from --media-server)" in checks["configuration"]["detail"]
    paired = "--server", "https://platform.ringcentral.com"
    result, checks, _ = doctor(rcauth, *paired, "--media-server", "https://media.example.com")
    assert checks["configuration"]["status"] == "problem", checks["configuration"]
    assert checks["configuration"]["detail"] == (
        "the media server of https://platform.ringcentral.com is https://media.ringcentral.com, "
        "not https://media.example.com"
    )


def test_doctor_reaches_the_media_server_recordings_come_from(rcauth, emu) -> None:
    """A proxy or firewall that lets the server through may stop the media host: downloads fail then,
    and nothing else does, so doctor says so as a warning (exit 0)."""
    result, checks, _ = doctor(rcauth, env={"RC_MEDIA_URL": emu.media_url})
    check = checks["media server"]
    assert check["status"] == "ok", result
    assert check["detail"].startswith(f"{emu.media_url} ($RC_MEDIA_URL) answers (HTTP ")
    assert "plain http on loopback" in check["detail"]

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening: refused
        result, checks, _ = doctor(rcauth, "--media-server", nobody)
    assert result.code == 0, result
    check = checks["media server"]
    assert check["status"] == "warning" and "connection refused" in check["detail"], check
    assert check["advice"].startswith("recordings are fetched from it")


def test_doctor_checks_no_media_server_where_none_is_set(rcauth) -> None:
    result, checks, _ = doctor(rcauth)
    assert "media server" not in checks, result
