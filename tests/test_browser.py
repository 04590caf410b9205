"""`browser` says what happened (`BrowserOutcome`) and never prints: the command decides what to tell."""

from __future__ import annotations

import threading
import webbrowser

import pytest

from rcauth import browser
from rcauth.browser import BrowserOutcome, open_browser, open_in_background

URL = "https://platform.example/restapi/oauth/authorize?state=S"


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
