"""Opening the user's browser at the sign-in page: the system browser, or Windows' from WSL.

Never a console browser: on a Linux box without a display, Python's webbrowser would start lynx or
w3m in the terminal that is waiting for the redirect, so the URL is left to the user instead.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from enum import Enum

from rcauth.config import BROWSER_VAR, DISPLAY_VAR, WAYLAND_DISPLAY_VAR, WSL_DISTRO_NAME_VAR, WSL_INTEROP_VAR


class BrowserOutcome(Enum):
    """What happened when rcauth tried to open the browser; the caller decides what to tell the user."""

    OPENED = "opened"  # the system browser took the URL
    OPENED_ON_WINDOWS = "opened on Windows"  # from WSL, through wslview or PowerShell
    NO_BROWSER = "no graphical browser"  # a Linux box with no display: nothing was tried
    FAILED = "failed"  # a browser was tried and did not open

    @property
    def opened(self) -> bool:
        return self in (BrowserOutcome.OPENED, BrowserOutcome.OPENED_ON_WINDOWS)


def graphical_browser_likely() -> bool:
    """False on a Linux box with no display and no `$BROWSER`, where Python's webbrowser would fall
    back to a console browser (lynx, w3m) that takes over the terminal."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(var.name) for var in (BROWSER_VAR, DISPLAY_VAR, WAYLAND_DISPLAY_VAR))


def is_wsl() -> bool:
    """Windows Subsystem for Linux: the browser lives on the Windows side."""
    if os.environ.get(WSL_DISTRO_NAME_VAR.name) or os.environ.get(WSL_INTEROP_VAR.name):
        return True
    try:
        return "microsoft" in os.uname().release.lower()
    except AttributeError:  # pragma: no cover - not POSIX
        return False


def open_windows_browser(url: str) -> bool:
    """On WSL, hand the URL to Windows: `wslview` (wslu) if present, else PowerShell's Start-Process."""
    import shutil
    import subprocess

    candidates: list[list[str]] = []
    if shutil.which("wslview"):
        candidates.append(["wslview", url])
    if shutil.which("powershell.exe"):
        # The URL is passed as an argument, never spliced into the command text.
        candidates.append(
            ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command", "Start-Process $args[0]", url]
        )
    for command in candidates:
        try:
            completed = subprocess.run(command, timeout=20, capture_output=True, check=False)  # noqa: S603
        except (OSError, subprocess.SubprocessError):
            continue
        if completed.returncode == 0:
            return True
    return False


def open_browser(url: str) -> BrowserOutcome:
    """Try the system browser (or Windows' from WSL) and say what happened; may block for as long as
    a `$BROWSER` program runs, so a login calls `open_in_background` instead."""
    import webbrowser

    wsl = is_wsl()
    graphical = graphical_browser_likely()
    if not graphical and not wsl:
        return BrowserOutcome.NO_BROWSER
    if graphical:
        try:
            opened = webbrowser.open(url, new=1, autoraise=True)
        except Exception:  # noqa: BLE001 - any browser failure leaves the printed URL to the user
            opened = False
        if opened:
            return BrowserOutcome.OPENED
    if wsl and open_windows_browser(url):
        return BrowserOutcome.OPENED_ON_WINDOWS
    return BrowserOutcome.FAILED


def open_in_background(url: str, on_outcome: Callable[[BrowserOutcome], None] | None = None) -> None:
    """`open_browser` on a daemon thread: with `$BROWSER` set to a program that blocks until it is
    done (Python's webbrowser waits for it), the login must keep serving meanwhile.

    `on_outcome` gets what happened, on that thread (at once, on the caller's, when there is no
    browser to try): the caller tells the user, or approves the page itself (the demo).
    """
    if not graphical_browser_likely() and not is_wsl():
        if on_outcome is not None:
            on_outcome(BrowserOutcome.NO_BROWSER)
        return

    def run() -> None:
        outcome = open_browser(url)
        if on_outcome is not None:
            on_outcome(outcome)

    threading.Thread(target=run, name="rcauth-browser", daemon=True).start()
