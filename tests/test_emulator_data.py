"""The emulator's pieces without sockets: the generated call log, the rate limiter, token rotation timing."""

from __future__ import annotations

from collections import Counter

import pytest
from helpers import FakeClock
from hypothesis import given, settings
from hypothesis import strategies as st

from ringcentral_emulator import EmulatorConfig
from ringcentral_emulator.config import User
from ringcentral_emulator.data import (
    DAY_MS,
    DELETED,
    RARE_CALLS,
    RARE_EVERY,
    CallLog,
    Directory,
    RecordFilter,
)
from ringcentral_emulator.ratelimit import RateLimiter
from ringcentral_emulator.state import AuthState, Counters, RefreshProblem
from tests.contract import contract

ANCHOR_MS = 1_750_000_000_000


def make_log(records: int, seed: int = 1) -> CallLog:
    return CallLog(Directory(User(), seed), seed=seed, records=records, anchor_ms=ANCHOR_MS)


def test_start_times_strictly_decrease_through_the_ramp_and_the_tail():
    log = make_log(1_000_000)
    timeline = log.timeline
    samples = [*range(0, 4100), *range(999_000, log.account_count)]
    times = [timeline.time_ms(j) for j in samples]
    assert all(a > b for a, b in zip(times, times[1:], strict=False))
    assert ANCHOR_MS - 10 * 60_000 < times[0] < ANCHOR_MS
    span_years = (ANCHOR_MS - timeline.time_ms(log.account_count - 1)) / (365 * DAY_MS)
    assert 4 < span_years < 5.1


def test_default_log_has_about_190_calls_in_the_last_day_and_spans_about_two_weeks():
    log = make_log(1000)
    last_day = log.select("extension", date_from_ms=ANCHOR_MS - DAY_MS, date_to_ms=ANCHOR_MS)
    assert 150 <= last_day.total <= 230
    oldest = log.time_ms("extension", log.user_count - 1)
    assert 12 <= (ANCHOR_MS - oldest) / DAY_MS <= 18


def test_the_user_owns_half_the_company_log():
    log = make_log(1001)
    owned = [j for j in range(log.account_count) if log.owned_by_user(j)]
    assert len(owned) == 1001 == log.user_count
    assert owned == [log.to_account("extension", i) for i in range(1001)]


SMALL = make_log(300, seed=5)
SPAN = ANCHOR_MS - SMALL.timeline.time_ms(SMALL.account_count - 1)
# What a listing asks of the log: scope, a date range around the log's span, type and direction.
QUERY = {
    "scope": st.sampled_from(["extension", "account"]),
    "start": st.integers(-DAY_MS, SPAN + DAY_MS),
    "length": st.integers(0, SPAN + DAY_MS),
    "types": st.frozensets(st.sampled_from(["Voice", "Fax"])),
    "directions": st.frozensets(st.sampled_from(["Inbound", "Outbound"])),
}


@settings(max_examples=150, deadline=None)
@given(**QUERY)
def test_selection_matches_a_brute_force_scan(scope, start, length, types, directions):
    date_to = ANCHOR_MS - start
    date_from = date_to - length
    selection = SMALL.select(
        scope, date_from_ms=date_from, date_to_ms=date_to, types=types, directions=directions
    )
    chosen = [selection.stream_index(p) for p in range(selection.lo, selection.hi)]
    expected = []
    for i in range(SMALL.count(scope)):
        j = SMALL.to_account(scope, i)
        call_type, direction = SMALL.category(j)
        if (
            date_from <= SMALL.timeline.time_ms(j) < date_to
            and (not types or call_type in types)
            and (not directions or direction in directions)
        ):
            expected.append(i)
    assert chosen == expected


def _everything_with_deleted(log: CallLog, scope: str) -> list[int]:
    """Every entry of `scope`, deleted records included, newest first (the unfiltered selection)."""
    whole = log.select(scope, date_from_ms=0, date_to_ms=ANCHOR_MS + DAY_MS, show_deleted=True)
    return [whole.entry(p) for p in range(whole.lo, whole.hi)]


def test_deleted_records_are_extra_two_in_every_32_account_records_one_of_them_the_users():
    for scope in ("account", "extension"):
        entries = _everything_with_deleted(SMALL, scope)
        assert [e >> 1 for e in entries if not e & 1] == list(range(SMALL.count(scope)))
        times = [SMALL.start_ms(SMALL.entry_index(scope, e)) for e in entries]
        assert all(a > b for a, b in zip(times, times[1:], strict=False))
    deleted = [
        SMALL.entry_index("account", e) - DELETED for e in _everything_with_deleted(SMALL, "account") if e & 1
    ]
    full = SMALL.account_count // 32  # (the last, partial block may hold fewer)
    blocks = Counter(j // 32 for j in deleted)
    assert [blocks[b] for b in range(full)] == [2] * full and sum(blocks.values()) == len(deleted)
    assert all(
        sum(SMALL.owned_by_user(DELETED + j) for j in deleted if j // 32 == b) == 1 for b in range(full)
    )
    mine = [SMALL.entry_index("extension", e) for e in _everything_with_deleted(SMALL, "extension") if e & 1]
    assert mine == [DELETED + j for j in deleted if SMALL.owned_by_user(DELETED + j)]
    for j in (deleted[0], deleted[-1]):
        record = SMALL.record("account", DELETED + j, base="http://h", detailed=True)
        assert record["deleted"] is True and SMALL.find(record["id"]) == DELETED + j
        assert (record["type"], record["direction"]) == SMALL.category(DELETED + j)
    assert SMALL.find(SMALL.record_id(DELETED + deleted[0] + 1)) is None  # not a deleted record's id


WHERE = st.builds(
    RecordFilter,
    hide_blocked=st.booleans(),
    recording_types=st.sampled_from([None, frozenset({"Automatic"}), frozenset({"Automatic", "OnDemand"})]),
    transports=st.sampled_from([frozenset(), frozenset({"VoIP"}), frozenset({"PSTN"})]),
    extension_number=st.sampled_from([None, "101", "103"]),
)


@settings(max_examples=100, deadline=None)
@given(**QUERY, show_deleted=st.booleans(), where=st.one_of(st.none(), WHERE))
def test_selection_with_deleted_records_and_content_filters_matches_a_brute_force_scan(
    scope, start, length, types, directions, show_deleted, where
):
    date_to = ANCHOR_MS - start
    date_from = date_to - length
    selection = SMALL.select(
        scope,
        date_from_ms=date_from,
        date_to_ms=date_to,
        types=types,
        directions=directions,
        show_deleted=show_deleted,
        where=where,
    )
    chosen = [selection.entry(p) for p in range(selection.lo, selection.hi)]
    expected = []
    for entry in _everything_with_deleted(SMALL, scope):
        j = SMALL.entry_index(scope, entry)
        call_type, direction = SMALL.category(j)
        record = SMALL.record(scope, j, base="", detailed=False)
        if (
            (show_deleted or not entry & 1)
            and date_from <= SMALL.start_ms(j) < date_to
            and (not types or call_type in types)
            and (not directions or direction in directions)
            and (where is None or where.matches(record))
        ):
            expected.append(entry)
    assert chosen == expected


def test_record_ids_round_trip_and_junk_ids_are_not_found():
    log = make_log(500)
    for j in (0, 1, 17, log.account_count - 1):
        assert log.find(log.record_id(j)) == j
    for junk in ("", "abc", "AAAAAAAAAAA", "not an id!!", log.record_id(0) + "x"):
        assert log.find(junk) is None


def test_records_agree_with_their_category_and_owner():
    log = make_log(400)
    for j in range(0, 800, 7):
        record = log.record("account", j, base="http://h", detailed=True)
        assert (record["type"], record["direction"]) == log.category(j)
        mine = record["extension"]["id"] == User().extension_id
        assert mine == log.owned_by_user(j)
        assert record["duration"] == (record["durationMs"] + 500) // 1000
        assert record["legs"][0]["startTime"] == record["startTime"]


# -- what the calls are: a realistic mix, every value of the spec in a long log ---------------------------

# The results most calls end with: answered, missed or not answered, voicemail, busy (for a fax: received
# or sent), and the ordinary failures beside them; every other result of the spec is a rare call.
EVERYDAY = frozenset(
    {"Accepted", "Call connected", "Missed", "No Answer", "Voicemail", "Busy"} | {"Received", "Sent"}
)
ORDINARY_FAILURES = frozenset(
    {"Hang Up", "Rejected", "Blocked", "Wrong Number", "Stopped"}
    | {"Partial Receive", "Receive Error", "Fax Partially Sent", "Send Error"}
)
# A record's fields, and in a Detailed record its legs' `legType`, with the spec's enum for each.
RECORD_ENUMS = {
    "type": "CallTypeEnum",
    "direction": "CallDirectionEnum",
    "result": "CallResultEnum",
    "reason": "CallResultReasonEnum",
    "action": "CallActionEnum",
    "transport": "CallTransportEnum",
}


def _spec_enum(name: str) -> set[str]:
    return set(contract.spec()["components"]["schemas"][name]["enum"])


def _users_calls(log: CallLog, days: int) -> list[dict]:
    """The user's own call log over the last `days` days, as `rcauth call-log --from {days}d` lists it."""
    chosen = log.select("extension", date_from_ms=ANCHOR_MS - days * DAY_MS, date_to_ms=ANCHOR_MS)
    return [
        log.record("extension", log.to_account("extension", chosen.stream_index(p)), base="", detailed=False)
        for p in range(chosen.lo, chosen.hi)
    ]


def test_most_calls_of_the_default_log_over_30_days_are_answered_missed_voicemail_or_busy():
    config = EmulatorConfig()  # the demo's and `rcauth emulator`'s log
    calls = _users_calls(make_log(config.call_records, seed=config.seed), days=30)
    assert len(calls) == config.call_records  # the whole default log lies in the last 30 days
    results = Counter(call["result"] for call in calls)
    assert sum(results[r] for r in EVERYDAY) >= 0.85 * len(calls)
    # Rare values are rare: none of the other results more than twice, all of them together under 2 %.
    rare = {r: n for r, n in results.items() if r not in EVERYDAY | ORDINARY_FAILURES}
    assert all(n <= 2 for n in rare.values()), rare
    assert sum(rare.values()) < 0.02 * len(calls)
    # Results that belong to one direction stay there.
    by_direction = {d: {c["result"] for c in calls if c["direction"] == d} for d in ("Inbound", "Outbound")}
    assert {"Accepted", "Missed", "Voicemail"} <= by_direction["Inbound"]
    assert {"Call connected", "No Answer", "Busy"} <= by_direction["Outbound"]
    assert not by_direction["Inbound"] & {"Call connected", "No Answer", "Sent"}
    assert not by_direction["Outbound"] & {"Accepted", "Missed", "Voicemail", "Received"}


@pytest.mark.parametrize("seed", [1, 7, 2024])
def test_every_value_of_the_spec_appears_in_a_log_of_a_few_thousand_records(seed):
    log = make_log(RARE_EVERY * len(RARE_CALLS) // 2 + 1, seed=seed)  # an account log that long
    records = [log.record("account", j, base="", detailed=True) for j in range(log.account_count)]
    for field, enum in RECORD_ENUMS.items():
        assert {r[field] for r in records} == _spec_enum(enum), field
    assert {leg["legType"] for r in records for leg in r["legs"]} == _spec_enum("CallLegTypeEnum")
    assert all((r["type"], r["direction"]) == log.category(j) for j, r in enumerate(records))


def test_every_rare_call_reaches_the_users_own_log_when_it_is_long_enough():
    # A rare call's record is the user's or a colleague's by its position, which moves from round to round
    # of RARE_CALLS: within 8 rounds each rare call has been one of the user's.
    log = make_log(4 * RARE_EVERY * len(RARE_CALLS))
    calls = _users_calls(log, days=10_000)
    assert len(calls) == log.user_count
    for field in ("result", "reason", "action"):
        assert {c[field] for c in calls} == _spec_enum(RECORD_ENUMS[field]), field


def test_the_log_is_the_same_for_a_seed_and_another_for_another_seed():
    def log_of(seed: int) -> list[dict]:
        log = make_log(1000, seed=seed)
        return [log.record("account", j, base="http://h", detailed=True) for j in range(log.account_count)]

    def rare_positions(records: list[dict]) -> set[int]:
        return {j for j, r in enumerate(records) if r["result"] not in EVERYDAY | ORDINARY_FAILURES}

    first, again, other = log_of(7), log_of(7), log_of(8)
    assert first == again
    assert [r["result"] for r in first] != [r["result"] for r in other]
    assert rare_positions(first) and rare_positions(first) != rare_positions(other)


def test_sliding_window_admits_limit_requests_in_any_window_then_penalises():
    clock = FakeClock()
    limiter = RateLimiter(clock.monotonic)

    def check() -> bool:
        return limiter.check("u", "Heavy", 2, 10.0, 5.0).allowed

    assert check()
    clock.now += 9.9
    assert check()
    clock.now += 0.2  # the first request left the window; one remains in it
    assert check()
    clock.now += 0.1
    assert not check()  # a fixed window would have admitted this
    clock.now += 4.0
    refused = limiter.check("u", "Heavy", 2, 10.0, 5.0)
    assert not refused.allowed and refused.retry_after == 5  # restarted
    clock.now += 5.1
    assert check() and check() and not check()


def test_grace_replay_stops_after_the_grace_maximum():
    clock = FakeClock()
    state = AuthState(Counters(), clock.monotonic)
    first = state.create_session(
        client_id="c", extension_id=1, scope="s", access_ttl=3600, refresh_ttl=86400, max_sessions=None
    )
    assert first.refresh_token is not None

    def spend() -> object:
        return state.refresh(
            first.refresh_token,
            client_id="c",
            access_ttl=3600,
            refresh_ttl=86400,
            strict=False,
            grace_after_use=10,
            grace_max=3600,
        )

    new = spend()
    clock.now += 3599
    replay = spend()
    assert (replay.access_token, replay.refresh_token) == (new.access_token, new.refresh_token)
    assert replay.expires_in == 1
    clock.now += 2
    assert spend() is RefreshProblem.SPENT
