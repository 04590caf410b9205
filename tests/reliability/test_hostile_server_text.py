"""Server text reaches a person's terminal as text: the real commands, on a pseudo-terminal with colour
(rich styles its output), fed hostile names by the emulator and a hostile error by a small server.

Caller-ID names are chosen by whoever calls you and an admin names extensions anything, so the names
carry terminal attacks (clear screen, window title, OSC 8 link, C1 CSI, NUL, BEL, a bidi override) and
rich markup. The raw bytes the terminal receives must hold none of those sequences, must show them
escaped, must show markup-looking names literally, and nothing may crash. rich emits ESC for its own
styling, so the checks look for the hostile sequences, not for any ESC.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from helpers import serving
from reliability_support import Rcauth, TerminalResult, run_on_terminal

from rcauth.session import Session
from ringcentral_emulator import DEMO_JWT, Emulator

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

# Each hostile sequence, and the raw bytes that must never reach the terminal because of it.
CLEAR = "\x1b[2J"
TITLE = "\x1b]0;pwned\x07"
LINK = "\x1b]8;;http://evil.example/\x1b\\here\x1b]8;;\x1b\\"
C1_CSI = "\x9b31m"
HOSTILE = f"Eve{CLEAR}{TITLE}{LINK}{C1_CSI}\u202eNUL\x00"
FORBIDDEN = {
    "clear screen": b"\x1b[2J",
    "window title": b"\x1b]0;",
    "OSC 8 link": b"\x1b]8;",
    "C1 CSI": b"\xc2\x9b",
    "NUL": b"\x00",
    "BEL": b"\x07",
    "right-to-left override": "\u202e".encode(),
}
# How the terminal shows them instead (the sanitiser's escapes).
ESCAPED = [
    b"Eve\\x1b[2J\\x1b]0;pwned\\x07\\x1b]8;;http://evil.example/\\x1b\\here",
    b"\\x9b31m\\u202eNUL\\x00",
]
MARKUP = ["[bold red]x[/]", "[link=http://evil.example]y[/link]", "Bob [/link]", "[/]", "Front Desk [main]"]


def terminal_env(env: dict[str, str]) -> dict[str, str]:
    """A colour terminal: TERM set, nothing that turns rich's styling off or forces it."""
    dropped = ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR", "CLICOLOR_FORCE")
    return {**{k: v for k, v in env.items() if k not in dropped}, "TERM": "xterm-256color"}


def assert_shown_as_text(result: TerminalResult, *, literal: list[str], escaped: list[bytes]) -> None:
    leaked = {what: raw for what, raw in FORBIDDEN.items() if raw in result.raw}
    assert not leaked, f"{sorted(leaked)} reached the terminal:\n{result}"
    assert b"Traceback" not in result.raw and b"MarkupError" not in result.raw, str(result)
    for text in literal:
        assert text.encode() in result.raw, f"{text!r} not shown literally:\n{result}"
    for form in escaped:
        assert form in result.raw, f"{form!r} not shown:\n{result}"


@pytest.fixture
def hostile_user(emu: Emulator) -> None:
    """The signed-in extension's name (first + last), as an admin can set it."""
    emu.set(user={"first_name": HOSTILE, "last_name": " ".join(MARKUP)})


def test_whoami_shows_a_hostile_extension_name_as_text(
    emu: Emulator, env: dict[str, str], sign_in: Callable[..., Session], hostile_user: None
) -> None:
    sign_in()
    result = run_on_terminal("whoami", env=terminal_env(env))
    assert result.code == 0, str(result)
    assert b"\x1b[" in result.raw, "rich did not style: not a colour terminal"
    assert_shown_as_text(result, literal=MARKUP, escaped=ESCAPED)


def test_call_log_shows_hostile_caller_id_names_as_text(
    emu: Emulator, env: dict[str, str], sign_in: Callable[..., Session]
) -> None:
    emu.set(caller_names=[HOSTILE, *MARKUP, "Lobby [b]"])
    sign_in()
    result = run_on_terminal("call-log", "--from", "30d", "--limit", "60", env=terminal_env(env))
    assert result.code == 0, str(result)
    assert_shown_as_text(result, literal=[*MARKUP, "Lobby [b] +1"], escaped=ESCAPED)


def test_login_status_and_profiles_show_a_hostile_display_name_as_text(
    emu: Emulator, env: dict[str, str], hostile_user: None
) -> None:
    """`login` keeps the display name in the profile index; `status` and `profiles` read it back on
    every run, so a hostile one must not break them."""
    term = terminal_env(env)
    login = run_on_terminal("login", "--jwt", env={**term, "RC_JWT": DEMO_JWT})
    assert login.code == 0, str(login)
    assert b"Signed in as Eve\\x1b[2J" in login.raw, str(login)
    assert_shown_as_text(login, literal=MARKUP, escaped=ESCAPED)
    for command in ("status", "profiles"):
        result = run_on_terminal(command, env=term)
        assert result.code == 0, str(result)
        assert_shown_as_text(result, literal=MARKUP, escaped=ESCAPED)


# -- a server whose error message and non-JSON answer are hostile ----------------------------------------
HOSTILE_MESSAGE = f"{HOSTILE} {' '.join(MARKUP)}"
HOSTILE_PAGE = f"<html>\r\n<title>{TITLE}</title>\n{CLEAR}{LINK}{C1_CSI}\u202e\x00</html>\n"


class _HostileHandler(BaseHTTPRequestHandler):
    """Answers every API call with RingCentral's error shape carrying `HOSTILE_MESSAGE`, and `/page`
    and `/undeclared` with a non-JSON body carrying terminal controls (a proxy's page, say)."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.endswith("/page"):
            status, kind, body = 200, "text/html; charset=utf-8", HOSTILE_PAGE.encode()
        elif self.path.endswith("/undeclared"):  # no charset: bytes a pipe must get exactly
            status, kind, body = 200, "text/plain", HOSTILE_PAGE.encode()
        else:
            error = {"errorCode": "CMN-101", "message": HOSTILE_MESSAGE, "errors": []}
            status, kind, body = 400, "application/json", json.dumps(error).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        pass


@pytest.fixture
def hostile_server() -> Iterator[str]:
    with serving(_HostileHandler) as url:
        yield url


def test_an_error_line_shows_a_hostile_server_message_as_text(
    env: dict[str, str], sign_in: Callable[..., Session], hostile_server: str
) -> None:
    sign_in(server=hostile_server)
    result = run_on_terminal("whoami", env=terminal_env(env))
    assert result.code == 5, str(result)
    assert b"Error: CMN-101: Eve\\x1b[2J" in result.raw, str(result)
    assert_shown_as_text(result, literal=MARKUP, escaped=ESCAPED)


def test_api_shows_a_non_json_answer_escaped_on_a_terminal_and_exact_when_piped(
    env: dict[str, str], sign_in: Callable[..., Session], hostile_server: str, rcauth: Rcauth
) -> None:
    sign_in(server=hostile_server)
    shown = run_on_terminal("api", "GET", "/restapi/v1.0/page", env=terminal_env(env))
    assert shown.code == 0, str(shown)
    assert_shown_as_text(shown, literal=["<html>", "</html>"], escaped=[b"<title>\\x1b]0;pwned\\x07</title>"])
    assert shown.raw.count(b"\n") >= 3  # still lines
    proc = rcauth.start("api", "GET", "/restapi/v1.0/undeclared")
    piped = rcauth.finish(proc)
    assert piped.code == 0, str(piped)
    assert proc.out_path.read_bytes() == HOSTILE_PAGE.encode()  # type: ignore[attr-defined]
