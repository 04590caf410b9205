"""Writing records as they arrive: what a reader of stdout gets, whole or failed part-way."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from rcauth.errors import ApiError
from rcauth.output import write_records


def failing_after(records: list[dict], error: Exception) -> Iterator[dict]:
    yield from records
    raise error


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv"])
def test_a_listing_that_fails_before_any_record_leaves_stdout_empty(fmt: str) -> None:
    out = io.StringIO()
    with pytest.raises(ApiError):
        write_records(failing_after([], ApiError("forbidden", status=403)), fmt, out)
    assert out.getvalue() == ""


def test_json_arrays_are_valid_with_no_records_and_with_several() -> None:
    for records in ([], [{"id": 1}], [{"id": 1}, {"id": "2", "to": {"name": "Zoë"}}]):
        out = io.StringIO()
        assert write_records(iter(records), "json", out) == len(records)
        assert json.loads(out.getvalue()) == records


def test_ndjson_written_before_a_failure_is_whole_lines() -> None:
    out = io.StringIO()
    with pytest.raises(ApiError):
        write_records(failing_after([{"id": 1}, {"id": 2}], ApiError("gone", status=500)), "ndjson", out)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [{"id": 1}, {"id": 2}]


@pytest.mark.parametrize("error", [ApiError("gone", status=500), KeyboardInterrupt()])
def test_a_json_array_is_closed_when_the_listing_fails_after_records(error: BaseException) -> None:
    out = io.StringIO()
    with pytest.raises(type(error)):
        write_records(failing_after([{"id": 1}, {"id": 2}], error), "json", out)
    assert json.loads(out.getvalue()) == [{"id": 1}, {"id": 2}]


def test_csv_written_before_a_failure_is_the_header_and_whole_rows() -> None:
    out = io.StringIO()
    with pytest.raises(ApiError):
        write_records(failing_after([{"id": 1, "n": "a\nb"}], ApiError("gone", status=500)), "csv", out)
    assert out.getvalue() == 'id,n\n1,"a\nb"\n'


def test_a_record_that_cannot_be_written_closes_what_was_written_before_it() -> None:
    out = io.StringIO()
    nested: list = []
    for _ in range(100_000):  # deeper than the encoder goes: it raises before writing any of it
        nested = [nested]
    with pytest.raises(RecursionError):
        write_records([{"id": 1}, {"deep": nested}], "json", out)
    assert json.loads(out.getvalue()) == [{"id": 1}]


class BrokenStream(io.StringIO):
    """A stream whose writes fail after `good` of them: a full disk."""

    def __init__(self, good: int) -> None:
        super().__init__()
        self.good = good

    def write(self, text: str) -> int:
        if self.good <= 0:
            raise OSError(28, "No space left on device")
        self.good -= 1
        return super().write(text)


def test_when_writing_fails_its_error_goes_on_and_nothing_more_is_written() -> None:
    out = BrokenStream(good=1)
    with pytest.raises(OSError, match="No space"):
        write_records([{"id": 1}, {"id": 2}], "json", out)
    assert out.getvalue() == '[\n  {"id": 1}'


def test_a_failure_to_close_does_not_hide_the_listings_own_error() -> None:
    out = BrokenStream(good=1)  # the first record goes out, the closing "]" cannot
    with pytest.raises(ApiError, match="gone"):
        write_records(failing_after([{"id": 1}], ApiError("gone", status=500)), "json", out)


def test_call_log_table_marks_a_deleted_record_beside_its_result_and_only_that_one() -> None:
    from rich.console import Console

    from rcauth.output import call_log_table

    base = {"startTime": "2026-11-28T10:00:00.000Z", "direction": "Inbound", "type": "Voice"}
    records = [
        {**base, "result": "Missed", "deleted": True},
        {**base, "result": "Accepted", "deleted": False},
        {**base, "deleted": True},  # no result: the mark alone
        {**base, "result": "Voicemail"},
    ]
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(call_log_table(records))
    rows = [line for line in out.getvalue().splitlines() if "Inbound" in line]
    assert "Missed (deleted)" in rows[0]
    assert "Accepted" in rows[1] and "deleted" not in rows[1]
    assert "(deleted)" in rows[2]
    assert "Voicemail" in rows[3] and "deleted" not in rows[3]
