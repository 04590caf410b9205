"""Text from outside (RingCentral's answers, the profile index, error messages) made safe to show a person.

Caller-ID names are chosen by whoever calls you, an admin names extensions, and an error message is
whatever the server (or a proxy in the way) says. Written to a terminal as they are, such strings can
drive it: ESC sequences clear the screen (`ESC [2J`), set the window title (`ESC ]0;`), plant links
(OSC 8), C1 controls (U+009B is a one-character CSI) do the same on terminals that honour them, and
bidi overrides (U+202E) reorder what is shown so a line reads differently from what it holds
(CVE-2021-42574, "Trojan Source"). So every such string goes through `visible()` before it is shown:
each control or invisible formatting character is written as a visible escape, never emitted.

What is escaped: Unicode categories Cc (C0 controls including TAB, CR, LF, NUL, BEL, ESC; DEL; the C1
controls U+0080-U+009F), Cf (format characters: the bidi embeddings, overrides and isolates U+202A-U+202E
and U+2066-U+2069, the marks U+200E, U+200F, U+061C, zero-width space, soft hyphen, BOM, tag
characters...), Zl and Zp (U+2028, U+2029: line breaks to some terminals) and Cs (a lone surrogate,
which JSON can carry as `\\ud800` and which cannot even be encoded to UTF-8). Two Cf characters are
kept: ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER (U+200C, U+200D) are needed to spell Persian and
Indic names and emoji sequences, and neither moves nor hides text.

The escapes are Python's: `\\x1b` below U+0100, `\\u202e` up to U+FFFF, `\\U000e0041` beyond.

Backslashes: a literal backslash is doubled only where it could otherwise be read as part of an escape,
that is when the text after it begins with another backslash, with a character that is escaped, or with
`x` + 2, `u` + 4 or `U` + 8 hex digits. So `\\x1b` on screen always means the character ESC was there,
a name that really contains the four characters `\\x1b` is shown `\\\\x1b`, and ordinary text with
backslashes (`DOMAIN\\user`, `C:\\Users`) is shown as it is. The mapping is reversible (the tests decode
it back), which is what makes it unambiguous.

Only for people: JSON and NDJSON output stays byte-exact (JSON escapes C0 controls itself), and CSV has
its own rule for spreadsheets (`rcauth.output.csv_cell`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_KEPT = frozenset({"\u200c", "\u200d"})  # ZWNJ, ZWJ: part of ordinary names and emoji sequences
# Text that, right after a backslash, would read as one of our escapes.
_LOOKS_ESCAPED = re.compile(r"\\|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}")


@lru_cache(maxsize=4096)
def must_escape(char: str) -> bool:
    """Whether `char` is a control, format, line/paragraph separator or surrogate code point."""
    return char not in _KEPT and unicodedata.category(char) in _ESCAPED_CATEGORIES


def _escape(char: str) -> str:
    point = ord(char)
    if point < 0x100:
        return f"\\x{point:02x}"
    if point < 0x10000:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def visible(text: object) -> str:
    """`text` (anything: it is `str()`-ed) with every control and bidi/format character shown as an
    escape such as `\\x1b` or `\\u202e`, and backslashes doubled where they could be mistaken for one."""
    text = str(text)
    if text.isprintable() and "\\" not in text:
        return text  # the usual case; str.isprintable() is False for every category escaped here
    out: list[str] = []
    for i, char in enumerate(text):
        if must_escape(char):
            out.append(_escape(char))
        elif char == "\\":
            rest = text[i + 1 :]
            doubled = bool(rest) and (must_escape(rest[0]) or _LOOKS_ESCAPED.match(rest) is not None)
            out.append("\\\\" if doubled else "\\")
        else:
            out.append(char)
    return "".join(out)


def visible_lines(text: str) -> str:
    """Several lines (a non-JSON answer body, a traceback): each line made `visible`, line breaks
    (LF or CRLF) kept as LF, so the text still reads as lines."""
    return "\n".join(visible(line) for line in re.split(r"\r?\n", text))


class VisibleFormatter(logging.Formatter):
    """Log lines for a terminal: the message made `visible` (one line), tracebacks line by line.

    Warnings and --debug logs carry server text too (an error body, a redirect's reason)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = visible(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: object) -> str:  # noqa: N802 - logging's name
        return visible_lines(super().formatException(ei))  # type: ignore[arg-type]

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return visible_lines(super().formatStack(stack_info))
