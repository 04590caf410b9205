"""Rendering: rich layouts for people, JSON for scripts. No I/O decisions here beyond the console given."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import csv

    from rich.console import Console
    from rich.table import Table

# rich is imported by the table renderers only: `--json`, `--format ndjson|csv` and the CLI's start-up
# never pay for it (about 20 ms).
#
# Every value a table shows goes in as `Text(visible(value))`: plain text, never rich markup (a caller
# named "[bold]x[/]" or "Front Desk [main]" is shown as named, and "[/]" cannot crash the table), with
# control and bidi characters escaped (rcauth.terminal_text).


def _cell(value: Any) -> Any:
    """A table cell from data: visible plain text, never parsed as markup."""
    from rich.text import Text

    from rcauth.terminal_text import visible

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
    stream.write(json.dumps(data, indent=2 if pretty else None, ensure_ascii=False) + "\n")
    stream.flush()


def _get(data: Mapping[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def extension_table(ext: Mapping[str, Any], server: str | None = None) -> Table:
    """whoami: who the session belongs to."""
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    contact = ext.get("contact") or {}
    name = ext.get("name") or " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p)
    rows = [
        ("Name", name),
        ("Extension", ext.get("extensionNumber")),
        ("Email", contact.get("email")),
        ("Company", contact.get("company")),
        ("Account ID", _get(ext, "account", "id")),
        ("Extension ID", ext.get("id")),
        ("Type", ext.get("type")),
        ("Status", ext.get("status")),
    ]
    if server:
        rows.append(("Server", server))
    for label, value in rows:
        if value not in (None, ""):
            table.add_row(label, _cell(value))
    return table


def _party(party: Any) -> str:
    if not isinstance(party, Mapping):
        return ""
    number = party.get("phoneNumber") or (
        f"ext {party['extensionNumber']}" if party.get("extensionNumber") else ""
    )
    name = party.get("name")
    if name and number:
        return f"{name} {number}"
    return str(name or number or "")


def _duration(seconds: Any) -> str:
    try:
        total = int(seconds)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _time(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        # A valid date-time at the edge of the calendar (0001-01-01T00:00:00+01:00) has no local time.
        return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError):
        return value


def human_until(epoch: float | None, now: float | None = None) -> str:
    """`in 59 min (2026-11-28 14:03)`, `expired 2 h ago`: expiry in human terms, local time."""
    import time

    if epoch is None:
        return "unknown"
    now = time.time() if now is None else now
    delta = epoch - now
    span = abs(delta)
    if span < 90:
        amount = f"{span:.0f} s"
    elif span < 5400:
        amount = f"{span / 60:.0f} min"
    elif span < 172800:
        amount = f"{span / 3600:.0f} h"
    else:
        amount = f"{span / 86400:.0f} days"
    stamp = datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")
    return f"in {amount} ({stamp})" if delta > 0 else f"expired {amount} ago ({stamp})"


def status_table(info: Mapping[str, Any]) -> Table:
    """status: the session without its secrets."""
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    user = info.get("user") or {}
    who = " ".join(str(v) for v in (user.get("name"), user.get("email")) if v)
    who = who or f"extension id {info.get('owner_id')}"
    rows = [
        ("Profile", info.get("profile")),
        ("Server", info.get("server")),
        ("Client ID", info.get("client_id")),
        ("User", who),
        ("Scopes", " ".join(info.get("scopes") or []) or "-"),
        ("Access token", human_until(info.get("access_token_expires_at"))),
        (
            "Refresh token",
            info.get("refresh_token_note") or human_until(info.get("refresh_token_expires_at")),
        ),
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


def call_log_table(records: Iterable[Mapping[str, Any]], title: str | None = None) -> Table:
    """call-log: one row a call, local time. A record RingCentral marks `deleted: true` (listed only
    when asked for with showDeleted, which rcauth never sends) says so beside its result, so a deleted
    call never passes for one still in the log."""
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for column in CALL_LOG_COLUMNS:
        table.add_column(
            column, justify="right" if column == "Duration" else "left", no_wrap=column == "Start time"
        )
    for record in records:
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


def choose_format(fmt: str | None, as_json: bool, *, piped_default: str, stream: TextIO | None = None) -> str:
    """`--json` wins, then `--format`; by default a table on a terminal and `piped_default` otherwise."""
    if as_json:
        return "json"
    if fmt:
        return fmt
    return "table" if (stream or sys.stdout).isatty() else piped_default


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys (`from.phoneNumber`); lists become JSON text."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = json.dumps(value, ensure_ascii=False)
        else:
            flat[name] = value
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
    flattened keys of the first record.
    """
    stream = stream or sys.stdout
    count = 0
    if fmt == "ndjson":
        # One encoder for the whole stream: `json.dumps` with any option builds a new one per record.
        encode = json.JSONEncoder(ensure_ascii=False).encode
        for record in records:
            stream.write(encode(record) + "\n")
            count += 1
    elif fmt == "csv":
        # The plain writer, and one that quotes every cell (see below); made with the first record.
        writers: tuple[csv.DictWriter[str], csv.DictWriter[str]] | None = None
        for record in records:
            row = flatten(record)
            carriage_return = False
            for key, value in row.items():
                if isinstance(value, str):
                    if value[:1] in _CSV_TRIGGERS or _CSV_NUL in value:
                        row[key] = csv_cell(value)
                    if "\r" in value:
                        carriage_return = True
            if writers is None:
                writers = _csv_writers(stream, list(csv_fields) if csv_fields else list(row))
            # csv quotes a cell holding a line break only if the break is in `lineterminator` ("\n" here)
            # up to Python 3.12; 3.13 quotes "\r" too. Unquoted, a "\r" in server text (a caller-ID name)
            # starts a new row in every reader: such a row is written fully quoted, on every version.
            (writers[1] if carriage_return else writers[0]).writerow(row)
            count += 1
        if writers is None and csv_fields:
            _csv_writers(stream, list(csv_fields))  # the header alone
    else:
        pretty = stream.isatty()
        encode = json.JSONEncoder(ensure_ascii=False, indent=2 if pretty else None).encode
        # The "[" goes out with the first record, not before the first page: a listing that fails
        # before any record leaves stdout empty, not holding half an array.
        for record in records:
            text = encode(record)
            if pretty:
                text = text.replace("\n", "\n  ")
            stream.write(("," if count else "[") + "\n  " + text)
            count += 1
        stream.write("\n]\n" if count else "[]\n")
    stream.flush()
    return count


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
    days = list(summary.get("by_day") or [])
    top_day = max((int(d["calls"]) for d in days), default=0)
    by_day = Table(title="By day", title_justify="left", box=None, header_style="bold", pad_edge=False)
    for column, justify in (("Day", "left"), ("Calls", "right"), ("", "left"), ("Missed", "right")):
        by_day.add_column(column, justify=justify)  # type: ignore[arg-type]
    by_day.add_column("Voicemail", justify="right")
    for day in days:
        date = datetime.fromisoformat(day["date"]).strftime("%a %Y-%m-%d")
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
