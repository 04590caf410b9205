"""rcauth.call_summary: aggregates over a record stream, in memory that does not grow with the calls."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import timedelta, timezone

from rcauth.call_summary import summarize


def records(count: int) -> Iterator[dict]:
    for n in range(count):
        day, hour = 1 + n % 3, n % 24
        yield {
            "startTime": f"2026-11-0{day}T{hour:02d}:15:00.000Z",
            "direction": "Inbound" if n % 2 else "Outbound",
            "result": ("Missed", "Voicemail", "Accepted")[n % 3],
            "duration": 10,
            "padding": "x" * 200,  # a record's size, as RingCentral's carry parties and legs
        }


def test_summary_memory_does_not_grow_with_the_number_of_calls() -> None:
    tracemalloc.start()
    try:
        summary = summarize(records(30_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.total == 30_000
    assert peak < 1_000_000  # the records alone would be tens of megabytes if they were kept


def test_days_and_hours_are_those_of_the_given_time_zone() -> None:
    record = {"startTime": "2026-11-30T23:30:00.000Z", "direction": "Inbound", "result": "Missed"}
    in_utc = summarize([record], timezone.utc).to_json()
    in_berlin = summarize([record], timezone(timedelta(hours=1))).to_json()
    assert in_utc["by_day"] == [{"date": "2026-11-30", "calls": 1, "missed": 1, "voicemail": 0}]
    assert in_berlin["by_day"] == [{"date": "2026-12-01", "calls": 1, "missed": 1, "voicemail": 0}]
    assert in_utc["by_hour"][23] == 1 and in_berlin["by_hour"][0] == 1


def test_a_record_without_a_start_time_counts_in_the_totals_only() -> None:
    summary = summarize([{"direction": "Outbound", "result": "Busy", "startTime": "yesterday"}]).to_json()
    assert summary["total"] == 1 and summary["by_result"] == {"Busy": 1}
    assert summary["by_day"] == [] and sum(summary["by_hour"]) == 0 and summary["busiest_hours"] == []
