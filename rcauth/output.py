"""Rendering: rich layouts for people, JSON for scripts. No I/O decisions here beyond the console given."""

from __future__ import annotations

import contextlib
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import csv

    from rich.console import Console
    from rich.table import Table

    # A format's `write(record, index)` and `close(count)` (`write_records`).
    RecordWriter = tuple[Callable[[Any, int], None], Callable[[int], None]]

# rich is imported by the table renderers only: `--json`, `--format ndjson|csv` and the CLI's start-up
# never pay for it (about 20 ms).
#
# Every value a table shows goes in as `Text(visible(value))`: plain text, never rich markup (a caller
# named "[bold]x[/]" or "Front Desk [main]" is shown as named, and "[/]" cannot crash the table), with
# control and bidi characters escaped (rcauth.terminal_text).
#
# Numbers from the server are data like any other: JSON's `1e400` reads as infinity and some parsers
# accept `NaN`, and RFC 8259 has no way to write either. So every JSON rcauth writes holds `null` in
# their place (as JavaScript's JSON.stringify does), a CSV cell holds nothing, and a table shows a blank.


def _finite(value: Any) -> Any:
    """None for a float JSON cannot hold (infinity, NaN); any other value as it is."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def json_safe(data: Any) -> Any:
    """`data` with every float JSON cannot hold (infinity, NaN: what `1e400` and `NaN` in an answer
    parse to) replaced by None, in objects and lists at any depth; everything else unchanged."""
    if isinstance(data, float):
        return _finite(data)
    if isinstance(data, Mapping):
        return {key: json_safe(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [json_safe(value) for value in data]
    return data


def _strict(encode: Callable[[Any], str]) -> Callable[[Any], str]:
    """`encode` (a JSONEncoder's, made with allow_nan=False) that writes a non-finite number as null: the
    record is copied only when the fast path refused it, so the usual record pays nothing."""

    def strict(data: Any) -> str:
        try:
            text = encode(data)
        except ValueError:
            text = encode(json_safe(data))
        return _escape_surrogates(text)

    return strict


# A lone surrogate: what JSON's "\ud800" escape decodes to, and no UTF-8 encoder will write.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogates(text: str) -> str:
    """JSON text with every lone surrogate (only inside a string: JSON has them nowhere else) written
    back as the `\\uXXXX` escape the server sent: the same data, and text stdout can encode."""
    # ASCII text holds none, and CPython knows a string is ASCII without reading it: a listing's records
    # usually are, and scanning each line cost a fifth of `call-log --format ndjson`'s CPU a record.
    if text.isascii() or _SURROGATE.search(text) is None:
        return text  # the usual case: no copy
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_text(data: Any, *, indent: int | None = None) -> str:
    """`data` as RFC 8259 JSON text: never NaN or Infinity (written as null), non-ASCII kept as it is."""
    return _strict(json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=indent).encode)(data)


def _cell(value: Any) -> Any:
    """A table cell from data: visible plain text, never parsed as markup; a blank for None and for a
    number that is not finite."""
    from rich.text import Text

    from rcauth.terminal_text import visible

    value = _finite(value)
    return Text(visible("" if value is None else value))


def console(stderr: bool = False) -> Console:
    """A console on stdout (data) or stderr (status); rich honours NO_COLOR and non-TTY output.

    Piped, there is no terminal width to respect: a wide one keeps table cells from being cut.
    """
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200
    return Console(file=stream, stderr=stderr, highlight=False, soft_wrap=False, width=width)


def write_json(data: Any, stream: TextIO | None = None, *, pretty: bool | None = None) -> None:
    """JSON on stdout: indented on a terminal, compact when piped."""
    stream = stream or sys.stdout
    if pretty is None:
        pretty = stream.isatty()
    stream.write(json_text(data, indent=2 if pretty else None) + "\n")
    stream.flush()


def _get(data: Any, *path: str) -> Any:
    """`data[path[0]][path[1]]...`, or None where a step is missing or not an object (server data can be
    shaped anyhow: a `contact` that is text, a `records` entry that is a number)."""
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _text(value: Any) -> str:
    """A value from data as text for a table: None and a non-finite number as "", else `str()`."""
    value = _finite(value)
    return "" if value is None else str(value)


def extension_table(ext: Mapping[str, Any], server: str | None = None) -> Table:
    """whoami: who the session belongs to."""
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    names = (_text(_get(ext, "contact", part)) for part in ("firstName", "lastName"))
    name = _get(ext, "name") or " ".join(part for part in names if part)
    rows = [
        ("Name", name),
        ("Extension", _get(ext, "extensionNumber")),
        ("Email", _get(ext, "contact", "email")),
        ("Company", _get(ext, "contact", "company")),
        ("Account ID", _get(ext, "account", "id")),
        ("Extension ID", _get(ext, "id")),
        ("Type", _get(ext, "type")),
        ("Status", _get(ext, "status")),
    ]
    if server:
        rows.append(("Server", server))
    for label, value in rows:
        if _text(value):
            table.add_row(label, _cell(value))
    return table


def _party(party: Any) -> str:
    if not isinstance(party, Mapping):
        return ""
    extension = _text(party.get("extensionNumber"))
    number = _text(party.get("phoneNumber")) or (f"ext {extension}" if extension else "")
    name = _text(party.get("name"))
    if name and number:
        return f"{name} {number}"
    return name or number


def _duration(seconds: Any) -> str:
    """`1:01`, `2:00:05`; blank for a duration RingCentral could not have sent (`call_duration`)."""
    from rcauth.call_summary import call_duration

    total = call_duration(seconds)
    if total is None:
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _time(value: Any) -> str:
    """RingCentral's `startTime` in local time; as written when it is not a date-time, or has no local
    time (0001-01-01T00:00:00Z west of UTC is in year 0: OverflowError; OSError where the platform's
    localtime refuses it)."""
    if not isinstance(value, str):
        return ""
    from rcauth.timeparse import local_stamp

    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return local_stamp(moment.astimezone())
    except (ValueError, OverflowError, OSError):
        return value


def status_table(info: Mapping[str, Any]) -> Table:
    """status: the session without its secrets."""
    from rich.table import Table

    from rcauth.timeparse import expiry

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    who = " ".join(t for t in (_text(_get(info, "user", "name")), _text(_get(info, "user", "email"))) if t)
    who = who or f"extension id {_text(info.get('owner_id'))}"
    scopes = info.get("scopes")
    rows = [
        ("Profile", info.get("profile")),
        ("Server", info.get("server")),
        ("Media server", info.get("media_server") or "-"),
        ("Client ID", info.get("client_id")),
        ("User", who),
        ("Scopes", " ".join(map(_text, scopes)) if isinstance(scopes, list) and scopes else "-"),
        ("Access token", expiry(info.get("access_token_expires_at"))),
        ("Refresh token", info.get("refresh_token_note") or expiry(info.get("refresh_token_expires_at"))),
        ("Stored in", info.get("storage")),
    ]
    if info.get("check"):
        rows.append(("API check", "ok: the session works"))
    for label, value in rows:
        table.add_row(label, _cell(value))
    return table


def profiles_table(rows: Iterable[Mapping[str, Any]]) -> Table:
    """profiles: one row a profile, the active one marked."""
    from rich.table import Table

    table = Table(header_style="bold")
    for column in ("", "Profile", "User", "Server", "Refresh token", "Stored in"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            "*" if row.get("active") else "",
            _cell(f"{row.get('profile', '')} (default)" if row.get("default") else row.get("profile", "")),
            _cell(row.get("user") or row.get("status") or ""),
            _cell(row.get("server") or ""),
            _cell(row.get("refresh_token_expires") or ""),
            _cell(row.get("storage") or ""),
        )
    return table


CALL_LOG_COLUMNS = ("Start time", "Direction", "Type", "From", "To", "Duration", "Result")


def call_log_table(
    records: Iterable[Mapping[str, Any]], title: str | None = None, caption: str | None = None
) -> Table:
    """call-log: one row a call, local time. A record RingCentral marks `deleted: true` (listed only
    when asked for with showDeleted, which rcauth never sends) says so beside its result, so a deleted
    call never passes for one still in the log. `caption`, under the table: that it is incomplete."""
    from rich.table import Table

    table = Table(title=title, caption=caption, header_style="bold")
    for column in CALL_LOG_COLUMNS:
        table.add_column(
            column, justify="right" if column == "Duration" else "left", no_wrap=column == "Start time"
        )
    for record in records:
        if not isinstance(record, Mapping):  # RingCentral's records are objects: this one has no fields
            record = {}
        table.add_row(
            _cell(_time(record.get("startTime"))),
            _cell(record.get("direction") or ""),
            _cell(record.get("type") or ""),
            _cell(_party(record.get("from"))),
            _cell(_party(record.get("to"))),
            _duration(record.get("duration")),
            _result(record),
        )
    return table


def _result(record: Mapping[str, Any]) -> Any:
    cell = _cell(record.get("result") or "")
    if record.get("deleted") is True:
        cell.append(" (deleted)" if cell.plain else "(deleted)")
    return cell


RECORDINGS_COLUMNS = ("Start time", "Direction", "From", "To", "Duration", "Recording", "Type")


def recordings_table(records: Iterable[Mapping[str, Any]], caption: str | None = None) -> Table:
    """recordings list: one row a recorded call, local time, its recording's id and type (Automatic or
    OnDemand; the content type is known only once the content is asked for)."""
    from rich.table import Table

    table = Table(caption=caption, header_style="bold")
    for column in RECORDINGS_COLUMNS:
        table.add_column(
            column, justify="right" if column == "Duration" else "left", no_wrap=column == "Start time"
        )
    for record in records:
        if not isinstance(record, Mapping):
            record = {}
        recording = record.get("recording")
        recording = recording if isinstance(recording, Mapping) else {}
        table.add_row(
            _cell(_time(record.get("startTime"))),
            _cell(record.get("direction") or ""),
            _cell(_party(record.get("from"))),
            _cell(_party(record.get("to"))),
            _duration(record.get("duration")),
            _cell(recording.get("id") or ""),
            _cell(recording.get("type") or ""),
        )
    return table


# -- machine formats -----------------------------------------------------------------------------
CALL_LOG_CSV_FIELDS = (
    "id",
    "sessionId",
    "startTime",
    "duration",
    "type",
    "direction",
    "action",
    "result",
    "reason",
    "from.phoneNumber",
    "from.extensionNumber",
    "from.name",
    "from.location",
    "to.phoneNumber",
    "to.extensionNumber",
    "to.name",
    "to.location",
    "recording.id",
    "transport",
    "telephonySessionId",
)


RECORDINGS_CSV_FIELDS = (
    "id",
    "startTime",
    "duration",
    "direction",
    "from.phoneNumber",
    "from.extensionNumber",
    "from.name",
    "to.phoneNumber",
    "to.extensionNumber",
    "to.name",
    "recording.id",
    "recording.type",
    "recording.contentUri",
)


def choose_format(fmt: str | None, as_json: bool, *, piped_default: str, stream: TextIO | None = None) -> str:
    """`--json` wins, then `--format`; by default a table on a terminal and `piped_default` otherwise."""
    if as_json:
        return "json"
    if fmt:
        return fmt
    return "table" if (stream or sys.stdout).isatty() else piped_default


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys (`from.phoneNumber`); lists become JSON text; a number that is
    not finite becomes None (an empty cell: `inf` or `nan` would pass for a number in a spreadsheet).
    A record that is not an object (RingCentral's never are) has no fields: an empty row."""
    flat: dict[str, Any] = {}
    if not isinstance(record, Mapping):
        return flat
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = json_text(value)
        else:
            flat[name] = _finite(value)
    return flat


# CSV is opened by spreadsheets, which run a cell that starts with "=", "+", "-" or "@" as a formula
# (and some do after a leading tab or CR): a caller-ID name like `=HYPERLINK("http://evil.example")`
# would become a live link or worse (OWASP, "CSV Injection"). Such a cell gets a leading `'`, OWASP's
# advice, so spreadsheets take it as text. A number (`-12.5`, `1e3`) or an E.164 phone number
# (`+16505550100`, itself a number by this rule) starting with + or - stays as it is: no formula can hide
# in digits, and phone numbers are what a call log is for.
_CSV_FORMULA_START = ("=", "@", "\t", "\r")
_CSV_TRIGGERS = frozenset("=@\t\r+-")
# Compiled when first used (`re` caches it): only CSV output needs it.
_CSV_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"


# A NUL inside a cell: Python 3.10's csv module refuses to write it at all ("need to escape, but no
# escapechar set"), 3.11's writes it raw, and spreadsheets and most CSV readers stop at it. Server text
# (a caller-ID name) can hold one, so it becomes U+FFFD, the replacement character, on every version.
_CSV_NUL = "\x00"
_CSV_NUL_SHOWN = "\ufffd"


def csv_cell(value: Any) -> Any:
    """`value` as a CSV cell a spreadsheet shows as text: a leading `'` on a would-be formula, no NUL."""
    if not isinstance(value, str) or not value:
        return value
    if _CSV_NUL in value:
        value = value.replace(_CSV_NUL, _CSV_NUL_SHOWN)
    if _SURROGATE.search(value) is not None:  # a lone surrogate no encoder writes: shown as U+FFFD
        value = _SURROGATE.sub(_CSV_NUL_SHOWN, value)
    if value.startswith(_CSV_FORMULA_START):
        return "'" + value
    if value[0] in "+-" and re.fullmatch(_CSV_NUMBER, value) is None:
        return "'" + value
    return value


def write_records(
    records: Iterable[Mapping[str, Any]],
    fmt: str,
    stream: TextIO | None = None,
    *,
    csv_fields: Iterable[str] | None = None,
) -> int:
    """Write records as they arrive (never all held at once) in json (an array), ndjson or csv.

    Returns how many were written. CSV has a header row; its columns are `csv_fields`, or the
    flattened keys of the first record. Numbers JSON cannot hold are written as null in JSON and
    NDJSON and as empty cells in CSV (`json_safe`).

    What is written is well-formed however the listing ends: each record goes out in one write (an
    NDJSON line, a CSV row, a JSON array element, whole), and when `records` raises (a page that failed,
    a link elsewhere, Ctrl-C) the output is closed before the error goes on: a JSON array gets its
    `]`. A listing that fails before its first record leaves the stream empty, not holding half an
    array (or a CSV header for rows that never came). When writing itself fails (a full disk, a reader
    gone), that error goes on and nothing more is tried.
    """
    from rcauth.errors import OutputFailed

    stream = stream or sys.stdout
    write, close = _record_writer(fmt, stream, csv_fields)
    count = 0
    iterator = iter(records)
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            break
        except BaseException:
            _close_after_failure(close, count, stream)
            raise
        try:
            write(record, count)
        except (OSError, OutputFailed):  # the output itself failed: nothing more can be written
            raise
        except BaseException:  # a record that cannot be written (rendered before any byte of it went out)
            _close_after_failure(close, count, stream)
            raise
        count += 1
    close(count)
    stream.flush()
    return count


def _close_after_failure(close: Callable[[int], None], count: int, stream: TextIO) -> None:
    """Close an output that has started (`count` records) whose listing failed. The listing's error is
    the one to report, not one from closing: a failure here (the reader went away too) is dropped."""
    if count:
        with contextlib.suppress(Exception):
            close(count)
            stream.flush()


def _record_writer(fmt: str, stream: TextIO, csv_fields: Iterable[str] | None) -> RecordWriter:
    """`write(record, index)` and `close(count)` for one format."""
    if fmt == "ndjson":
        # One encoder for the whole stream: `json.dumps` with any option builds a new one per record.
        encode = _strict(json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode)

        def write_line(record: Any, index: int) -> None:
            stream.write(encode(record) + "\n")

        return write_line, lambda count: None
    if fmt == "csv":
        return _csv_record_writer(stream, csv_fields)
    pretty = stream.isatty()
    encode = _strict(
        json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=2 if pretty else None).encode
    )

    # The "[" goes out with the first record, not before the first page: a listing that fails before
    # any record leaves stdout empty, not holding half an array.
    def write_element(record: Any, index: int) -> None:
        text = encode(record)
        if pretty:
            text = text.replace("\n", "\n  ")
        stream.write(("," if index else "[") + "\n  " + text)

    def close_array(count: int) -> None:
        stream.write("\n]\n" if count else "[]\n")

    return write_element, close_array


def _csv_record_writer(stream: TextIO, csv_fields: Iterable[str] | None) -> RecordWriter:
    """CSV's `write` (a row a record, server text neutralised) and `close` (the header alone when no
    record came)."""
    # The plain writer, and one that quotes every cell (see below); made with the first record.
    writers: list[csv.DictWriter[str]] = []
    # CSV is data, written as the server sent it, except to a terminal: there server text (a caller-ID
    # name) is shown, and an escape sequence in it would act on the terminal, so it is shown as `\x1b`.
    on_terminal = stream.isatty()
    if on_terminal:
        from rcauth.terminal_text import visible

    def write_row(record: Any, index: int) -> None:
        row = flatten(record)
        if on_terminal:
            row = {visible(k): visible(v) if isinstance(v, str) else v for k, v in row.items()}
        carriage_return = False
        for key, value in row.items():
            if isinstance(value, str):
                if value[:1] in _CSV_TRIGGERS or _CSV_NUL in value or _SURROGATE.search(value):
                    row[key] = csv_cell(value)
                if "\r" in value:
                    carriage_return = True
        if not writers:
            fields = list(csv_fields) if csv_fields else list(row)
            writers.extend(_csv_writers(stream, fields))
        # csv quotes a cell holding a line break only if the break is in `lineterminator` ("\n" here)
        # up to Python 3.12; 3.13 quotes "\r" too. Unquoted, a "\r" in server text (a caller-ID name)
        # starts a new row in every reader: such a row is written fully quoted, on every version.
        (writers[1] if carriage_return else writers[0]).writerow(row)

    def header_if_empty(count: int) -> None:
        if not writers and csv_fields:
            _csv_writers(stream, list(csv_fields))  # the header alone

    return write_row, header_if_empty


def _csv_writers(stream: TextIO, fields: list[str]) -> tuple[csv.DictWriter[str], csv.DictWriter[str]]:
    """The plain CSV writer and one that quotes every cell, after writing the header row with the one
    it needs (keys can come from the server too, "\r" and all)."""
    import csv

    plain = csv.DictWriter(stream, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    quoted = csv.DictWriter(
        stream, fieldnames=fields, extrasaction="ignore", lineterminator="\n", quoting=csv.QUOTE_ALL
    )
    header = quoted if any("\r" in f for f in fields) else plain
    header.writer.writerow([csv_cell(f) for f in fields])
    return plain, quoted


def write_object(data: Mapping[str, Any], fmt: str, stream: TextIO | None = None) -> None:
    """One object (whoami, status) in json, ndjson (one line) or csv (header + one flattened row)."""
    stream = stream or sys.stdout
    if fmt == "json":
        write_json(data, stream)
    else:
        write_records([data], fmt, stream)


_CHECK_MARKS = {"ok": ("✓", "green"), "warning": ("!", "yellow"), "problem": ("✗", "bold red")}


def doctor_checklist(checks: Iterable[Mapping[str, Any]]) -> Table:
    """doctor: one row a check (mark, name, what was found), with what to do under each that needs it."""
    from rich.table import Table
    from rich.text import Text

    from rcauth.terminal_text import visible

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for check in checks:
        mark, style = _CHECK_MARKS.get(str(check.get("status")), ("?", ""))
        # A detail may be several lines (the configuration's: one setting a line): each line made
        # visible on its own, so a line break shows as one, never as a literal "\x0a".
        lines = str(check.get("detail") or "").split("\n")
        detail = Text("\n".join(visible(line) for line in lines))
        if check.get("advice"):
            detail.append("\n→ ")
            detail.append_text(_cell(check.get("advice")))
        table.add_row(Text(mark, style=style), _cell(check.get("name")), detail)
    return table


_SPARKS = "▁▂▃▄▅▆▇█"


def _bar(value: int, top: int, width: int = 30) -> str:
    """A bar of `width` cells for `top`; any non-zero value shows at least a sliver."""
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / top * width * 8))
    return "█" * (eighths // 8) + ("" if eighths % 8 == 0 else " ▏▎▍▌▋▊▉"[eighths % 8])


def call_summary_view(summary: Mapping[str, Any]) -> Any:
    """call-log --summary: calls a day as bars (missed and voicemail beside, highlighted), direction
    and result as bars, and the day's hours as a sparkline with the busiest named."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    total = int(summary.get("total") or 0)
    minutes = int(summary.get("duration_seconds") or 0) // 60
    head = Text.assemble(
        (f"{total} calls", "bold"),
        f" ({_time(summary.get('first_start_time'))} to {_time(summary.get('last_start_time'))}), "
        f"{minutes} min in all; ",
        (f"{summary.get('missed', 0)} missed", "bold red"),
        ", ",
        (f"{summary.get('voicemail', 0)} voicemail", "bold yellow"),
    )
    if summary.get("complete") is False:
        head.append("\n")
        head.append(
            "Incomplete: the listing stopped early; only the calls listed before it are counted.", "bold red"
        )
    days = list(summary.get("by_day") or [])
    top_day = max((int(d["calls"]) for d in days), default=0)
    by_day = Table(title="By day", title_justify="left", box=None, header_style="bold", pad_edge=False)
    for column, justify in (("Day", "left"), ("Calls", "right"), ("", "left"), ("Missed", "right")):
        by_day.add_column(column, justify=justify)  # type: ignore[arg-type]
    by_day.add_column("Voicemail", justify="right")
    for day in days:
        date = f"{datetime.fromisoformat(day['date']):%a} {day['date']}"  # "%Y" may drop the year's zeros
        missed, voicemail = int(day.get("missed") or 0), int(day.get("voicemail") or 0)
        by_day.add_row(
            date,
            str(day["calls"]),
            Text(_bar(int(day["calls"]), top_day), style="cyan"),
            Text(str(missed), style="bold red" if missed else "dim"),
            Text(str(voicemail), style="bold yellow" if voicemail else "dim"),
        )
    rows = list(summary.get("by_direction_result") or [])
    top_row = max((int(r["calls"]) for r in rows), default=0)
    outcomes = Table(
        title="By direction and result", title_justify="left", box=None, header_style="bold", pad_edge=False
    )
    for column, justify in (("Direction", "left"), ("Result", "left"), ("Calls", "right"), ("", "left")):
        outcomes.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        result = str(row["result"])
        style = "bold red" if result == "Missed" else "bold yellow" if result == "Voicemail" else ""
        outcomes.add_row(
            _cell(row["direction"]),
            Text(_cell(result).plain, style=style),
            str(row["calls"]),
            Text(_bar(int(row["calls"]), top_row, 20), style=style or "cyan"),
        )
    hours = [int(h) for h in summary.get("by_hour") or [0] * 24]
    top_hour = max(hours, default=0)
    spark = "".join(
        " " if not n else _SPARKS[min(len(_SPARKS) - 1, (n * len(_SPARKS) - 1) // top_hour)] for n in hours
    )
    busiest = ", ".join(f"{h['hour']:02d}:00 ({h['calls']})" for h in summary.get("busiest_hours") or [])
    hours_text = Text.assemble(
        ("By hour  ", "bold"),
        ("0h ", "dim"),
        (spark, "cyan"),
        (" 23h", "dim"),
        f"   busiest: {busiest or '-'}",
    )
    return Group(head, Text(), by_day, Text(), outcomes, Text(), hours_text)
