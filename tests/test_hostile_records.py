"""Every renderer survives what a server can put in a record (issue 20, invariants 1 and 6).

JSON's `1e400` parses as infinity and Python's parser also reads `NaN` and `Infinity`, so a record can
hold numbers RFC 8259 cannot write; a duration can be negative, huge, text or a list; a `startTime` can
be at either end of the calendar, where a far time zone has no date for it (0001-01-01T00:00:00Z seen
from UTC-12 is in year 0). Hypothesis feeds such records, extensions and sessions to every renderer
(the call-log table, JSON, NDJSON and CSV, the summary as data and as a chart, whoami's table and
formats, status's table and formats, `api`'s JSON) in time zones at both ends of the world, and checks:
no exception; JSON that a strict parser reads (NaN and Infinity refused) holding null where the number
could not be written; NDJSON whose every line is such JSON; CSV that parses, with an empty cell where a
number is not finite; no control character in what a terminal is shown.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import time
from collections.abc import Iterator
from datetime import timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console

from rcauth import resources
from rcauth.call_summary import summarize
from rcauth.output import (
    CALL_LOG_CSV_FIELDS,
    call_log_table,
    call_summary_view,
    extension_table,
    status_table,
    write_json,
    write_object,
    write_records,
)
from rcauth.timeparse import expiry

SETTINGS = settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
INF, NAN = math.inf, math.nan
MAX_DURATION = 2**31 - 1  # RingCentral's `duration` is an int32 of seconds

# -- what a server can send -------------------------------------------------------------------------
# Integers stay under 4300 digits: Python's JSON parser refuses longer ones (the answer is then "not JSON").
HOSTILE_NUMBERS = [INF, -INF, NAN, 1e308, -1e308, 10**400, -(10**400), 2**31, 2**31 - 1, 2**63, -1, -0.0, 0.5]
numbers = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.floats(),  # NaN and both infinities among them
    st.integers(min_value=-(10**600), max_value=10**600),
)
scalars = st.one_of(numbers, st.none(), st.booleans(), st.text(max_size=12))
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=4), scalars, max_size=3),
)
# The calendar's ends, with the offsets of the world's far time zones, and every aware date-time between.
EDGE_TIMES = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00.000Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59.999Z",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T09:59:59+12:00",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T13:00:00-11:00",
]
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
start_times = st.one_of(
    st.sampled_from(EDGE_TIMES),
    st.builds(lambda moment, zone: moment.replace(tzinfo=zone).isoformat(), st.datetimes(), offsets),
    values,
)
parties = st.one_of(
    st.fixed_dictionaries(
        {}, optional={"phoneNumber": values, "extensionNumber": values, "name": values, "location": values}
    ),
    values,
)
call_records = st.fixed_dictionaries(
    {},
    optional={
        "id": values,
        "startTime": start_times,
        "duration": values,
        "durationMs": numbers,
        "type": values,
        "direction": st.one_of(st.sampled_from(["Inbound", "Outbound"]), values),
        "result": st.one_of(st.sampled_from(["Missed", "Voicemail", "Accepted"]), values),
        "deleted": values,
        "from": parties,
        "to": parties,
        "legs": st.lists(st.dictionaries(st.text(max_size=4), values, max_size=3), max_size=2),
    },
)
# RingCentral's records are objects; a page could still hold anything.
records = st.lists(st.one_of(call_records, call_records, values), max_size=6)
extensions = st.fixed_dictionaries(
    {},
    optional={
        "id": values,
        "name": values,
        "extensionNumber": values,
        "status": values,
        "type": values,
        "account": st.one_of(st.fixed_dictionaries({"id": values}), values),
        "contact": st.one_of(
            st.fixed_dictionaries(
                {}, optional={k: values for k in ("firstName", "lastName", "email", "company")}
            ),
            values,
        ),
    },
)
epochs = st.one_of(st.none(), numbers, st.floats(min_value=-1e12, max_value=1e12))
summary_zones = st.one_of(st.none(), offsets, st.sampled_from([timezone(timedelta(hours=14)), timezone.utc]))
# The machine's own zone (what tables show times in): the world's two ends, and UTC.
LOCAL_ZONES = ["<+14>-14", "<-12>+12", "UTC0"]
local_zones = st.sampled_from(LOCAL_ZONES)


@contextlib.contextmanager
def local_zone(spec: str) -> Iterator[None]:
    """This process's local time zone set to the POSIX `spec` (`<+14>-14` is UTC+14) for the block."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = spec
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()


# -- what a reader needs ----------------------------------------------------------------------------
def refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not RFC 8259 JSON")


def strict_json(text: str) -> Any:
    """JSON as jq reads it: NaN, Infinity and -Infinity are errors."""
    return json.loads(text, parse_constant=refuse_constant)


def nulls(data: Any) -> Any:
    """What the JSON output must hold for `data`: each non-finite float as null, the rest exact."""
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {k: nulls(v) for k, v in data.items()}
    if isinstance(data, list):
        return [nulls(v) for v in data]
    return data


def shown(renderable: Any) -> str:
    """What a terminal is sent for `renderable` (no colour: every character is the data's)."""
    out = io.StringIO()
    Console(file=out, width=200, color_system=None, highlight=False).print(renderable)
    return out.getvalue()


CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_no_controls(text: str) -> None:
    assert not CONTROL.search(text), repr(CONTROL.search(text))


def written(fmt: str, data: Any, **kwargs: Any) -> str:
    out = io.StringIO()
    write_records(data, fmt, out, **kwargs)
    return out.getvalue()


def seconds_of(value: Any) -> int | None:
    """The whole seconds a duration counts for: a number from 0 to an int32's top, else None."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= MAX_DURATION
    return int(value) if ok else None


# -- the call log -----------------------------------------------------------------------------------
@SETTINGS
@given(listed=records, zone=local_zones)
@example(
    listed=[{"startTime": "0001-01-01T00:00:00Z", "duration": INF}, {"duration": -INF}, {"duration": NAN}],
    zone="<-12>+12",
)
@example(listed=[{"startTime": "9999-12-31T23:59:59Z", "duration": -5}, 7, None, "text"], zone="<+14>-14")
def test_the_call_log_table_shows_any_records_in_any_zone(zone: str, listed: list[Any]) -> None:
    with local_zone(zone):
        text = shown(call_log_table(listed, caption="incomplete"))
    assert_no_controls(text)
    assert "inf" not in re.findall(r"│\s*(\S*)\s*│\s*\S*\s*│$", text)  # no duration cell reads inf


@SETTINGS
@given(seconds=values)
@example(seconds=INF)
@example(seconds=-INF)
@example(seconds=NAN)
@example(seconds=-5)
@example(seconds=10**400)
@example(seconds=True)
def test_a_duration_cell_is_a_length_of_time_or_blank(seconds: Any) -> None:
    from rcauth.output import _duration

    total = seconds_of(seconds)
    if total is None:
        assert _duration(seconds) == ""
    else:
        hours, rest = divmod(total, 3600)
        minutes = f"{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
        assert _duration(seconds) == (f"{hours}:{minutes}" if hours else minutes)


@SETTINGS
@given(listed=records)
@example(listed=[{"duration": INF, "legs": [{"duration": NAN}]}, {"duration": -INF}])
def test_json_and_ndjson_listings_are_strict_json_with_null_for_what_json_cannot_hold(
    listed: list[Any],
) -> None:
    expected = nulls(listed)
    assert strict_json(written("json", listed)) == expected
    text = written("ndjson", listed)
    assert text.endswith("\n") or not listed
    lines = text.split("\n")[:-1]  # NDJSON's separator is "\n" alone: U+2028 inside a string is data
    assert [strict_json(line) for line in lines] == expected


@SETTINGS
@given(listed=records, fields=st.sampled_from([CALL_LOG_CSV_FIELDS, None]))
@example(fields=CALL_LOG_CSV_FIELDS, listed=[{"duration": INF, "from": {"name": NAN}}, {"duration": -INF}])
def test_csv_parses_and_a_number_that_is_not_finite_is_an_empty_cell(fields: Any, listed: list[Any]) -> None:
    text = written("csv", listed, csv_fields=fields)
    assert "\x00" not in text
    table = list(csv.reader(io.StringIO(text, newline="")))
    if not listed:
        assert text == ("" if fields is None else ",".join(CALL_LOG_CSV_FIELDS) + "\n")
        return
    header, *cells = table
    assert len(cells) == len(listed)  # a row a record, whatever it holds (a header from an empty one)
    rows = [dict(zip(header, row, strict=True)) for row in cells]
    for record, row in zip(listed, rows, strict=False):
        if not isinstance(record, dict):
            continue
        for key, value in (("duration", record.get("duration")), ("durationMs", record.get("durationMs"))):
            if key in row and isinstance(value, float):
                assert row[key] == ("" if not math.isfinite(value) else repr(value)), (key, value, row)


@SETTINGS
@given(listed=records, zone=summary_zones, local=local_zones, complete=st.booleans())
@example(
    listed=[{"startTime": "0001-01-01T00:00:00Z", "duration": 1e400}, {"startTime": "9999-12-31T23:59:59Z"}],
    zone=timezone(timedelta(hours=-12)),
    local="<-12>+12",
    complete=True,
)
@example(
    listed=[{"startTime": "9999-12-31T23:59:59Z", "duration": -1}, {"startTime": "0001-01-01T00:00:00Z"}],
    zone=None,
    local="<+14>-14",
    complete=False,
)
def test_the_summary_counts_every_record_and_renders_in_any_zone(
    listed: list[Any], zone: Any, local: str, complete: bool
) -> None:
    with local_zone(local):
        summary = summarize(listed, zone).to_json()
        summary["complete"] = complete
        out = io.StringIO()
        write_json(summary, out)
        text = shown(call_summary_view(summary))
    assert strict_json(out.getvalue()) == summary
    assert summary["total"] == len(listed)
    durations = [r.get("duration") for r in listed if isinstance(r, dict)]
    assert summary["duration_seconds"] == sum(seconds_of(d) or 0 for d in durations)
    assert sum(summary["by_hour"]) == sum(day["calls"] for day in summary["by_day"]) <= len(listed)
    assert_no_controls(text)
    assert text.startswith(f"{len(listed)} calls")
    assert ("Incomplete" in text) is (not complete)


def test_a_start_time_with_no_local_date_counts_in_the_totals_and_its_ends() -> None:
    west, east = timezone(timedelta(hours=-12)), timezone(timedelta(hours=14))
    first, last = {"startTime": "0001-01-01T00:00:00Z"}, {"startTime": "9999-12-31T23:59:59Z"}
    for zone, dated in ((west, last), (east, first)):
        summary = summarize([first, last], zone).to_json()
        assert summary["total"] == 2
        assert (summary["first_start_time"], summary["last_start_time"]) == (
            first["startTime"],
            last["startTime"],
        )
        assert [day["calls"] for day in summary["by_day"]] == [1]  # only the call that has a date there
        assert summarize([dated], zone).to_json()["by_day"][0]["calls"] == 1


# -- whoami, status, api ----------------------------------------------------------------------------
@SETTINGS
@given(ext=st.one_of(extensions, values), zone=local_zones)
@example(zone="UTC0", ext={"id": INF, "name": NAN, "contact": "not an object", "account": [1]})
def test_whoami_shows_and_writes_any_extension(zone: str, ext: Any) -> None:
    if isinstance(ext, dict):
        with local_zone(zone):
            assert_no_controls(shown(extension_table(ext, "https://platform.ringcentral.com")))
        resources.describe_user(ext)
    for fmt in ("json", "ndjson", "csv"):
        out = io.StringIO()
        write_object(ext, fmt, out)
        text = out.getvalue()
        if fmt == "csv":
            list(csv.reader(io.StringIO(text, newline="")))
            assert "inf" not in text.split("\n", 1)[-1].split(",") and "nan" not in text.split(",")
        else:
            assert text.count("\n") == 1 if fmt == "ndjson" else text.endswith("\n")
            assert strict_json(text) == nulls(ext)


@SETTINGS
@given(
    zone=local_zones,
    access=epochs,
    refresh=epochs,
    user=st.one_of(st.fixed_dictionaries({}, optional={"name": values, "email": values}), values),
    scopes=st.one_of(st.lists(values, max_size=3), values),
    owner=values,
)
@example(zone="<+14>-14", access=1e300, refresh=-1e300, user={"name": INF}, scopes=[NAN], owner=INF)
@example(zone="<-12>+12", access=INF, refresh=NAN, user="someone", scopes="ReadAccounts", owner=None)
@example(zone="UTC0", access=253402300799.0, refresh=-62135596800.0, user=None, scopes=None, owner=10**400)
def test_status_shows_and_writes_any_session_times_and_user(
    zone: str, access: Any, refresh: Any, user: Any, scopes: Any, owner: Any
) -> None:
    info = {
        "profile": "default",
        "server": "https://platform.ringcentral.com",
        "client_id": "cid",
        "owner_id": owner,
        "user": user,
        "scopes": scopes,
        "access_token_expires_at": access,
        "refresh_token_expires_at": refresh,
        "storage": "system keyring",
        "check": "ok",
    }
    with local_zone(zone):
        assert_no_controls(shown(status_table(info)))
        assert isinstance(expiry(access), str)
    out = io.StringIO()
    write_object(info, "json", out)
    assert strict_json(out.getvalue()) == nulls(info)
    list(csv.reader(io.StringIO(written("csv", [info]), newline="")))


@SETTINGS
@given(
    data=st.recursive(values, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner))
)
@example(data={"a": [INF, {"b": -INF}], "c": NAN})
def test_api_answers_are_written_as_strict_json(data: Any) -> None:
    for pretty in (True, False):
        out = io.StringIO()
        write_json(data, out, pretty=pretty)
        assert strict_json(out.getvalue()) == nulls(data)
