"""Hostile numbers, shapes and dates from the server, end to end (issue 20, invariants 1 and 6): each
renderer, as a real `rcauth` process against the emulator, with the intercepting proxy rewriting the
emulator's answers the way a broken or hostile server could write them.

Call-log records get a `duration` of `1e400` (Python's JSON reads infinity), `-1e400`, `NaN`, a
400-digit integer, a negative, a text; a `startTime` at each end of the calendar; parties that are not
objects; fields missing. The extension gets an `id` of `1e400`, an `extensionNumber` of `NaN` and a
`contact` that is text. Every command must end with exit 0 and well-formed output: JSON a strict parser
reads (null where the number could not be written), NDJSON lines each such JSON, CSV that parses with
empty cells there, tables and the summary with no `inf` or `nan`, in time zones at both ends of the
world (the process's TZ). Answers that are not JSON objects at all, or nested past what Python parses,
are one-line errors with exit 5.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from intercepting_proxy import Answer, InterceptingProxy
from reliability_support import Rcauth, Result

FROM = "2000-01-01T00:00:00.000Z"
EXTENSION = "/restapi/v1.0/account/~/extension/~"
USER_LOG = "/restapi/v1.0/account/~/extension/~/call-log"
FIRST, LAST = "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"
# JSON text for numbers json.dumps cannot write as the server did: each stands in a string until sent.
RAW = {"inf": "1e400", "-inf": "-1e400", "nan": "NaN", "huge": "1" + "0" * 400, "Infinity": "Infinity"}
# The machine's time zone (POSIX TZ: `<+14>-14` is UTC+14), at both ends of the world.
ZONES = {"UTC+14": "<+14>-14", "UTC-12": "<-12>+12"}
SHOWN_AS_NUMBER = re.compile(r"\b(inf|nan|Infinity|NaN)\b")


def raw(name: str) -> str:
    return f"@@{name}@@"


def with_raw_numbers(data: Any) -> bytes:
    return re.sub(r'"@@(.*?)@@"', lambda m: RAW[m.group(1)], json.dumps(data)).encode()


HOSTILE_CALLS: list[dict[str, Any]] = [
    {"duration": raw("inf"), "startTime": FIRST},
    {"duration": raw("-inf"), "startTime": LAST},
    {"duration": raw("nan"), "durationMs": raw("Infinity")},
    {"duration": raw("huge")},
    {"duration": -5},
    {"duration": "61", "from": "not a party", "to": 5},
    {"duration": None, "startTime": None, "direction": None, "result": None},
]


def hostile_answers(target: str, body: bytes) -> bytes:
    """The emulator's answer with hostile values written over its first records or its extension."""
    data = json.loads(body)
    if "/call-log" in target:
        for record, changes in zip(data["records"], HOSTILE_CALLS, strict=False):
            record.update(changes)
    elif (
        target.split("?")[0].endswith(("/extension/~", EXTENSION.rsplit("/", 1)[0])) or "records" not in data
    ):
        data.update(id=raw("inf"), extensionNumber=raw("nan"), contact="not an object", account=[1])
    return with_raw_numbers(data)


@pytest.fixture
def run(emu, sign_in, proxy: InterceptingProxy, rcauth: Rcauth) -> Callable[..., Result]:
    """`run(*args, zone=...)`: `rcauth ARGS` through the proxy that writes hostile values."""
    sign_in()
    emu.set(call_records=300)
    proxy.transform = hostile_answers
    through_proxy = {"HTTP_PROXY": proxy.url, "NO_PROXY": "", "no_proxy": ""}

    def run(*args: str, zone: str = "UTC+14") -> Result:
        return rcauth.run(*args, env={**through_proxy, "TZ": ZONES[zone]})

    return run


def refuse_constant(name: str) -> Any:
    raise AssertionError(f"{name} in JSON output")


def strict_json(text: str) -> Any:
    return json.loads(text, parse_constant=refuse_constant)


def ok(result: Result) -> str:
    assert (result.code, result.err) == (0, ""), result
    return result.out


def hostile_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records written over, found by their edge start times."""
    return [r for r in records if r.get("startTime") in (FIRST, LAST)]


CALL_LOG = ("call-log", "--from", FROM, "--limit", "20")


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_call_log_as_a_table_shows_hostile_records_without_inf_or_nan(run, zone: str) -> None:
    out = ok(run(*CALL_LOG, "--format", "table", zone=zone))
    assert not SHOWN_AS_NUMBER.search(out), out
    assert FIRST in out or "0001-01-01" in out  # a start time with no local date is shown as written
    assert len(re.findall(r"(?m)^│", out)) == 20


def test_call_log_as_json_and_ndjson_holds_null_where_json_has_no_number(run) -> None:
    records = strict_json(ok(run(*CALL_LOG, "--format", "json")))
    lines = ok(run(*CALL_LOG, "--format", "ndjson")).split("\n")
    assert lines[-1] == "" and [strict_json(line) for line in lines[:-1]] == records
    first, last = hostile_of(records)
    assert first["duration"] is None and last["duration"] is None
    assert records[2]["duration"] is None and records[2]["durationMs"] is None
    assert records[3]["duration"] == 10**400 and records[4]["duration"] == -5


def test_call_log_as_csv_has_empty_cells_where_a_number_is_not_finite(run) -> None:
    rows = list(csv.DictReader(io.StringIO(ok(run(*CALL_LOG, "--format", "csv")), newline="")))
    assert len(rows) == 20
    assert [row["duration"] for row in rows[:5]] == ["", "", "", RAW["huge"], "-5"]
    assert not any(SHOWN_AS_NUMBER.fullmatch(cell) for row in rows for cell in row.values())


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_the_summary_counts_hostile_records_in_any_zone(run, zone: str) -> None:
    data = strict_json(ok(run("call-log", "--summary", "--from", FROM, "--format", "json", zone=zone)))
    assert data["complete"] is True and data["total"] == 300
    assert (data["first_start_time"], data["last_start_time"]) == (FIRST, LAST)
    # One edge has no date in each zone: counted in the total, not in a day.
    assert sum(day["calls"] for day in data["by_day"]) == 300 - 1 - sum(  # and the two without a time
        1 for r in HOSTILE_CALLS if "startTime" in r and r["startTime"] is None
    )
    chart = ok(run("call-log", "--summary", "--from", FROM, "--format", "table", zone=zone))
    assert chart.startswith("300 calls") and not SHOWN_AS_NUMBER.search(chart), chart


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_whoami_shows_a_hostile_extension(run, fmt: str) -> None:
    out = ok(run("whoami", "--format", fmt))
    if fmt == "json":
        ext = strict_json(out)
        assert ext["id"] is None and ext["extensionNumber"] is None and ext["contact"] == "not an object"
    elif fmt == "csv":
        header, row = list(csv.reader(io.StringIO(out, newline="")))
        assert dict(zip(header, row, strict=True))["id"] == ""
    else:
        assert not SHOWN_AS_NUMBER.search(out), out


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_status_check_shows_a_hostile_extension(run, fmt: str) -> None:
    out = ok(run("status", "--check", "--format", fmt))
    if fmt == "json":
        info = strict_json(out)
        assert info["check"] == "ok" and info["user"]["email"] is None
    else:
        assert "ok: the session works" in out and not SHOWN_AS_NUMBER.search(out), out


def test_api_writes_a_hostile_answer_as_strict_json(run) -> None:
    ext = strict_json(ok(run("api", "GET", EXTENSION)))
    assert ext["id"] is None and ext["extensionNumber"] is None


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv"])
def test_api_paginate_writes_hostile_records_well_formed(run, fmt: str) -> None:
    out = ok(run("api", "GET", USER_LOG, "-F", f"dateFrom={FROM}", "-F", "perPage=50", "--paginate",
                 "--format", fmt))  # fmt: skip
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out, newline="")))
        assert len(rows) == 300 and rows[0]["duration"] == ""
        return
    records = strict_json(out) if fmt == "json" else [strict_json(line) for line in out.split("\n")[:-1]]
    assert len(records) == 300 and len(hostile_of(records)) == 12  # two in each of the six pages


# -- answers that are not a JSON object --------------------------------------------------------------
NOT_AN_OBJECT = {
    "a JSON array": "[]",
    "a JSON number": "1e400",
    "JSON nested past what Python parses": "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("answer", sorted(NOT_AN_OBJECT))
@pytest.mark.parametrize("args", [("whoami",), ("status", "--check"), (*CALL_LOG, "--format", "json")])
def test_an_answer_that_is_not_a_json_object_is_one_line_and_exit_5(
    run, proxy: InterceptingProxy, answer: str, args: tuple[str, ...]
) -> None:
    proxy.transform = None
    proxy.answer = Answer(200, "application/json", NOT_AN_OBJECT[answer])
    result = run(*args)
    assert result.code == 5, result
    assert result.out == "" and len(result.err.splitlines()) == 1, result
    assert result.err.startswith("Error: RingCentral answered with "), result


@pytest.mark.parametrize(
    ("page", "said"),
    [
        ({"records": "abc"}, "records are not a list"),
        ({"records": [], "navigation": {"nextPage": "text"}}, "next-page link is not a URL"),
        ({"records": [], "navigation": {"nextPage": {"uri": 5}}}, "next-page link is not a URL"),
    ],
)
def test_a_page_of_another_shape_is_one_line_and_exit_5_not_a_complete_listing(
    run, proxy: InterceptingProxy, page: dict[str, Any], said: str
) -> None:
    proxy.transform = None
    proxy.answer = Answer(200, "application/json", json.dumps(page))
    result = run(*CALL_LOG, "--format", "json")
    assert (result.code, result.out) == (5, ""), result
    assert result.err == f"Error: RingCentral answered a page whose {said}\n", result


def test_api_writes_an_answer_nested_past_the_parser_as_it_came(run, proxy: InterceptingProxy) -> None:
    """`api` shows what answered, JSON or not: JSON too deep for Python's parser is passed on as bytes."""
    proxy.transform = None
    proxy.answer = Answer(200, "application/json", NOT_AN_OBJECT["JSON nested past what Python parses"])
    result = run("api", "GET", EXTENSION)
    assert (result.code, result.err) == (0, ""), result
    assert result.out == NOT_AN_OBJECT["JSON nested past what Python parses"]
