"""A keyring that keeps secrets in plain text gets no session the user did not put there (issue 20,
invariant 4): keyring's discovery falls back to keyrings.alt's `PlaintextKeyring` on many Linux boxes
(no Secret Service, a container), directly or through its chainer, and a session stored there sits
base64-encoded in `~/.local/share/python_keyring/keyring_pass.cfg`. Chosen by discovery, such a
backend counts as no keyring: `login` refuses (exit 6) before asking RingCentral for anything, unless
the user consents to rcauth's own 0600 file; named by the user (PYTHON_KEYRING_BACKEND, keyringrc.cfg)
it is used, and `status` and `doctor` say it is plain text. keyring's null backend (what
`keyring --disable` configures) keeps nothing: no keyring either.

The backends are found by keyring's own discovery, in real `rcauth` subprocesses: keyring_plugins/
holds a stand-in for keyrings.alt (its distribution, entry point, module, class, priority and file
format) and two backends that make discovery choose keyring's chainer.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_support import (
    FileKeyring,
    Rcauth,
    discovery_env,
    plaintext_entries,
    write_plaintext_entry,
)

from rcauth.session import Session
from rcauth.store import FileStore
from ringcentral_emulator import DEMO_JWT

PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"
PLAINTEXT_HINT = (
    "name a keyring that encrypts with PYTHON_KEYRING_BACKEND, or pass --insecure-storage "
    "(or set RCAUTH_INSECURE_STORAGE=1) to keep the session in rcauth's own 0600 file"
)


def refusal(kept: str = PLAINTEXT) -> str:
    return f"Error: no secure keyring is available: keyring chose {kept}, which keeps secrets in plain text"


@pytest.fixture
def discovering(env: dict[str, str], isolated: Path, tmp_path: Path) -> Callable[..., Rcauth]:
    """`discovering(*plugins, **env)`: an `rcauth` runner whose keyring is whatever keyring's discovery
    chooses with the keyring_plugins directories `plugins` installed."""
    runners: list[Rcauth] = []

    def make(*plugins: str, **extra: str) -> Rcauth:
        runner = Rcauth(
            {**discovery_env(env, isolated, *plugins), **extra}, logs=tmp_path / f"logs{len(runners)}"
        )
        runners.append(runner)
        return runner

    yield make  # type: ignore[misc]
    for runner in runners:
        runner.kill_all()


def doctor_checks(result) -> dict[str, dict[str, str]]:
    return {check["name"]: check for check in json.loads(result.out)["checks"]}


def test_a_plaintext_keyring_discovery_chose_gets_no_session_and_no_grant_is_made(
    emu, discovering, isolated
) -> None:
    rcauth = discovering("plaintext")
    login = rcauth.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert login.code == 6, login
    assert login.err.splitlines() == [f"{refusal()}; {PLAINTEXT_HINT}"]
    assert emu.counters()["grants"] == {}  # refused before asking RingCentral for anything
    assert plaintext_entries(isolated) == {}
    assert not FileStore("default").path.exists()
    for command in (("whoami",), ("status",), ("token",), ("logout",)):
        result = rcauth.run(*command)
        assert (result.code, result.err.splitlines()) == (6, [f"{refusal()}; {PLAINTEXT_HINT}"]), result

    doctor = rcauth.run("doctor", "--json")
    assert doctor.code == 1, doctor
    checks = doctor_checks(doctor)
    backend = checks["keyring backend"]
    assert backend["status"] == "problem"
    discovered = f"{PLAINTEXT} (discovered (keyring's discovery))"
    assert backend["detail"].startswith(f"{discovered} keeps secrets in plain text")
    assert "--insecure-storage" in backend["advice"]
    assert checks["keyring probe"]["status"] == "problem"
    assert checks["keyring probe"]["detail"] == refusal().removeprefix("Error: ")  # what login says
    assert checks["session file"]["detail"] == (
        f"none (but the keyring backend, {PLAINTEXT}, keeps its entries in plain text)"
    )


def test_with_consent_the_session_goes_to_rcauths_0600_file_not_the_plaintext_keyring(
    emu, discovering, isolated
) -> None:
    rcauth = discovering("plaintext", RCAUTH_INSECURE_STORAGE="1")
    store = FileStore("default")
    login = rcauth.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert login.code == 0, login
    assert login.err.splitlines() == [
        f"warning: {refusal().removeprefix('Error: ')}; keeping the session in {store.path}"
    ]
    assert plaintext_entries(isolated) == {}
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    status = rcauth.run("status", "--json")
    assert json.loads(status.out)["storage"] == f"file {store.path} (insecure storage)", status

    doctor = rcauth.run("doctor", "--json")
    assert doctor.code == 0, doctor  # the user consented: warnings, no problem
    checks = doctor_checks(doctor)
    assert checks["keyring backend"]["status"] == "warning"
    assert checks["keyring probe"]["status"] == "warning"
    assert checks["keyring probe"]["detail"].endswith(
        f"sessions are kept in {store.path} instead (insecure storage allowed)"
    )
    assert checks["directories"]["status"] == "ok"
    assert checks["session default"]["status"] == "ok"

    logout = rcauth.run("logout")
    assert (logout.code, logout.out) == (0, "Signed out: tokens revoked and removed.\n"), logout
    assert not store.path.exists()


@pytest.mark.parametrize("how", ["PYTHON_KEYRING_BACKEND", "keyringrc.cfg"])
def test_a_plaintext_keyring_the_user_chose_is_used_and_called_plain_text(
    emu, discovering, isolated, how
) -> None:
    if how == "PYTHON_KEYRING_BACKEND":
        rcauth = discovering("plaintext", PYTHON_KEYRING_BACKEND=PLAINTEXT)
        why = "user's choice (PYTHON_KEYRING_BACKEND)"
    else:
        config = isolated / "xdg-config" / "python_keyring" / "keyringrc.cfg"
        config.parent.mkdir(parents=True)
        config.write_text(f"[backend]\ndefault-keyring={PLAINTEXT}\n", encoding="utf-8")
        rcauth = discovering("plaintext")
        why = f"user's choice (keyring's config file {config})"
    login = rcauth.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert (login.code, login.err) == (0, ""), login
    stored = plaintext_entries(isolated)[("rcauth", "default")]
    assert Session.from_json(stored).refresh_token  # where the user said, as the user said

    status = rcauth.run("status", "--json")
    assert json.loads(status.out)["storage"] == (
        f"plain-text keyring ({PLAINTEXT}, {why}: service 'rcauth', entry 'default')"
    ), status
    profiles = rcauth.run("profiles", "--json")
    assert [row["storage"] for row in json.loads(profiles.out)] == ["keyring (plain text)"], profiles

    doctor = rcauth.run("doctor", "--json")
    assert doctor.code == 0, doctor
    checks = doctor_checks(doctor)
    assert checks["keyring backend"]["status"] == "warning"
    assert checks["keyring backend"]["detail"] == (
        f"{PLAINTEXT} ({why}) keeps secrets in plain text ({PLAINTEXT}), readable by any program run "
        "as you: your choice, so rcauth keeps sessions there"
    )
    assert checks["keyring probe"]["status"] == "ok"
    assert "plain text" in checks["session file"]["detail"]


def test_keyrings_chainer_writing_to_a_plaintext_backend_is_refused_and_one_writing_to_another_is_used(
    emu, discovering, isolated, keyring_dir
) -> None:
    chained_plain = discovering("plaintext", "chained", RCAUTH_TEST_CHAINED="low")
    login = chained_plain.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert login.code == 6, login
    chained = refusal(f"{PLAINTEXT} (through keyring's chainer)")
    assert login.err.splitlines() == [f"{chained}; {PLAINTEXT_HINT}"]
    assert emu.counters()["grants"] == {}

    chained_first = discovering("plaintext", "chained", RCAUTH_TEST_CHAINED="high")
    login = chained_first.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert (login.code, login.err) == (0, ""), login
    assert plaintext_entries(isolated) == {}
    assert FileKeyring.entry("rcauth", "default", keyring_dir).exists()  # the chain's first backend
    status = chained_first.run("status", "--json")
    assert json.loads(status.out)["storage"] == "system keyring (chainer: service 'rcauth', entry 'default')"


def test_a_remembered_chain_whose_encrypting_member_is_gone_is_no_answer_about_the_session(
    emu, discovering, isolated, keyring_dir
) -> None:
    """keyring's chainer is remembered with the backends it chained: when the one that took the
    session is no longer viable (a Secret Service whose D-Bus is gone), the chain left reads only the
    plain-text member, whose "nothing here" says nothing about the session. With consent to a file
    that was "not signed in" (logout: "nothing to do", exit 0); it is exit 6, naming the member."""
    login = discovering("plaintext", "chained", RCAUTH_TEST_CHAINED="high").run(
        "login", "--jwt", env={"RC_JWT": DEMO_JWT}
    )
    assert (login.code, login.err) == (0, ""), login
    entry = FileKeyring.entry("rcauth", "default", keyring_dir)
    assert entry.exists()
    gone = discovering("plaintext", "chained", RCAUTH_TEST_CHAINED="none", RCAUTH_INSECURE_STORAGE="1")
    for command in (("whoami",), ("status",), ("logout",)):
        result = gone.run(*command)
        assert result.code == 6, result
        assert result.err.startswith("Error: ") and len(result.err.splitlines()) == 1, result
        assert "rcauth_test_chained.HighKeyring" in result.err, result
        assert "not signed in" not in result.err.lower() and "nothing to do" not in result.err, result
    assert entry.exists() and emu.live_grants()  # the session is untouched and live
    back = discovering("plaintext", "chained", RCAUTH_TEST_CHAINED="high", RCAUTH_INSECURE_STORAGE="1")
    assert back.run("whoami").code == 0


def test_a_session_left_in_a_discovered_plaintext_keyring_is_moved_out_then_revoked_by_logout(
    emu, discovering, isolated, sign_in
) -> None:
    """An older rcauth stored a session there: without consent nothing touches it (exit 6); with
    consent it is read, its refresh moves it to the 0600 file (the plain-text copy removed), and
    logout revokes it."""
    session = sign_in(access_expires_at=0)  # due: the next command refreshes it
    write_plaintext_entry(isolated, "rcauth", "default", session.to_json())
    rcauth = discovering("plaintext")
    refused = rcauth.run("whoami")
    assert refused.code == 6, refused
    assert plaintext_entries(isolated) != {}

    whoami = rcauth.run("--insecure-storage", "whoami", "--json")
    assert whoami.code == 0, whoami
    assert json.loads(whoami.out)["name"] == "Alex Morgan"
    assert plaintext_entries(isolated) == {}
    store = FileStore("default")
    assert Session.from_json(store.path.read_text(encoding="utf-8")).refresh_token != session.refresh_token

    ended = emu.counters()["sessions_ended"]
    logout = rcauth.run("--insecure-storage", "logout")
    assert (logout.code, logout.out) == (0, "Signed out: tokens revoked and removed.\n"), logout
    assert emu.counters()["sessions_ended"] == ended + 1
    assert not store.path.exists() and plaintext_entries(isolated) == {}


def test_keyring_disabled_keeps_nothing_so_login_refuses_before_any_grant(emu, discovering, isolated) -> None:
    """`keyring --disable` writes keyringrc.cfg naming the null backend, which drops every write: a
    session "stored" there would be lost at once, its grant left live at RingCentral."""
    config = isolated / "xdg-config" / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text("[backend]\ndefault-keyring=keyring.backends.null.Keyring", encoding="utf-8")
    rcauth = discovering()
    login = rcauth.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert login.code == 6, login
    assert login.err.splitlines() == [
        "Error: no system keyring is available (keyring.backends.null.Keyring keeps nothing); "
        "pass --insecure-storage (or set RCAUTH_INSECURE_STORAGE=1) to keep it in a 0600 file instead"
    ]
    assert emu.counters()["grants"] == {}
    with_consent = rcauth.run("--insecure-storage", "login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert with_consent.code == 0, with_consent
    assert FileStore("default").path.exists()


def test_a_keyring_config_file_that_names_no_backend_is_no_choice_of_a_plaintext_one(
    emu, discovering, isolated
) -> None:
    """keyringrc.cfg with only `keyring-path` (where to look for plugins): keyring's discovery still
    chooses, so the plain-text backend it finds is not the user's choice."""
    config = isolated / "xdg-config" / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text(f"[backend]\nkeyring-path={isolated / 'plugins'}\n", encoding="utf-8")
    rcauth = discovering("plaintext")
    login = rcauth.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})
    assert login.code == 6, login
    assert login.err.splitlines()[-1] == f"{refusal()}; {PLAINTEXT_HINT}", login  # (keyring warns first)
    assert emu.counters()["grants"] == {}
    assert plaintext_entries(isolated) == {}
