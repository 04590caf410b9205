"""`rcauth call-log --summary` (issue 14, point 3): the aggregates of every page of the period, checked
against a hand count of the same emulator records fetched independently (`rcauth api --paginate`)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

UTC_ENV = {"TZ": "UTC"}  # days and hours are local: the same zone for the count by hand


def period() -> tuple[str, str]:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return (now - timedelta(days=16)).isoformat(), now.isoformat()


def fetch_records(rcauth, start: str, end: str, *fields: str) -> list[dict]:
    result = rcauth.run(
        "api",
        "GET",
        "/restapi/v1.0/account/~/extension/~/call-log",
        "-F",
        f"dateFrom={start}",
        "-F",
        f"dateTo={end}",
        "-F",
        "perPage=100",
        *fields,
        "--paginate",
        "--format",
        "ndjson",
        env=UTC_ENV,
    )
    assert result.code == 0, result
    return [json.loads(line) for line in result.out.splitlines()]


def hand_count(records: list[dict]) -> dict:
    by_day: Counter[str] = Counter()
    missed_by_day: Counter[str] = Counter()
    voicemail_by_day: Counter[str] = Counter()
    by_hour = [0] * 24
    for record in records:
        day, hour = record["startTime"][:10], int(record["startTime"][11:13])  # UTC, as RingCentral writes it
        by_day[day] += 1
        by_hour[hour] += 1
        missed_by_day[day] += record["result"] == "Missed"
        voicemail_by_day[day] += record["result"] == "Voicemail"
    return {
        "total": len(records),
        "missed": sum(r["result"] == "Missed" for r in records),
        "voicemail": sum(r["result"] == "Voicemail" for r in records),
        "duration_seconds": sum(r["duration"] for r in records),
        "by_day": [
            {"date": d, "calls": by_day[d], "missed": missed_by_day[d], "voicemail": voicemail_by_day[d]}
            for d in sorted(by_day)
        ],
        "by_direction": dict(sorted(Counter(r["direction"] for r in records).items())),
        "by_result": dict(Counter(r["result"] for r in records)),
        "by_direction_result": dict(Counter((r["direction"], r["result"]) for r in records)),
        "by_hour": by_hour,
    }


def test_summary_json_matches_a_hand_count_of_the_same_records(rcauth, sign_in) -> None:
    sign_in()
    start, end = period()
    records = fetch_records(rcauth, start, end)
    assert len(records) > 500  # several pages of RingCentral's paging, and calls on many days
    result = rcauth.run(
        "call-log", "--summary", "--from", start, "--to", end, "--format", "json", env=UTC_ENV
    )
    assert result.code == 0, result
    summary = json.loads(result.out)
    expected = hand_count(records)
    for key in ("total", "missed", "voicemail", "duration_seconds", "by_day", "by_direction", "by_hour"):
        assert summary[key] == expected[key], key
    assert summary["by_result"] == expected["by_result"]
    assert {(r["direction"], r["result"]): r["calls"] for r in summary["by_direction_result"]} == expected[
        "by_direction_result"
    ]
    top = max(expected["by_hour"])
    assert summary["busiest_hours"][0] == {"hour": expected["by_hour"].index(top), "calls": top}
    assert summary["first_start_time"] == min(r["startTime"] for r in records)
    assert summary["last_start_time"] == max(r["startTime"] for r in records)
    assert expected["missed"] and expected["voicemail"]  # the emulator's log has both to highlight


def test_summary_honours_the_filters(rcauth, sign_in) -> None:
    sign_in()
    start, end = period()
    inbound_voice = fetch_records(rcauth, start, end, "-F", "direction=Inbound", "-F", "type=Voice")
    result = rcauth.run(
        "call-log",
        "--summary",
        "--from",
        start,
        "--to",
        end,
        "--direction",
        "inbound",
        "--type",
        "voice",
        "--json",
        env=UTC_ENV,
    )
    assert result.code == 0, result
    summary = json.loads(result.out)
    assert summary["total"] == len(inbound_voice) > 0
    assert summary["by_direction"] == {"Inbound": len(inbound_voice)}
    assert summary["by_day"] == hand_count(inbound_voice)["by_day"]


def test_summary_chart_shows_each_day_and_the_missed_and_voicemail_counts(rcauth, sign_in) -> None:
    sign_in()
    start, end = period()
    expected = hand_count(fetch_records(rcauth, start, end))
    result = rcauth.run(
        "call-log", "--summary", "--from", start, "--to", end, "--format", "table", env=UTC_ENV
    )
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0].startswith(f"{expected['total']} calls (")
    assert f"{expected['missed']} missed, {expected['voicemail']} voicemail" in lines[0]
    for day in expected["by_day"]:
        weekday = datetime.fromisoformat(day["date"]).strftime("%a")
        row = next(line for line in lines if line.startswith(f"{weekday} {day['date']}"))
        assert row.split()[2] == str(day["calls"])
        assert row.split()[-2:] == [str(day["missed"]), str(day["voicemail"])]
    assert any(line.startswith("By hour") and "busiest:" in line for line in lines)


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_summary_refuses_a_record_format(rcauth, sign_in, fmt) -> None:
    sign_in()
    result = rcauth.run("call-log", "--summary", "--format", fmt)
    assert result.code == 2, result
    assert "--summary is shown as a chart (--format table) or data (--format json)" in result.err
