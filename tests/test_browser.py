"""Opening the sign-in page: which browser rcauth tries, that a browser which blocks cannot hold up the
login, and that `browser` says what happened (`BrowserOutcome`) and never prints: the command decides
what to tell. Real programs on PATH and `$BROWSER` (small scripts) or webbrowser stubbed, never a real
browser."""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import webbrowser
from pathlib import Path

import pytest

from rcauth import browser
from rcauth.browser import BrowserOutcome, open_browser, open_in_background

URL = "http://127.0.0.1:1/restapi/oauth/authorize?client_id=c&state=s&x=$(touch%20pwned)"
WAIT = 30.0  # a bound on waits for the scripts below, never a measurement

posix_scripts = pytest.mark.skipif(os.name != "posix", reason="the fake browsers are POSIX shell scripts")


@pytest.fixture(autouse=True)
def plain_linux_box(monkeypatch: pytest.MonkeyPatch) -> None:
    """No display, no $BROWSER, not WSL, and webbrowser's choice of browser made afresh."""
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME", "WSL_INTEROP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body), encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the console-browser rule is Linux's")
@pytest.mark.parametrize(
    ("variable", "value", "likely"),
    [
        (None, None, False),
        ("DISPLAY", ":0", True),
        ("WAYLAND_DISPLAY", "wayland-0", True),
        ("BROWSER", "firefox", True),
        ("DISPLAY", "", False),
    ],
)
def test_on_linux_a_graphical_browser_needs_a_display_or_browser_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str | None, value: str | None, likely: bool
) -> None:
    """Without one, Python's webbrowser would start lynx or w3m in the terminal awaiting the redirect."""
    if variable:
        monkeypatch.setenv(variable, value or "")
    assert browser.graphical_browser_likely() is likely


@pytest.mark.parametrize("variable", ["WSL_DISTRO_NAME", "WSL_INTEROP"])
def test_wsl_is_recognised_by_the_variables_it_sets(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "Debian")
    assert browser.is_wsl()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the Linux kernel release")
def test_a_plain_linux_kernel_is_not_wsl() -> None:
    if "microsoft" in os.uname().release.lower():
        pytest.skip("this machine is WSL")
    assert not browser.is_wsl()


@posix_scripts
def test_wsl_hands_the_url_to_powershell_as_an_argument_never_as_command_text(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without wslview, PowerShell's Start-Process gets the URL as `$args[0]`: the `$(...)` in it is
    never run by any shell."""
    got = tmp_path / "argv"
    script(tmp_path / "powershell.exe", f"""\
        for a in "$@"; do printf '%s\\n' "$a"; done > {got}
    """)
    monkeypatch.setenv("PATH", str(tmp_path))  # no wslview here
    assert browser.open_windows_browser(URL) is True
    assert got.read_text(encoding="utf-8").splitlines() == [
        "-NoProfile", "-NonInteractive", "-Command", "Start-Process $args[0]", URL
    ]
    assert not (tmp_path / "pwned").exists()


@posix_scripts
def test_wsl_tries_powershell_when_wslview_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tried = tmp_path / "tried"
    script(tmp_path / "wslview", f"echo wslview >> {tried}; exit 1\n")
    script(tmp_path / "powershell.exe", f"echo powershell >> {tried}\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert browser.open_windows_browser(URL) is True
    assert tried.read_text(encoding="utf-8").split() == ["wslview", "powershell"]


@posix_scripts
def test_wsl_without_any_way_to_windows_reports_no_browser(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script(tmp_path / "wslview", "exit 3\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert browser.open_windows_browser(URL) is False


@posix_scripts
def test_a_browser_that_blocks_does_not_hold_up_the_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python's webbrowser waits for a `$BROWSER` program to exit; the login must go on serving the
    redirect meanwhile, so the browser is opened on a daemon thread and the call returns at once."""
    got, release, done = tmp_path / "got", tmp_path / "release", tmp_path / "done"
    # Holds until the test releases it (or WAIT runs out, so a blocking call fails instead of hanging).
    program = script(tmp_path / "blocking-browser", f"""\
        printf '%s' "$1" > {got}.part && mv {got}.part {got}
        i=0
        while [ ! -e {release} ] && [ $i -lt {int(WAIT / 0.05)} ]; do sleep 0.05; i=$((i + 1)); done
        touch {done}
    """)
    monkeypatch.setenv("BROWSER", str(program))
    before = {t.ident for t in threading.enumerate()}
    try:
        browser.open_in_background(URL)
        assert not done.exists(), "open_in_background waited for the browser program to finish"
        opener = [t for t in threading.enumerate() if t.ident not in before]
        assert opener and all(t.daemon for t in opener), "the opener must not keep rcauth alive at exit"
        for _ in range(int(WAIT / 0.05)):
            if got.exists():
                break
            threading.Event().wait(0.05)
        assert got.read_text(encoding="utf-8") == URL
    finally:
        release.touch()


@pytest.fixture
def linux(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr(browser.sys, "platform", "linux")
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME", "WSL_INTEROP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(browser, "is_wsl", lambda: False)
    return monkeypatch


def refuse_to_run(*args: object, **kwargs: object) -> bool:
    raise AssertionError("no browser may be started here")


def test_no_display_is_no_browser_and_nothing_is_started(linux: pytest.MonkeyPatch, capsys) -> None:
    linux.setattr(webbrowser, "open", refuse_to_run)
    assert open_browser(URL) is BrowserOutcome.NO_BROWSER
    seen: list[BrowserOutcome] = []
    open_in_background(URL, seen.append)  # told at once, on the caller's thread
    assert seen == [BrowserOutcome.NO_BROWSER]
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("opens", "expected"),
    [(lambda *a, **k: True, BrowserOutcome.OPENED), (lambda *a, **k: False, BrowserOutcome.FAILED)],
)
def test_a_display_tries_the_system_browser_and_reports_whether_it_opened(
    linux: pytest.MonkeyPatch, capsys, opens, expected: BrowserOutcome
) -> None:
    linux.setenv("DISPLAY", ":0")
    linux.setattr(webbrowser, "open", opens)
    assert open_browser(URL) is expected
    assert capsys.readouterr() == ("", "")


def test_a_browser_that_raises_is_a_failure_not_an_error(linux: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> bool:
        raise webbrowser.Error("could not locate runnable browser")

    linux.setenv("DISPLAY", ":0")
    linux.setattr(webbrowser, "open", broken)
    assert open_browser(URL) is BrowserOutcome.FAILED


def test_wsl_without_a_display_hands_the_url_to_windows(linux: pytest.MonkeyPatch) -> None:
    handed: list[str] = []
    linux.setattr(browser, "is_wsl", lambda: True)
    linux.setattr(webbrowser, "open", refuse_to_run)
    linux.setattr(browser, "open_windows_browser", lambda url: handed.append(url) or True)
    assert open_browser(URL) is BrowserOutcome.OPENED_ON_WINDOWS and handed == [URL]
    linux.setattr(browser, "open_windows_browser", lambda url: False)
    assert open_browser(URL) is BrowserOutcome.FAILED


def test_in_the_background_the_outcome_arrives_from_another_thread(linux: pytest.MonkeyPatch, capsys) -> None:
    linux.setenv("DISPLAY", ":0")
    linux.setattr(webbrowser, "open", lambda *a, **k: False)
    done = threading.Event()
    seen: list[tuple[BrowserOutcome, str]] = []

    def on_outcome(outcome: BrowserOutcome) -> None:
        seen.append((outcome, threading.current_thread().name))
        done.set()

    open_in_background(URL, on_outcome)
    assert done.wait(10)
    assert seen == [(BrowserOutcome.FAILED, "rcauth-browser")]
    assert capsys.readouterr() == ("", "")
