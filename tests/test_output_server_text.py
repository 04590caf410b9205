"""Server text in rcauth's output: tables show it as plain text (never rich markup, controls escaped),
CSV cells that a spreadsheet would run as a formula are neutralised, JSON and NDJSON stay exact."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from rcauth import output
from rcauth.output import (
    CALL_LOG_CSV_FIELDS,
    call_log_table,
    csv_cell,
    extension_table,
    profiles_table,
    status_table,
    write_records,
)

MARKUP_NAMES = [
    "[bold red]x[/]",
    "[link=http://evil.example]click[/link]",
    "Bob [/link]",
    "[/]",
    "Front Desk [main]",
]
HOSTILE = "Eve\x1b[2J\x1b]0;pwned\x07\x9b31m\u202eMallory\x00"
HOSTILE_SHOWN = "Eve\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202eMallory\\x00"


def render(table: Any) -> str:
    """What a colour terminal receives for `table`."""
    out = io.StringIO()
    Console(file=out, force_terminal=True, color_system="truecolor", width=200, highlight=False).print(table)
    return out.getvalue()


def extension(name: str) -> dict[str, Any]:
    return {
        "id": 2071360004,
        "name": name,
        "extensionNumber": "101",
        "contact": {"firstName": name, "email": "a@example.com", "company": name},
        "account": {"id": "37439510"},
        "status": "Enabled",
        "type": "User",
    }


def call(name: str) -> dict[str, Any]:
    return {
        "id": "abc",
        "startTime": "2026-11-28T10:00:00.000Z",
        "direction": "Inbound",
        "type": "Voice",
        "duration": 61,
        "result": "Accepted",
        "from": {"phoneNumber": "+16505550142", "name": name},
        "to": {"extensionNumber": "101", "name": "Alex Morgan"},
    }


def status_info(name: str) -> dict[str, Any]:
    return {"profile": "default", "server": "https://platform.ringcentral.com", "user": {"name": name}}


TABLES = {
    "whoami": lambda name: extension_table(extension(name), "https://platform.ringcentral.com"),
    "call-log": lambda name: call_log_table([call(name)]),
    "status": lambda name: status_table(status_info(name)),
    "profiles": lambda name: profiles_table([{"profile": "default", "user": name, "active": True}]),
}


@pytest.mark.parametrize("name", MARKUP_NAMES)
@pytest.mark.parametrize("table", sorted(TABLES))
def test_tables_show_markup_looking_names_literally(table: str, name: str) -> None:
    shown = render(TABLES[table](name))
    assert name in shown
    assert "\x1b]8;" not in shown  # no link was made


@pytest.mark.parametrize("table", sorted(TABLES))
def test_tables_show_control_characters_escaped_never_raw(table: str) -> None:
    shown = render(TABLES[table](HOSTILE))
    assert HOSTILE_SHOWN in shown
    for raw in ("\x1b[2J", "\x1b]0;", "\x07", "\x9b", "\u202e", "\x00"):
        assert raw not in shown


def test_a_bracketed_caller_name_does_not_style_the_number_beside_it() -> None:
    shown = render(call_log_table([call("Lobby [b]")]))
    assert "Lobby [b] +16505550142" in shown
    assert "\x1b[1m" not in shown.split("Lobby", 1)[1].split("\n", 1)[0]  # nothing bold after the name


# -- CSV ------------------------------------------------------------------------------------------------
NEUTRALISED = [
    "=1+1",
    '=HYPERLINK("http://evil.example","click")',
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "+",
    "-",
    "--1",
    "+1 650 555 0100",
    "-a",
    "+1e",
    "- 1",
]
KEPT = ["+16505550100", "-12.5", "12.5", "-1e5", "+.5", "1.", "-0", "Alex Morgan", "a=b", "", "'=already"]


@pytest.mark.parametrize("cell", NEUTRALISED)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(cell: str) -> None:
    assert csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", KEPT)
def test_numbers_phone_numbers_and_text_are_kept_as_they_are(cell: str) -> None:
    assert csv_cell(cell) == cell


@pytest.mark.parametrize("value", [None, 5, -5, -1.5, True])
def test_values_that_are_not_text_are_kept(value: Any) -> None:
    assert csv_cell(value) is value


@given(st.text())
def test_csv_neutralisation_only_ever_prepends_one_quote_and_replaces_nul(cell: str) -> None:
    text = cell.replace("\x00", "\ufffd")
    assert csv_cell(cell) in (text, "'" + text)


@pytest.mark.parametrize("name", ["Mallory\x00", "\x00", "=cmd\x00", "a\x00b\x00c"])
def test_a_nul_in_server_text_is_written_as_the_replacement_character(name: str) -> None:
    # Python 3.10's csv refuses to write a NUL ("need to escape"), 3.11's writes it raw: the same
    # U+FFFD on every version instead, in a cell and in a header taken from the server's keys.
    out = io.StringIO()
    assert write_records([call(name), call("plain")], "csv", out, csv_fields=CALL_LOG_CSV_FIELDS) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert "\x00" not in out.getvalue()
    assert rows[0]["from.name"] in (name.replace("\x00", "\ufffd"), "'" + name.replace("\x00", "\ufffd"))
    assert rows[1]["from.name"] == "plain"
    keyed = io.StringIO()
    write_records([{name: "v"}], "csv", keyed)
    assert "\x00" not in keyed.getvalue() and "\ufffd" in keyed.getvalue()


@given(st.text())
def test_no_csv_cell_starts_like_a_formula_unless_it_is_a_plain_number(cell: str) -> None:
    out = csv_cell(cell)
    assert not out.startswith(("=", "@", "\t", "\r"))
    if out.startswith(("+", "-")):
        assert re.fullmatch(r"[+-][0-9.eE+-]*", out), out  # digits, a point, an exponent: no formula


@given(st.text())
def test_csv_neutralisation_is_idempotent(cell: str) -> None:
    assert csv_cell(csv_cell(cell)) == csv_cell(cell)


@given(st.from_regex(r"\A[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z"))
def test_every_signed_number_is_kept(number: str) -> None:
    assert csv_cell(number) == number


def test_call_log_csv_neutralises_a_hostile_caller_name_and_keeps_phone_numbers() -> None:
    out = io.StringIO()
    write_records([call('=HYPERLINK("http://evil.example")')], "csv", out, csv_fields=CALL_LOG_CSV_FIELDS)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["from.name"] == '\'=HYPERLINK("http://evil.example")'
    assert rows[0]["from.phoneNumber"] == "+16505550142"
    assert rows[0]["duration"] == "61"


def test_csv_header_from_server_keys_is_neutralised_too() -> None:
    out = io.StringIO()
    write_records([{"=cmd": "-x", "ok": "-3"}], "csv", out)
    assert out.getvalue() == "'=cmd,ok\n'-x,-3\n"


@pytest.mark.parametrize("name", ["Eve\rMallory", "\r", "Eve\r\nMallory", "\r=1+1"])
def test_a_carriage_return_in_server_text_never_starts_a_row(name: str) -> None:
    # Up to Python 3.12, csv leaves a cell holding "\r" unquoted when lines end in "\n"; every reader
    # then starts a new row there (a caller could add rows to a user's export). Same bytes on every version.
    out = io.StringIO()
    records = [call("first"), call(name), call("last")]
    assert write_records(records, "csv", out, csv_fields=["id", "from.name"]) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert [row["from.name"] for row in rows] == ["first", csv_cell(name), "last"]
    assert f'"{rows[1]["id"]}","{csv_cell(name)}"\n' in out.getvalue()  # the whole row quoted


def test_a_carriage_return_in_a_header_from_server_keys_is_quoted() -> None:
    out = io.StringIO()
    write_records([{"a\rb": "1", "c": "2"}], "csv", out)
    assert list(csv.reader(io.StringIO(out.getvalue(), newline=""))) == [["a\rb", "c"], ["1", "2"]]
    header_only = io.StringIO()
    write_records([], "csv", header_only, csv_fields=["a\rb", "x"])
    assert header_only.getvalue() == '"a\rb","x"\n'  # the same on every Python version


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_output_keeps_server_text_exact(fmt: str) -> None:
    record = call(HOSTILE + " [bold]x[/] =1+1")
    out = io.StringIO()
    write_records([record], fmt, out)
    text = out.getvalue()
    parsed = json.loads(text) if fmt == "json" else json.loads(text.splitlines()[0])
    assert (parsed[0] if fmt == "json" else parsed) == record
    assert "\x9b" in text and "\u202e" in text  # C1 and bidi stay as data (JSON escapes C0 itself)
    assert "\x1b" not in text and "\\u001b" in text


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_csv_on_a_terminal_shows_control_sequences_in_server_text_as_escapes_and_keeps_them_in_a_file() -> (
    None
):
    """CSV written to a terminal is read by a person: a caller-ID name holding `ESC[2J` or an OSC title
    must not clear the screen or retitle the window. Written to a file or a pipe, it is data, kept as sent."""
    record = {"id": "1", "from": {"name": "\x1b[2J\x1b]0;pwned\x07Evil\u009b"}, "\x1bkey": "v"}
    shown = _Terminal()
    output.write_records([record], "csv", shown)
    assert not any(c in shown.getvalue() for c in ("\x1b", "\x07", "\u009b"))
    assert "\\x1b[2J\\x1b]0;pwned\\x07Evil\\x9b" in shown.getvalue()
    kept = io.StringIO()
    output.write_records([record], "csv", kept)
    assert "\x1b[2J\x1b]0;pwned\x07Evil\u009b" in kept.getvalue()


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv"])
def test_a_lone_surrogate_from_the_server_is_written_as_text_stdout_can_encode(fmt: str) -> None:
    """JSON's "\\ud800" decodes to a character no UTF-8 encoder writes: JSON and NDJSON give the escape
    back (the same data), CSV shows U+FFFD, and none stops with an encoding error part-way."""
    record = json.loads('{"id": "a\\ud800", "from": {"name": "Bob\\udfff"}}')
    out = io.StringIO()
    output.write_records([record], fmt, out)
    out.getvalue().encode("utf-8")  # what stdout would have refused
    if fmt == "csv":
        assert "Bob\ufffd" in out.getvalue()
    elif fmt == "json":
        assert json.loads(out.getvalue()) == [record]
    else:
        assert json.loads(out.getvalue()) == record
