"""Opening the user's browser at the sign-in page: the system browser, or Windows' from WSL.

Never a console browser: on a Linux box without a display, Python's webbrowser would start lynx or
w3m in the terminal that is waiting for the redirect, so the URL is left to the user instead.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def graphical_browser_likely() -> bool:
    """False on a Linux box with no display and no `$BROWSER`, where Python's webbrowser would fall
    back to a console browser (lynx, w3m) that takes over the terminal."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("BROWSER") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def is_wsl() -> bool:
    """Windows Subsystem for Linux: the browser lives on the Windows side."""
    if os.environ.get("WSL_DISTRO_NAME") or os.environ.get("WSL_INTEROP"):
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


def open_in_background(url: str, fallback: Callable[[str], None] | None = None) -> None:
    """Open the system browser on a daemon thread: with `$BROWSER` set to a program that blocks
    until it is done (Python's webbrowser waits for it), the login must keep serving meanwhile.

    `fallback` takes over where no graphical browser opens (the demo approves the page itself);
    without one, the user is told to open the URL that login has already printed.
    """
    import webbrowser

    wsl = is_wsl()
    if not graphical_browser_likely() and not wsl:
        if fallback is not None:
            fallback(url)
        else:
            _say("No graphical browser here: open the URL above, or use --paste over SSH.")
        return

    def run() -> None:
        opened = False
        if graphical_browser_likely():
            try:
                opened = webbrowser.open(url, new=1, autoraise=True)
            except Exception:  # noqa: BLE001 - any browser failure leaves the printed URL to the user
                opened = False
        if not opened and wsl:
            opened = open_windows_browser(url)
        if opened:
            return
        if fallback is not None:
            fallback(url)
        else:
            _say("Could not open a browser: open the URL above.")

    threading.Thread(target=run, name="rcauth-browser", daemon=True).start()
