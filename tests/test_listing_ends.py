"""How a listing ends (`rcauth.cli_common.Listing`): an error or a signal part-way ends the records
as a last page would and is raised once what was listed is written; a signal never lands in the middle
of writing a record; an error before the first record is raised as it comes."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

from rcauth.cli_common import Listing as _Listing
from rcauth.errors import ApiError, ListingIncomplete, Terminated


def source(count: int, then: BaseException | None = None, signal_at: int | None = None) -> Iterator[dict]:
    """`count` records, a signal sent to this process while record `signal_at` is awaited, then `then`."""
    for n in range(count):
        if n == signal_at:
            signal.raise_signal(signal.SIGTERM)
        yield {"id": n}
    if then is not None:
        raise then


def written(listing: _Listing, *, signal_while_writing: int | None = None) -> list[Any]:
    """What a writer got, a record at a time; a signal sent while record `signal_while_writing` was being
    written must not interrupt that write."""
    out = []
    for record in listing:
        if record["id"] == signal_while_writing:
            signal.raise_signal(signal.SIGTERM)
        out.append(record)  # "written": a signal raised above would never get here
    return out


def test_an_error_part_way_ends_the_records_and_is_raised_after_with_how_many_came() -> None:
    with _Listing(source(3, ApiError("Service unavailable", status=500))) as listing:
        assert written(listing) == [{"id": 0}, {"id": 1}, {"id": 2}]
    with pytest.raises(ApiError) as raised:
        listing.raise_error(narrow="narrow it", stopped="the listing stopped after {count} calls")
    assert raised.value.hint == "the listing stopped after 3 calls"


def test_the_page_cap_is_told_how_to_ask_for_less() -> None:
    with _Listing(source(2, ListingIncomplete(2, 5, 1000))) as listing:
        written(listing)
    with pytest.raises(ListingIncomplete) as raised:
        listing.raise_error(narrow="narrow it", stopped="stopped after {count}")
    assert raised.value.hint == "narrow it"


def test_an_error_before_the_first_record_is_raised_as_it_comes() -> None:
    with _Listing(source(0, ApiError("forbidden", status=403))) as listing, pytest.raises(ApiError):
        written(listing)


def test_a_listing_that_ends_well_raises_nothing() -> None:
    with _Listing(source(2)) as listing:
        assert len(written(listing)) == 2
    listing.raise_error(narrow="", stopped="")


def test_a_signal_while_the_next_record_is_awaited_stops_the_listing_there() -> None:
    with _Listing(source(5, signal_at=2)) as listing:
        assert written(listing) == [{"id": 0}, {"id": 1}]
    with pytest.raises(Terminated) as raised:
        listing.raise_error(narrow="", stopped="")
    assert raised.value.exit_code == 143


def test_a_signal_while_a_record_is_written_waits_for_it_then_stops_the_listing() -> None:
    with _Listing(source(5)) as listing:
        assert written(listing, signal_while_writing=1) == [{"id": 0}, {"id": 1}]  # record 1 whole
    with pytest.raises(Terminated):
        listing.raise_error(narrow="", stopped="")


def test_a_signal_after_the_last_record_is_raised_when_the_listing_is_done_with() -> None:
    with pytest.raises(KeyboardInterrupt), _Listing(source(2)) as listing:
        written(listing)
        signal.raise_signal(signal.SIGINT)  # while a table is drawn, say
        drawn = True
    assert drawn


def test_the_handlers_before_the_listing_are_back_after_it_and_an_ignored_signal_stays_ignored() -> None:
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        sigterm = signal.getsignal(signal.SIGTERM)
        with _Listing(source(1)) as listing:
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not sigterm
            signal.raise_signal(signal.SIGHUP)  # ignored, as `nohup` asked
            written(listing)
        assert signal.getsignal(signal.SIGTERM) is sigterm
        listing.raise_error(narrow="", stopped="")
    finally:
        signal.signal(signal.SIGHUP, before)
