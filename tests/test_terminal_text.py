"""The sanitiser for text shown to a person (rcauth.terminal_text): controls and bidi characters are
shown escaped, never emitted; printable text is untouched; the escaping can be read back exactly."""

from __future__ import annotations

import io
import logging
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcauth.terminal_text import VisibleFormatter, visible, visible_lines

DANGEROUS = {
    "\x00": "\\x00",  # NUL
    "\x07": "\\x07",  # BEL
    "\x08": "\\x08",  # backspace
    "\t": "\\x09",  # TAB inside a cell
    "\n": "\\x0a",
    "\r": "\\x0d",  # CR: rewrites the line from its start
    "\x1b": "\\x1b",  # ESC
    "\x7f": "\\x7f",  # DEL
    "\x85": "\\x85",  # NEL (C1)
    "\x9b": "\\x9b",  # CSI as one C1 character
    "\x9d": "\\x9d",  # OSC as one C1 character
    "\u061c": "\\u061c",  # ARABIC LETTER MARK
    "\u200b": "\\u200b",  # ZERO WIDTH SPACE
    "\u200e": "\\u200e",  # LRM
    "\u200f": "\\u200f",  # RLM
    "\u2028": "\\u2028",  # LINE SEPARATOR
    "\u2029": "\\u2029",  # PARAGRAPH SEPARATOR
    "\u202a": "\\u202a",
    "\u202b": "\\u202b",
    "\u202c": "\\u202c",
    "\u202d": "\\u202d",
    "\u202e": "\\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066": "\\u2066",
    "\u2067": "\\u2067",
    "\u2068": "\\u2068",
    "\u2069": "\\u2069",
    "\ufeff": "\\ufeff",  # BOM / ZERO WIDTH NO-BREAK SPACE
    "\U000e0041": "\\U000e0041",  # TAG LATIN CAPITAL LETTER A: invisible text
    "\ud800": "\\ud800",  # a lone surrogate (JSON can carry one): not even encodable as UTF-8
}
ESCAPED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs"}
KEPT_JOINERS = {"\u200c", "\u200d"}
ANY_CHAR = st.characters(exclude_categories=())  # every code point, surrogates included
PRINTABLE_CHAR = st.characters(exclude_categories=tuple(ESCAPED_CATEGORIES)).filter(lambda c: c != "\\")
_ESCAPE = re.compile(r"\\(\\|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")


def read_back(shown: str) -> str:
    """What a reader of the escaped text knows was there: `\\\\` is one backslash, `\\xNN`/`\\uNNNN`/
    `\\UNNNNNNNN` one character, any other backslash itself."""
    return _ESCAPE.sub(lambda m: "\\" if m.group(1) == "\\" else chr(int(m.group(1)[1:], 16)), shown)


@pytest.mark.parametrize(("char", "escaped"), sorted(DANGEROUS.items()))
def test_each_control_and_bidi_character_is_shown_as_its_escape(char: str, escaped: str) -> None:
    assert visible(f"Eve{char}Mallory") == f"Eve{escaped}Mallory"


def test_terminal_attacks_are_shown_as_text() -> None:
    assert visible("\x1b[2J\x1b]0;pwned\x07") == "\\x1b[2J\\x1b]0;pwned\\x07"
    # OSC 8: the string terminator ESC \ keeps its backslash (a `\c` cannot be read as an escape).
    assert visible("\x1b]8;;http://evil.example/\x1b\\click") == "\\x1b]8;;http://evil.example/\\x1b\\click"


def test_markup_and_brackets_are_plain_text_to_the_sanitiser() -> None:
    for name in ("[bold red]x[/]", "Front Desk [main]", "Bob [/link]", "[/]", "[link=http://e.example]y"):
        assert visible(name) == name


def test_a_backslash_is_shown_as_is_unless_it_could_be_read_as_an_escape() -> None:
    assert visible("DOMAIN\\user") == "DOMAIN\\user"
    assert visible("C:\\Users\\alex") == "C:\\Users\\alex"
    assert visible("ends with \\") == "ends with \\"
    # The four characters `\x1b` written by a caller are doubled, so `\x1b` on screen always means ESC.
    assert visible("\\x1b[2J") == "\\\\x1b[2J"
    assert visible("\\u202e") == "\\\\u202e"
    assert visible("\\U0001f600") == "\\\\U0001f600"
    assert visible("two \\\\ backslashes") == "two \\\\\\ backslashes"
    assert visible("\\\x1b") == "\\\\\\x1b"  # a backslash before a real ESC


def test_joiners_in_names_and_emoji_are_kept() -> None:
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # needs ZWNJ
    assert visible(persian) == persian
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert visible(family) == family


def test_anything_is_turned_into_text() -> None:
    assert visible(None) == "None"
    assert visible(101) == "101"


@given(st.text(ANY_CHAR))
def test_the_output_never_holds_a_control_format_or_separator_character(text: str) -> None:
    shown = visible(text)
    assert all(unicodedata.category(c) not in ESCAPED_CATEGORIES or c in KEPT_JOINERS for c in shown), shown
    shown.encode("utf-8")  # a lone surrogate would raise here


@given(st.text(PRINTABLE_CHAR))
def test_printable_text_without_backslashes_is_unchanged(text: str) -> None:
    assert visible(text) == text


@given(st.text(ANY_CHAR))
def test_the_escaped_form_reads_back_as_exactly_the_original(text: str) -> None:
    assert read_back(visible(text)) == text


@given(st.text(st.sampled_from(["\\", "x", "u", "U", "1", "b", "e", "\x1b", "a", "\u202e"])))
def test_backslash_heavy_text_reads_back_as_exactly_the_original(text: str) -> None:
    assert read_back(visible(text)) == text


def test_visible_lines_keeps_line_breaks_and_escapes_the_rest() -> None:
    body = "<html>\r\n<title>\x1b]0;pwned\x07</title>\n\x9b2J</html>\n"
    assert visible_lines(body) == "<html>\n<title>\\x1b]0;pwned\\x07</title>\n\\x9b2J</html>\n"


def test_log_lines_show_server_text_escaped_message_and_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(VisibleFormatter("warning: %(message)s"))
    log = logging.getLogger("rcauth.test_terminal_text")
    log.addHandler(handler)
    log.propagate = False
    try:
        try:
            raise ValueError("proxy said \x1b[2J\u202e")
        except ValueError:
            log.warning("answer %r was %s", "x", "\x1b]0;title\x07 two\nlines", exc_info=True)
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert text.startswith("warning: answer 'x' was \\x1b]0;title\\x07 two\\x0alines\n")
    assert "ValueError: proxy said \\x1b[2J\\u202e" in text
    assert text.count("\n") > 2  # the traceback still reads as lines


def test_rcauth_warnings_on_stderr_show_server_text_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    from rcauth.cli import _configure_logging

    _configure_logging(False)
    try:
        logging.getLogger("rcauth.client").warning("proxy answered %s", "\x1b]0;pwned\x07\u202e")
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_rcauth", False)]:
            root.removeHandler(handler)
    assert capsys.readouterr().err == "warning: proxy answered \\x1b]0;pwned\\x07\\u202e\n"
