"""The API client at the HTTP layer (requests-mock): refresh, rotation, 401 retry, 429, paging."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import requests_mock
from helpers import FakeClock, make_session, serving, token_answer

import rcauth.client as client_module
from rcauth.client import LOGIN_HINT, MAX_429_RETRIES, MAX_RATE_LIMIT_WAIT, ApiClient, RateLimiter
from rcauth.errors import (
    ApiError,
    ForeignOrigin,
    ListingIncomplete,
    NotLoggedIn,
    RcauthError,
    SessionExpired,
    TransportError,
)
from rcauth.session import Session
from rcauth.store import MemoryStore

SERVER = "https://platform.ringcentral.com"
EXT = SERVER + "/restapi/v1.0/account/~/extension/~"
TOKEN_URL = SERVER + "/restapi/oauth/token"
CALLS = SERVER + "/restapi/v1.0/account/~/extension/~/call-log"


def session(
    expires_in: float = 3600, access: str = "AT-old-1", refresh: str = "RT-old-1", now: float | None = None
) -> Session:
    return make_session(expires_in, now=now, access_token=access, refresh_token=refresh, owner_id="101")


def new_pair(n: int = 2) -> dict:
    return token_answer(f"AT-new-{n}", f"RT-new-{n}", scope="ReadAccounts")


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.save(session())
    return s


def test_request_sends_bearer_token(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, json={"id": 101})
        assert client.get_json("/restapi/v1.0/account/~/extension/~") == {"id": 101}
    assert m.request_history[0].headers["Authorization"] == "Bearer AT-old-1"


def test_not_logged_in_without_a_session_says_so_and_to_log_in() -> None:
    """What `rcauth whoami` and `rcauth.Client` say before any sign-in: the fact, and what to do."""
    with ApiClient(MemoryStore()) as client, pytest.raises(NotLoggedIn) as caught:
        client.get_json("/restapi/v1.0/account/~/extension/~")
    assert str(caught.value) == "not signed in"
    assert caught.value.hint == "run `rcauth login` first"


def test_refreshes_ahead_of_expiry_and_stores_the_rotated_pair_at_once() -> None:
    store = MemoryStore()
    store.save(session(expires_in=30))  # inside the 60 s margin
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, json=new_pair())
        m.get(EXT, json={"id": 101})
        client.get_json("/restapi/v1.0/account/~/extension/~")
    refresh, call = m.request_history
    assert parse_qs(refresh.text) == {"grant_type": ["refresh_token"], "refresh_token": ["RT-old-1"]}
    assert call.headers["Authorization"] == "Bearer AT-new-2"
    stored = store.load()
    assert (stored.access_token, stored.refresh_token) == ("AT-new-2", "RT-new-2")
    assert stored.access_expires_at > time.time() + 3500


def test_no_refresh_when_token_is_fresh(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, json={})
        client.get_json(EXT)
    assert [r.method for r in m.request_history] == ["GET"]


def test_401_refreshes_once_and_retries_once(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, [{"status_code": 401, "json": {"errorCode": "OAU-129"}}, {"json": {"id": 7}}])
        m.post(TOKEN_URL, json=new_pair())
        assert client.get_json(EXT) == {"id": 7}
    assert [r.method for r in m.request_history] == ["GET", "POST", "GET"]
    assert m.request_history[2].headers["Authorization"] == "Bearer AT-new-2"


def test_second_401_is_not_retried_again(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, status_code=401, json={"errorCode": "OAU-128", "message": "Access token expired"})
        m.post(TOKEN_URL, json=new_pair())
        with pytest.raises(ApiError) as caught:
            client.get_json(EXT)
    assert caught.value.error_code == "OAU-128"
    assert [r.method for r in m.request_history] == ["GET", "POST", "GET"]


def test_invalid_grant_ends_and_removes_the_session() -> None:
    store = MemoryStore()
    store.save(session(expires_in=0))
    body = {
        "error": "invalid_grant",
        "error_description": "Token is revoked",
        "errors": [{"errorCode": "OAU-211"}],
    }
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, status_code=400, json=body)
        with pytest.raises(SessionExpired) as caught:
            client.get_json(EXT)
    assert "session has ended" in str(caught.value) and "rcauth login" in (caught.value.hint or "")
    assert store.load() is None


def test_server_error_on_refresh_keeps_the_session() -> None:
    store = MemoryStore()
    store.save(session(expires_in=0))
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, status_code=500, json={"error": "server_error"})
        with pytest.raises(ApiError):
            client.get_json(EXT)
    assert store.load() is not None


def test_pair_rotated_by_another_process_is_used_without_a_second_refresh() -> None:
    store = MemoryStore()
    store.save(session(expires_in=0))
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, json={})
        assert client.load_session().access_token == "AT-old-1"  # loaded: stale
        store.save(session(access="AT-other-9", refresh="RT-other-9"))  # someone else refreshed meanwhile
        client.get_json(EXT)
    assert [r.method for r in m.request_history] == ["GET"]
    assert m.request_history[0].headers["Authorization"] == "Bearer AT-other-9"


def test_paginate_follows_next_page_until_limit(store: MemoryStore) -> None:
    def page(n: int, last: bool = False) -> dict:
        nav = {} if last else {"nextPage": {"uri": f"{CALLS}?page={n + 1}&perPage=2"}}
        return {"records": [{"id": f"{n}a"}, {"id": f"{n}b"}], "navigation": nav, "paging": {"page": n}}

    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, [{"json": page(1)}, {"json": page(2)}, {"json": page(3, last=True)}])
        ids = [r["id"] for r in client.paginate(CALLS, {}, limit=5)]
    assert ids == ["1a", "1b", "2a", "2b", "3a"]
    assert m.request_history[0].qs["perpage"] == ["5"]


def test_paginate_stops_on_last_page(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json={"records": [{"id": 1}], "navigation": {}})
        assert len(list(client.paginate(CALLS, {}, limit=100))) == 1


def test_paginate_stops_at_a_next_page_link_back_to_a_page_already_listed(store: MemoryStore) -> None:
    """RingCentral never links a listing back to itself: a server that does would have `--all` write
    the same records for ever. Its records come once, then one error (exit 5)."""
    looping = {"records": [{"id": "r"}], "navigation": {"nextPage": {"uri": f"{CALLS}?perPage=1"}},
               "paging": {"page": 1}}  # fmt: skip
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json=looping)
        got = []
        with pytest.raises(ApiError) as caught:
            got.extend(client.paginate(CALLS, {}))
    assert got == [{"id": "r"}, {"id": "r"}]  # the first page, then the linked one, then the loop is seen
    assert m.call_count == 2 and caught.value.exit_code == 5
    # What the user reads: why it stopped, how much was written before it, and that nothing more comes.
    assert str(caught.value) == (
        "RingCentral's next-page link leads back to a page already listed (2 records listed); "
        "the listing stops here"
    )


def test_paginate_stops_an_endless_chain_of_next_pages_after_page_1000(store: MemoryStore) -> None:
    """Each link new, each page saying it is page 1: no loop to see, but RingCentral serves no page
    past 1000, so the 1001st is never asked for."""

    def page(request, context) -> dict:
        n = int(request.qs.get("n", ["0"])[0])
        return {
            "records": [{"id": n}],
            "navigation": {"nextPage": {"uri": f"{CALLS}?n={n + 1}"}},
            "paging": {"page": 1},
        }

    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json=page)
        got = []
        with pytest.raises(ListingIncomplete) as caught:
            got.extend(client.paginate(CALLS, {}))
    assert len(got) == 1000 and m.call_count == 1000
    # Said as a listing cut at page 1000 is: how many records came, and why no more can.
    assert (caught.value.listed, caught.value.total, caught.value.exit_code) == (1000, None, 5)
    assert str(caught.value) == "only 1000 records listed: RingCentral lists at most 1000 pages"


def _last_page(page: int, paging: dict) -> dict:
    """A page without `nextPage`: one record, with `paging` as RingCentral would send it."""
    return {"records": [{"id": "r"}], "navigation": {}, "paging": {"page": page, "perPage": 1, **paging}}


def test_paginate_raises_listing_incomplete_after_page_1000_when_records_remain(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json=_last_page(1000, {"pageEnd": 999, "totalElements": 1500, "totalPages": 1500}))
        records = client.paginate(CALLS, {"page": 1000, "perPage": 1})
        assert next(records) == {"id": "r"}  # the record comes first, the error after it
        with pytest.raises(ListingIncomplete) as caught:
            next(records)
    assert (caught.value.listed, caught.value.total, caught.value.exit_code) == (1, 1500, 5)
    assert str(caught.value) == "only 1 of 1500 records listed: RingCentral lists at most 1000 pages"


def test_paginate_reads_total_pages_when_total_elements_is_omitted(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json=_last_page(1000, {"pageEnd": 999, "totalPages": 1001}))
        with pytest.raises(ListingIncomplete) as caught:
            list(client.paginate(CALLS, {}))
    assert caught.value.total is None
    assert str(caught.value) == "only 1 records listed: RingCentral lists at most 1000 pages"


@pytest.mark.parametrize(
    ("page", "paging"),
    [
        (1000, {"pageEnd": 999, "totalElements": 1000, "totalPages": 1000}),  # exactly 1000 pages
        (1000, {"pageEnd": 999}),  # no totals: nothing says records remain
        (5, {"pageEnd": 4, "totalElements": 9, "totalPages": 9}),  # estimated totals before page 1000
    ],
)
def test_paginate_ends_quietly_where_nothing_says_page_1000_cut_it(store: MemoryStore, page, paging) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json=_last_page(page, paging))
        assert list(client.paginate(CALLS, {})) == [{"id": "r"}]


def test_paginate_reads_total_elements_alone_down_to_one_record_left(store: MemoryStore) -> None:
    # No totalPages: pageEnd and totalElements alone say one record lies past page 1000.
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json=_last_page(1000, {"pageEnd": 999, "totalElements": 1001}))
        with pytest.raises(ListingIncomplete) as caught:
            list(client.paginate(CALLS, {}))
    assert (caught.value.listed, caught.value.total) == (1, 1001)


def test_paginate_ignores_a_total_that_is_not_a_number(store: MemoryStore) -> None:
    # Server data is untrusted: a string total neither crashes the listing nor cuts it.
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json=_last_page(1000, {"pageEnd": 999, "totalElements": "1001"}))
        assert list(client.paginate(CALLS, {})) == [{"id": "r"}]


def test_listing_incomplete_carries_the_hint_it_is_given() -> None:
    error = ListingIncomplete(3, 9, 1000, hint="use --from/--to to narrow the period")
    assert error.hint == "use --from/--to to narrow the period"


def test_paginate_with_a_limit_reached_on_page_1000_is_complete(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json=_last_page(1000, {"pageEnd": 999, "totalElements": 5000, "totalPages": 5000}))
        assert list(client.paginate(CALLS, {}, limit=1)) == [{"id": "r"}]


def _pages(count: int, per_page: int = 2) -> list[dict]:
    """RingCentral-shaped call-log pages 1..count, each linking to the next."""
    pages = []
    for n in range(1, count + 1):
        nav = {"nextPage": {"uri": f"{CALLS}?page={n + 1}&perPage={per_page}"}} if n < count else {}
        records = [{"id": f"{n}-{i}"} for i in range(per_page)]
        pages.append({"records": records, "navigation": nav, "paging": {"page": n}})
    return pages


def test_paginate_asks_for_each_page_once_in_order(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, [{"json": page} for page in _pages(3)])
        assert [r["id"] for r in client.paginate(CALLS, {})] == ["1-0", "1-1", "2-0", "2-1", "3-0", "3-1"]
    assert [r.qs.get("page") for r in m.request_history] == [None, ["2"], ["3"]]


def test_paginate_asks_for_no_page_past_the_limit(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, [{"json": page} for page in _pages(3)])
        assert [r["id"] for r in client.paginate(CALLS, {}, limit=2)] == ["1-0", "1-1"]
    assert m.call_count == 1


def test_a_token_due_mid_listing_is_refreshed_before_the_next_page(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, [{"json": page} for page in _pages(2)])
        m.post(TOKEN_URL, json=new_pair())

        def expire_soon(page: dict) -> None:
            if page["paging"]["page"] == 1:
                soon = time.time() + 5
                client._session = dataclasses.replace(client.load_session(), access_expires_at=soon)

        listed = [r["id"] for r in client.paginate(CALLS, {}, on_page=expire_soon)]
    assert listed == ["1-0", "1-1", "2-0", "2-1"]
    page1, refresh, page2 = m.request_history
    assert page1.headers["Authorization"] == "Bearer AT-old-1"
    assert refresh.url == TOKEN_URL and page2.headers["Authorization"] == "Bearer AT-new-2"


def test_a_401_on_a_later_page_is_refreshed_and_retried_once(store: MemoryStore) -> None:
    page1, page2 = _pages(2)
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(
            CALLS,
            [{"json": page1}, {"status_code": 401, "json": {"errorCode": "TokenInvalid"}}, {"json": page2}],
        )
        m.post(TOKEN_URL, json=new_pair())
        assert [r["id"] for r in client.paginate(CALLS, {})] == ["1-0", "1-1", "2-0", "2-1"]
    page_1, refused, refresh, page_2 = m.request_history
    assert refused.headers["Authorization"] == "Bearer AT-old-1" and refresh.url == TOKEN_URL
    assert page_2.headers["Authorization"] == "Bearer AT-new-2" and page_2.qs["page"] == ["2"]


def test_a_429_on_a_later_page_is_waited_out_before_asking_again(store: MemoryStore) -> None:
    page1, page2 = _pages(2)
    waits: list[float] = []
    with requests_mock.Mocker() as m, ApiClient(store, on_wait=lambda s, reason: waits.append(s)) as client:
        limited = {"status_code": 429, "headers": {"Retry-After": "2"}, "json": {"errorCode": "CMN-301"}}
        m.get(CALLS, [{"json": page1}, limited, {"json": page2}])
        assert [r["id"] for r in client.paginate(CALLS, {})] == ["1-0", "1-1", "2-0", "2-1"]
    assert m.call_count == 3 and len(waits) == 1 and 2 <= waits[0] < 2.5


def test_a_later_page_that_fails_fails_after_the_records_before_it(store: MemoryStore) -> None:
    page1, _ = _pages(2)
    got: list[str] = []
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, [{"json": page1}, {"status_code": 403, "json": {"errorCode": "CMN-408"}}])
        with pytest.raises(ApiError) as caught:
            got.extend(r["id"] for r in client.paginate(CALLS, {}))
    assert got == ["1-0", "1-1"] and caught.value.status == 403


def test_token_is_never_sent_to_another_origin(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json={"records": [], "navigation": {"nextPage": {"uri": "https://evil.example/steal"}}})
        with pytest.raises(ApiError, match="another server"):
            list(client.paginate(CALLS, {}))
    assert all(r.hostname == "platform.ringcentral.com" for r in m.request_history)


def test_429_waits_for_retry_after_then_goes_on(store: MemoryStore) -> None:
    waits: list[float] = []
    with requests_mock.Mocker() as m, ApiClient(store, on_wait=lambda s, reason: waits.append(s)) as client:
        m.get(
            EXT,
            [
                {"status_code": 429, "headers": {"Retry-After": "3"}, "json": {"errorCode": "CMN-301"}},
                {"json": {"id": 1}},
            ],
        )
        assert client.get_json(EXT) == {"id": 1}
    assert len(waits) == 1 and 3 <= waits[0] < 3.5


def test_api_error_keeps_error_code_and_names_missing_permission(store: MemoryStore) -> None:
    body = {
        "errorCode": "InsufficientPermissions",
        "message": "In order to call this API endpoint, user needs to have [FullCompanyCallLog] permission",
        "errors": [{"errorCode": "CMN-408", "permissionName": "FullCompanyCallLog"}],
    }
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, status_code=403, json=body)
        with pytest.raises(ApiError) as caught:
            client.get_json(CALLS)
    assert caught.value.error_code == "InsufficientPermissions" and caught.value.status == 403
    assert "FullCompanyCallLog" in (caught.value.hint or "")


def test_rate_limit_headers_pace_the_next_request(store: MemoryStore) -> None:
    waits: list[float] = []
    headers = {"X-Rate-Limit-Group": "Heavy", "X-Rate-Limit-Limit": "2", "X-Rate-Limit-Window": "5"}
    with requests_mock.Mocker() as m, ApiClient(store, on_wait=lambda s, r: waits.append(s)) as client:
        m.get(
            CALLS,
            [
                {"json": {}, "headers": {**headers, "X-Rate-Limit-Remaining": "1"}},
                {"json": {}, "headers": {**headers, "X-Rate-Limit-Remaining": "0"}},
                {"json": {}, "headers": {**headers, "X-Rate-Limit-Remaining": "1"}},
            ],
        )
        for _ in range(3):
            client.get_json(CALLS)
    assert len(waits) == 1 and 4 < waits[0] <= 5


def _limited(remaining: int, status: int = 200) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(
        {
            "X-Rate-Limit-Group": "Heavy",
            "X-Rate-Limit-Limit": "3",
            "X-Rate-Limit-Remaining": str(remaining),
            "X-Rate-Limit-Window": "5",
        }
    )
    return response


def test_pacing_waits_only_until_the_oldest_request_leaves_a_sliding_window() -> None:
    limiter = RateLimiter()
    for i, remaining in enumerate((2, 1, 0)):  # a burst: sent at 100, 101, 102, each answered 0.1 s later
        limiter.observe(_limited(remaining), sent_at=100.0 + i, answered_at=100.1 + i)
    assert limiter.delay("Heavy", 102.1) == pytest.approx(100.1 + 5 - 102.1)
    # The 4th goes when the 1st has left; with none left again, the 5th waits for the 2nd only,
    # not for a whole new window.
    limiter.observe(_limited(0), sent_at=105.1, answered_at=105.2)
    assert limiter.delay("Heavy", 105.2) == pytest.approx(101.1 + 5 - 105.2)
    assert limiter.delay("Light", 105.2) == 0.0


def test_pacing_waits_a_whole_window_when_another_process_shares_the_allowance() -> None:
    limiter = RateLimiter()
    limiter.observe(_limited(2), sent_at=100.0, answered_at=100.1)
    # Our next request found the allowance spent by someone else.
    limiter.observe(_limited(0), sent_at=110.0, answered_at=110.1)
    assert limiter.delay("Heavy", 110.1) == pytest.approx(5.0)


def test_a_429_clears_the_pacing_state_its_penalty_starts_a_fresh_window() -> None:
    limiter = RateLimiter()
    for i, remaining in enumerate((2, 1, 0)):
        limiter.observe(_limited(remaining), sent_at=100.0 + i, answered_at=100.1 + i)
    limiter.observe(_limited(0, status=429), sent_at=103.0, answered_at=103.1)
    assert limiter.delay("Heavy", 103.1) == 0.0


# -- issue 10 §7: the origin check, the 429 bound, the session a login just stored, the margin --------
@pytest.mark.parametrize(
    "url",
    [
        "https://platform.ringcentral.com.evil.example/restapi/v1.0/account/~",  # a look-alike host
        "https://platform.ringcentral.com@evil.example/restapi/v1.0/account/~",  # userinfo
        "https://user:pw@platform.ringcentral.com/restapi/v1.0/account/~",  # userinfo on the same host
        "http://platform.ringcentral.com/restapi/v1.0/account/~",  # a downgrade to plain http
        "https://evil.example/restapi/v1.0/account/~",
        "https://platform.ringcentral.co/restapi/v1.0/account/~",
        "https://platform.ringcentral.com:8443/restapi/v1.0/account/~",  # another port
    ],
)
def test_the_token_never_goes_to_another_origin(store: MemoryStore, url: str) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.register_uri(requests_mock.ANY, requests_mock.ANY, json={})  # would record any request sent
        with pytest.raises(RcauthError):
            client.url_for(url)
        with pytest.raises(RcauthError):
            client.request("GET", url)
        m.get(CALLS, json={"records": [{"id": 1}], "navigation": {"nextPage": {"uri": url}}})
        got: list[int] = []
        with pytest.raises(RcauthError):
            got.extend(r["id"] for r in client.paginate(CALLS, {}))
    assert got == [1]  # the records before the foreign link are kept
    assert [(r.scheme, r.netloc) for r in m.request_history] == [("https", "platform.ringcentral.com")]


def test_the_sessions_own_origin_and_paths_are_used_as_they_are(store: MemoryStore) -> None:
    with ApiClient(store) as client:
        assert client.url_for(EXT) == EXT
        assert client.url_for("/restapi/v1.0/account/~") == SERVER + "/restapi/v1.0/account/~"
        assert client.url_for("restapi/v1.0/account/~") == SERVER + "/restapi/v1.0/account/~"


def test_a_persistent_429_is_not_retried_forever(store: MemoryStore) -> None:
    waits: list[float] = []

    def on_wait(seconds: float, reason: str) -> None:
        waits.append(seconds)
        if len(waits) > 20:  # a client that never gives up must fail this test, not hang it
            raise AssertionError("a persistent 429 is retried without end")

    with requests_mock.Mocker() as m, ApiClient(store, on_wait=on_wait) as client:
        m.get(EXT, status_code=429, headers={"Retry-After": "2"}, json={"errorCode": "CMN-301"})
        with pytest.raises(ApiError) as caught:
            client.get_json(EXT)
    assert caught.value.status == 429 and caught.value.error_code == "CMN-301"
    assert m.call_count == MAX_429_RETRIES + 1 == 6
    assert len(waits) == MAX_429_RETRIES and all(2 <= s <= 2.25 for s in waits)


def test_a_429_asking_for_more_than_two_minutes_is_reported_at_once(store: MemoryStore) -> None:
    waits: list[float] = []
    with requests_mock.Mocker() as m, ApiClient(store, on_wait=lambda s, reason: waits.append(s)) as client:
        m.get(EXT, status_code=429, headers={"Retry-After": "121"}, json={"errorCode": "CMN-301"})
        with pytest.raises(ApiError) as caught:
            client.get_json(EXT)
    assert m.call_count == 1 and waits == []
    assert caught.value.hint == "RingCentral asks to wait 121 s before the next request"


@pytest.mark.parametrize(
    ("retry_after", "low"), [({"Retry-After": "120"}, 120), ({}, 30), ({"Retry-After": "0"}, 1)]
)
def test_a_429_waits_its_retry_after_or_ringcentrals_minimum(store: MemoryStore, retry_after, low) -> None:
    waits: list[tuple[float, str]] = []
    on_wait = lambda s, reason: waits.append((s, reason))  # noqa: E731
    with requests_mock.Mocker() as m, ApiClient(store, on_wait=on_wait) as client:
        m.get(EXT, [{"status_code": 429, "headers": retry_after, "json": {}}, {"json": {"id": 1}}])
        assert client.get_json(EXT) == {"id": 1}
    ((seconds, reason),) = waits
    assert low <= seconds <= min(low + 0.25, MAX_RATE_LIMIT_WAIT)
    assert reason == "rate limit reached (HTTP 429)"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"error": "invalid_grant", "error_description": "Token is revoked"}, 400),
        ({"error": "invalid_client", "error_description": "Invalid client"}, 401),
    ],
)
def test_a_dead_refresh_leaves_alone_a_session_a_concurrent_login_just_stored(
    body: dict, status: int
) -> None:
    store = MemoryStore()
    store.save(session(expires_in=0))

    def answer(request, context) -> dict:
        # While our refresh is on the wire, `rcauth login` in another terminal stores a new session.
        store.save(session(access="AT-login-7", refresh="RT-login-7"))
        context.status_code = status
        return body

    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, json=answer)
        with pytest.raises(SessionExpired):
            client.get_json(EXT)
    stored = store.load()
    assert stored is not None and stored.refresh_token == "RT-login-7"


def test_a_session_past_its_refresh_expiry_is_removed_without_a_request() -> None:
    store = MemoryStore()
    store.save(dataclasses.replace(session(expires_in=0), refresh_expires_at=time.time() - 1))
    with requests_mock.Mocker() as m, ApiClient(store) as client, pytest.raises(SessionExpired) as caught:
        client.get_json(EXT)
    assert m.call_count == 0 and store.load() is None
    assert "refresh token is no longer valid" in str(caught.value)


def test_a_rotated_client_secret_ends_the_session_and_says_which_secret(store: MemoryStore) -> None:
    store.save(session(expires_in=0))
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, status_code=401, json={"error": "invalid_client", "error_description": "Bad"})
        with pytest.raises(SessionExpired) as caught:
            client.get_json(EXT)
    assert store.load() is None
    assert "client secret" in (caught.value.hint or "")


@pytest.mark.parametrize(("left", "refreshes"), [(60.0, True), (60.001, False), (59.999, True), (0.0, True)])
def test_the_refresh_margin_is_60_s_left_inclusive(left: float, refreshes: bool) -> None:
    clock = FakeClock(1_900_000_000.0)
    store = MemoryStore()
    store.save(session(left, now=clock.now))
    with requests_mock.Mocker() as m, ApiClient(store, clock=clock.time) as client:
        m.post(TOKEN_URL, json=new_pair())
        fresh = client.fresh_session()
    assert m.call_count == (1 if refreshes else 0)
    assert fresh.access_token == ("AT-new-2" if refreshes else "AT-old-1")


# -- mutation testing: what the surviving mutants of client.py showed unpinned ---------------------------
def test_a_refresh_keeps_the_apps_credentials_and_the_sessions_history(store: MemoryStore) -> None:
    first = session(expires_in=0)
    store.save(first)
    with requests_mock.Mocker() as m, ApiClient(store, profile="work") as client:
        m.post(TOKEN_URL, json=new_pair())
        new = client.refresh(stale_access_token="AT-old-1")
    # The next refresh authenticates as the same app: losing the secret would end the session then.
    assert m.request_history[0].headers["Authorization"] == "Basic Y2lkOnNlYw=="  # cid:sec
    assert (new.client_id, new.client_secret, new.server) == ("cid", "sec", SERVER)
    assert (new.owner_id, new.created_at) == ("101", first.created_at) and new.refreshed_at is not None
    assert store.load() == new and client.load_session() == new


def test_a_refresh_locks_the_profiles_own_lock(store: MemoryStore, isolated) -> None:
    store.save(session(expires_in=0))
    with requests_mock.Mocker() as m, ApiClient(store, profile="work") as client:
        m.post(TOKEN_URL, json=new_pair())
        client.fresh_session()
    assert (isolated / "state" / "work.refresh.lock").exists()
    assert not (isolated / "state" / "default.refresh.lock").exists()


def test_a_session_removed_while_waiting_for_the_lock_is_reported(store: MemoryStore) -> None:
    with ApiClient(store) as client:
        assert client.load_session().access_token == "AT-old-1"
        store.delete()  # `rcauth logout` in another terminal
        with pytest.raises(SessionExpired) as caught:
            client.refresh(stale_access_token="AT-old-1")
    assert str(caught.value) == "the session was removed by another rcauth"
    assert caught.value.hint == "run `rcauth login` to sign in again"


def test_an_expired_refresh_token_says_so_and_points_to_login() -> None:
    store = MemoryStore()
    store.save(dataclasses.replace(session(expires_in=0), refresh_expires_at=time.time() - 1))
    with ApiClient(store) as client, pytest.raises(SessionExpired) as caught:
        client.fresh_session()
    assert str(caught.value) == "the session has expired (its refresh token is no longer valid)"
    assert caught.value.hint == "run `rcauth login` to sign in again"
    assert client._session is None


def test_a_rotated_client_secret_says_what_to_do() -> None:
    store = MemoryStore()
    store.save(session(expires_in=0))
    body = {"error": "invalid_client", "error_description": "Invalid client"}
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, status_code=401, json=body)
        with pytest.raises(SessionExpired) as caught:
            client.fresh_session()
    assert str(caught.value).startswith(
        "the session has ended: RingCentral refused the app's client credentials (invalid_client: Invalid"
    )
    assert caught.value.hint == (
        "run `rcauth login` with the app's current client secret (was it changed in the developer console?)"
    )


def test_every_request_asks_for_json_and_names_rcauth(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, json={})
        client.get_json(EXT)
    headers = m.request_history[0].headers
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("rcauth/") and "python-requests/" in headers["User-Agent"]


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_transient_failures_are_retried_only_where_nothing_can_be_done_twice(
    store: MemoryStore, scheme: str
) -> None:
    """502/503/504 and dropped connections: idempotent methods only, 6 retries, 30 s budget."""
    with ApiClient(store) as client:
        policy = client.http.get_adapter(f"{scheme}://platform.ringcentral.com/").max_retries
    assert (policy.total, policy.connect, policy.read, policy.status, policy.other) == (6, 6, 6, 6, 0)
    for method in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE"):
        assert policy.is_retry(method, 503) and policy.is_retry(method, 502) and policy.is_retry(method, 504)
    for method in ("POST", "PATCH"):
        assert not policy.is_retry(method, 503)
    for status in (400, 401, 403, 404, 429, 500, 501, 505):
        assert not policy.is_retry("GET", status)
    assert (policy.backoff_factor, policy.backoff_jitter, policy.backoff_max) == (0.2, 0.3, 8)
    assert (policy.respect_retry_after_header, policy.retry_after_max) == (True, 30)
    assert policy.raise_on_status is False
    assert policy.budget == 30.0


@pytest.mark.parametrize(("limit", "window", "tracked"), [(1, 1.0, True), (0, 5.0, False), (3, 0.0, False)])
def test_pacing_tracks_every_sane_limit_and_window(limit: int, window: float, tracked: bool) -> None:
    limiter = RateLimiter()
    answer = _limited(0)
    answer.headers.update({"X-Rate-Limit-Limit": str(limit), "X-Rate-Limit-Window": str(window)})
    limiter.observe(answer, sent_at=100.0, answered_at=100.1)
    assert limiter.delay("Heavy", 100.1) == (pytest.approx(window) if tracked else 0.0)


def test_pacing_ignores_answers_without_a_group_or_with_unreadable_headers() -> None:
    limiter = RateLimiter()
    ungrouped = _limited(0)
    del ungrouped.headers["X-Rate-Limit-Group"]
    limiter.observe(ungrouped, sent_at=100.0, answered_at=100.1)
    garbled = _limited(0)
    garbled.headers["X-Rate-Limit-Remaining"] = "none"
    limiter.observe(garbled, sent_at=100.0, answered_at=100.1)
    assert limiter.delay("Heavy", 100.1) == 0.0 and limiter.delay(None, 100.1) == 0.0


def test_a_sliding_window_whose_oldest_request_was_answered_exactly_a_window_before_is_shared() -> None:
    limiter = RateLimiter()
    limiter.observe(_limited(2), sent_at=100.0, answered_at=100.0)
    limiter.observe(_limited(1), sent_at=101.0, answered_at=101.0)
    limiter.observe(_limited(0), sent_at=105.0, answered_at=105.0)  # the oldest left as this one was sent
    assert limiter.delay("Heavy", 105.0) == pytest.approx(5.0)


def test_a_short_pacing_wait_is_slept_and_a_long_one_is_announced(store: MemoryStore) -> None:
    clock = FakeClock()
    announced: list[tuple[float, str]] = []
    on_wait = lambda s, reason: announced.append((s, reason))  # noqa: E731
    with ApiClient(store, on_wait=on_wait, sleep=clock.sleep) as client:
        client._wait(0.5, "pacing to stay under the rate limit")
        client._wait(1.0, "pacing to stay under the rate limit")
        client._wait(500, "rate limit reached (HTTP 429)")
    assert clock.sleeps == [0.5]
    assert announced == [
        (1.0, "pacing to stay under the rate limit"),
        (120.0, "rate limit reached (HTTP 429)"),
    ]


def test_without_a_listener_every_wait_is_slept(store: MemoryStore) -> None:
    clock = FakeClock()
    with requests_mock.Mocker() as m, ApiClient(store, sleep=clock.sleep) as client:
        m.get(EXT, [{"status_code": 429, "headers": {"Retry-After": "3"}, "json": {}}, {"json": {"id": 1}}])
        assert client.get_json(EXT) == {"id": 1}
    assert len(clock.sleeps) == 1 and 3 <= clock.sleeps[0] <= 3.25


def test_the_pacing_wait_says_why(store: MemoryStore) -> None:
    reasons: list[str] = []
    headers = {"X-Rate-Limit-Group": "Heavy", "X-Rate-Limit-Limit": "1", "X-Rate-Limit-Window": "5"}
    with requests_mock.Mocker() as m, ApiClient(store, on_wait=lambda s, r: reasons.append(r)) as client:
        m.get(CALLS, json={}, headers={**headers, "X-Rate-Limit-Remaining": "0"})
        client.get_json(CALLS)
        client.get_json(CALLS)
    assert reasons == ["pacing to stay under the rate limit"]


def test_requests_carry_the_clients_timeout_and_the_callers_arguments(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store, timeout=(3.0, 7.0)) as client:
        m.get(EXT, json={})
        client.get_json(EXT, params={"a": "1"}, stream=True)
    sent = m.request_history[0]
    assert sent.timeout == (3.0, 7.0)
    assert sent.qs == {"a": ["1"]} and sent.stream is True
    assert ApiClient(store).timeout == (10.0, 60.0)


def test_an_unreachable_server_names_the_host_and_the_failure(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, exc=requests.ConnectionError("refused"))
        with pytest.raises(TransportError) as caught:
            client.get_json(EXT)
    assert str(caught.value) == "could not reach platform.ringcentral.com: ConnectionError"


def test_the_debug_log_names_each_request_with_its_secrets_masked(
    store: MemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="rcauth.client")
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, json={})
        client.get_json(EXT + "?access_token=AT-in-the-url-1")
    assert f"GET {EXT}?access_token=*** -> 200" in caplog.text
    assert "AT-in-the-url-1" not in caplog.text


@pytest.mark.parametrize("status", [400, 404, 500])
def test_every_answer_of_400_and_up_is_an_error(store: MemoryStore, status: int) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, status_code=status, json={"errorCode": "CMN-101", "message": "Bad"})
        with pytest.raises(ApiError) as caught:
            client.get_json(EXT)
    assert (caught.value.status, caught.value.error_code, caught.value.message) == (status, "CMN-101", "Bad")


@pytest.mark.parametrize(
    ("body", "status", "code", "message", "hint"),
    [
        ({"errorCode": "CMN-102", "message": "Not found"}, 404, "CMN-102", "Not found", None),
        ({"errors": [{"errorCode": "CMN-101", "message": "Bad"}]}, 400, "CMN-101", "Bad", None),
        ({"error": "invalid_request", "error_description": "Nope"}, 400, "invalid_request", "Nope", None),
        ({"errorCode": "OAU-128", "message": "Expired"}, 401, "OAU-128", "Expired", LOGIN_HINT),
        ({}, 403, None, "Forbidden", None),
        (
            {"errors": [{"errorCode": "CMN-408", "permissionName": "ReadCallLog"}]},
            403,
            "CMN-408",
            "Forbidden",
            "your user or app lacks the ReadCallLog permission",
        ),
    ],
)
def test_an_api_error_keeps_ringcentrals_code_message_and_hint(body, status, code, message, hint) -> None:
    """`api_error` maps RingCentral's REST error JSON (errorCode, errors[], OAuth-style error)."""
    from rcauth.client import api_error

    answer = requests.Response()
    reasons = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
    answer.status_code, answer.reason = status, reasons[status]
    answer._content = json.dumps(body).encode()
    answer.headers["Content-Type"] = "application/json"
    error = api_error(answer)
    assert (error.status, error.error_code, error.message, error.hint) == (status, code, message, hint)


def test_an_answer_that_is_not_json_is_an_api_error(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, text="<html>portal</html>")
        with pytest.raises(ApiError) as caught:
            client.get_json(EXT)
    assert caught.value.message == "RingCentral answered with something that is not JSON"
    assert caught.value.status == 200


def test_paginate_sends_the_callers_filters_and_the_page_size(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json={"records": []})
        list(client.paginate(CALLS, {"view": "Simple"}))
        list(client.paginate(CALLS, {"view": "Simple"}, limit=5))
        list(client.paginate(CALLS, {"perPage": 7}, limit=5))
    assert [r.qs for r in m.request_history] == [
        {"view": ["simple"], "perpage": ["1000"]},
        {"view": ["simple"], "perpage": ["5"]},
        {"perpage": ["7"]},
    ]
    assert "perPage=1000" in m.request_history[0].url


def test_a_trailing_slash_of_a_path_is_kept(store: MemoryStore) -> None:
    with ApiClient(store) as client:
        assert client.url_for("/restapi/v1.0/account/~/") == SERVER + "/restapi/v1.0/account/~/"


def test_a_registered_token_echoed_in_an_api_error_is_masked_and_details_are_kept(
    store: MemoryStore,
) -> None:
    body = {"message": "Token AT-old-1 is invalid", "errors": [{"errorCode": "OAU-129", "message": "x"}]}
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, status_code=400, json=body)
        assert client.load_session().access_token == "AT-old-1"  # loading the session registers its tokens
        with pytest.raises(ApiError) as caught:
            client.get_json(EXT)
    assert caught.value.message == "Token *** is invalid"
    assert caught.value.details


def test_an_api_error_without_any_text_still_says_it_failed() -> None:
    from rcauth.client import api_error

    answer = requests.Response()
    answer.status_code, answer.reason, answer._content = 418, "", b""
    assert api_error(answer).message == "request failed"


class _CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    def load(self):
        self.loads += 1
        return super().load()


def test_a_refreshed_or_adopted_session_is_kept_without_reading_the_store_again() -> None:
    store = _CountingStore()
    store.save(session(expires_in=0))
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, json=new_pair())
        client.fresh_session()  # one load, one load under the lock
        before = store.loads
        assert client.load_session().access_token == "AT-new-2"
        store.save(session(access="AT-other-9", refresh="RT-other-9"))
        client.refresh(stale_access_token="AT-new-2")  # another process rotated meanwhile: adopt it
        assert client.load_session().access_token == "AT-other-9"
    assert store.loads == before + 1  # only the read under the lock


def test_the_default_profile_refreshes_under_its_own_lock(store: MemoryStore, isolated) -> None:
    store.save(session(expires_in=0))
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, json=new_pair())
        client.fresh_session()
    assert (isolated / "state" / "default.refresh.lock").exists()


def test_a_429_in_a_group_never_seen_and_an_answer_without_a_time_are_recorded() -> None:
    limiter = RateLimiter()
    limiter.observe(_limited(0, status=429), sent_at=100.0, answered_at=100.1)  # nothing to clear
    limiter.observe(_limited(0), sent_at=time.monotonic())  # answered now
    assert 4.0 < limiter.delay("Heavy", time.monotonic()) <= 5.0


def test_pacing_applies_to_the_path_whose_answers_named_the_group(store: MemoryStore) -> None:
    waits: list[float] = []
    headers = {"X-Rate-Limit-Group": "Heavy", "X-Rate-Limit-Limit": "1", "X-Rate-Limit-Window": "5"}
    with requests_mock.Mocker() as m, ApiClient(store, on_wait=lambda s, r: waits.append(s)) as client:
        m.get(CALLS, json={}, headers={**headers, "X-Rate-Limit-Remaining": "0"})
        m.get(EXT, json={})
        client.get_json(CALLS)
        client.get_json(EXT)  # another path, no group known for it: no wait
        assert waits == []
        client.get_json(CALLS)
    assert len(waits) == 1


def test_a_page_due_for_pacing_waits_for_the_window_before_it_is_asked_for(store: MemoryStore) -> None:
    waits: list[float] = []
    headers = {"X-Rate-Limit-Group": "Heavy", "X-Rate-Limit-Limit": "1", "X-Rate-Limit-Window": "5"}
    pages = [
        {"json": {"records": [{"id": 1}], "navigation": {"nextPage": {"uri": CALLS + "?page=2"}}}},
        {"json": {"records": [{"id": 2}]}},
    ]
    for page in pages:
        page["headers"] = {**headers, "X-Rate-Limit-Remaining": "0"}
    with requests_mock.Mocker() as m, ApiClient(store, on_wait=lambda s, r: waits.append(s)) as client:
        m.get(CALLS, pages)
        assert [r["id"] for r in client.paginate(CALLS, {})] == [1, 2]
    assert m.call_count == 2 and len(waits) == 1 and 4 < waits[0] <= 5


def test_a_pacing_wait_under_a_second_is_slept_before_sending(store: MemoryStore) -> None:
    clock = FakeClock()
    headers = {"X-Rate-Limit-Group": "Light", "X-Rate-Limit-Limit": "1", "X-Rate-Limit-Window": "0.5"}
    with requests_mock.Mocker() as m, ApiClient(store, sleep=clock.sleep) as client:
        m.get(EXT, json={}, headers={**headers, "X-Rate-Limit-Remaining": "0"})
        client.get_json(EXT)
        client.get_json(EXT)
    assert len(clock.sleeps) == 1 and 0 < clock.sleeps[0] <= 0.5


def test_a_later_page_that_cannot_be_reached_fails_after_the_records_before_it(store: MemoryStore) -> None:
    first = {"records": [{"id": 1}], "navigation": {"nextPage": {"uri": CALLS + "?page=2"}}}
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json=first)
        m.get(CALLS + "?page=2", exc=requests.ConnectionError("reset"))
        got: list[int] = []
        with pytest.raises(TransportError):
            got.extend(r["id"] for r in client.paginate(CALLS, {}))
    assert got == [1]
    assert m.call_count == 2


def _netrc_naming(tmp_path, monkeypatch: pytest.MonkeyPatch, host: str = "platform.ringcentral.com") -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {host} login someone password netrc-password\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))


def test_a_netrc_entry_for_the_server_does_not_replace_the_bearer_token(
    store: MemoryStore, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With no auth object, requests reads ~/.netrc ($NETRC) and sends its Basic credentials instead.
    _netrc_naming(tmp_path, monkeypatch)
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, json={"id": 101})
        assert client.get_json("/restapi/v1.0/account/~/extension/~") == {"id": 101}
    assert [r.headers["Authorization"] for r in m.request_history] == ["Bearer AT-old-1"]


def test_a_same_origin_redirect_keeps_the_bearer_token_whatever_netrc_says(
    store: MemoryStore, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _netrc_naming(tmp_path, monkeypatch)
    moved = SERVER + "/restapi/v1.0/account/~/extension/~/moved"
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, status_code=302, headers={"Location": moved})
        m.get(moved, json={"id": 101})
        assert client.get_json("/restapi/v1.0/account/~/extension/~") == {"id": 101}
    assert [r.headers["Authorization"] for r in m.request_history] == ["Bearer AT-old-1"] * 2


def test_headers_of_the_caller_are_sent_and_cannot_replace_the_bearer_token(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, json={"id": 101})
        headers = {"X-Trace": "t-1", "Authorization": "Basic c29tZW9uZTpwdw=="}
        assert client.get_json("/restapi/v1.0/account/~/extension/~", headers=headers) == {"id": 101}
    sent = m.request_history[0].headers
    assert (sent["X-Trace"], sent["Authorization"]) == ("t-1", "Bearer AT-old-1")


# -- mutation testing (session 4): what the surviving mutants of client.py showed unpinned ---------------
@pytest.mark.parametrize("left", [30.0, 0.5])
def test_a_session_without_a_refresh_token_uses_its_access_token_to_its_end(left: float) -> None:
    """An app that issues no refresh token: nothing can be renewed ahead, so the margin does not apply
    and the token is used while it is valid at all (ending the session early would lose its last
    minute)."""
    clock = FakeClock(1_900_000_000.0)
    store = MemoryStore()
    store.save(dataclasses.replace(session(left, now=clock.now), refresh_token=None, refresh_expires_at=None))
    with requests_mock.Mocker() as m, ApiClient(store, clock=clock.time) as client:
        m.get(EXT, json={"id": 101})
        assert client.get_json(EXT) == {"id": 101}
    assert [r.method for r in m.request_history] == ["GET"]
    assert m.request_history[0].headers["Authorization"] == "Bearer AT-old-1"
    assert store.load() is not None


def test_a_session_without_a_refresh_token_ends_when_its_access_token_expires() -> None:
    store = MemoryStore()
    store.save(dataclasses.replace(session(expires_in=0), refresh_token=None, refresh_expires_at=None))
    with requests_mock.Mocker() as m, ApiClient(store) as client, pytest.raises(SessionExpired) as caught:
        client.get_json(EXT)
    assert str(caught.value) == (
        "the session has ended: its access token expired and this app issues no refresh token"
    )
    assert caught.value.hint == LOGIN_HINT
    assert m.call_count == 0 and store.load() is None


def test_the_debug_log_says_when_the_refreshed_token_expires(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(1_900_000_000.0)
    caplog.set_level(logging.DEBUG, logger="rcauth.client")
    store = MemoryStore()
    store.save(session(0, now=clock.now))
    with requests_mock.Mocker() as m, ApiClient(store, clock=clock.time) as client:
        m.post(TOKEN_URL, json=new_pair())
        client.fresh_session()
    assert "refreshed the access token; it expires in 3600 s" in caplog.messages


def test_the_debug_log_names_every_page_request_the_same_way(
    store: MemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Each request is one debug line `METHOD url -> status`: the first page, every next one, a page
    asked for again after a 429."""
    caplog.set_level(logging.DEBUG, logger="rcauth.client")
    pages = _pages(3)
    limited = {"status_code": 429, "json": {}}
    with requests_mock.Mocker() as m, ApiClient(store, on_wait=lambda s, r: None) as client:
        m.get(CALLS, [{"json": pages[0]}, {"json": pages[1]}, limited, {"json": pages[2]}])
        assert len(list(client.paginate(CALLS, {}))) == 6
    assert [line for line in caplog.messages if " -> " in line] == [
        f"GET {CALLS} -> 200",
        f"GET {CALLS}?page=2&perPage=2 -> 200",
        f"GET {CALLS}?page=3&perPage=2 -> 429",
        f"GET {CALLS}?page=3&perPage=2 -> 200",
    ]


def test_a_foreign_next_page_link_says_the_listing_stops_there(store: MemoryStore) -> None:
    from rcauth.errors import ForeignOrigin

    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(
            CALLS,
            json={"records": [{"id": 1}], "navigation": {"nextPage": {"uri": "https://evil.example/p2"}}},
        )
        got: list[int] = []
        with pytest.raises(ForeignOrigin) as caught:
            got.extend(r["id"] for r in client.paginate(CALLS, {}))
    assert got == [1]
    assert caught.value.hint == "the next-page link RingCentral sent leads elsewhere; the listing stops here"


def test_a_slow_answer_is_not_taken_for_another_process_sharing_the_allowance(store: MemoryStore) -> None:
    """The sliding window is measured from when a request was sent: the 2nd request, sent at 101 and
    answered 5 s later, was counted after the 1st (answered at 100), which leaves the window at 105,
    so at 106 the 3rd may go at once. Taking the answer time for the send time would wait 5 s more."""
    clock = FakeClock(100.0)
    waits: list[float] = []
    headers = {"X-Rate-Limit-Group": "Heavy", "X-Rate-Limit-Limit": "2", "X-Rate-Limit-Window": "5"}

    def slow(request, context) -> dict:
        clock.now += 5.0
        context.headers.update({**headers, "X-Rate-Limit-Remaining": "0"})
        return {}

    on_wait = lambda s, r: waits.append(s)  # noqa: E731
    pacing = ApiClient(store, on_wait=on_wait, monotonic=clock.monotonic, sleep=clock.sleep)
    with requests_mock.Mocker() as m, pacing as client:
        m.get(
            CALLS,
            [
                {"json": {}, "headers": {**headers, "X-Rate-Limit-Remaining": "1"}},
                {"json": slow},
                {"json": {}, "headers": {**headers, "X-Rate-Limit-Remaining": "1"}},
            ],
        )
        client.get_json(CALLS)  # sent and answered at 100
        clock.now = 101.0
        client.get_json(CALLS)  # sent at 101, answered at 106
        client.get_json(CALLS)
    assert m.call_count == 3 and waits == [] and clock.sleeps == []


def test_waiting_for_another_rcauths_refresh_lock_is_in_the_debug_log(
    store: MemoryStore, isolated, caplog: pytest.LogCaptureFixture
) -> None:
    from rcauth.store import refresh_lock

    caplog.set_level(logging.DEBUG, logger="rcauth.client")
    store.save(session(expires_in=0))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with refresh_lock():  # another process's refresh (a separate lock file handle)
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(10)
    threading.Timer(0.3, release.set).start()
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.post(TOKEN_URL, json=new_pair())
        assert client.fresh_session().access_token == "AT-new-2"
    holder.join(10)
    assert "another rcauth holds the session's refresh lock: waiting for it" in caplog.messages


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ({"records": "abc"}, "RingCentral answered a page whose records are not a list"),
        (
            {"records": [], "navigation": {"nextPage": "text"}},
            "RingCentral answered a page whose next-page link is not a URL",
        ),
        (
            {"records": [], "navigation": {"nextPage": {"uri": 5}}},
            "RingCentral answered a page whose next-page link is not a URL",
        ),
    ],
)
def test_a_page_shaped_otherwise_is_an_api_error_not_an_empty_or_last_page(
    store: MemoryStore, page: dict, message: str
) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json=page)
        with pytest.raises(ApiError) as caught:
            list(client.paginate(CALLS))
    assert caught.value.message == message


ACCOUNT = SERVER + "/restapi/v1.0/account/~"
NO_LISTING = "does not answer with a listing: its answer has no records"


def test_a_resource_that_is_no_listing_is_an_api_error_not_an_empty_listing(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(ACCOUNT, json={"uri": ACCOUNT, "id": 37439510, "status": "Confirmed"})
        with pytest.raises(ApiError) as caught:
            list(client.paginate("/restapi/v1.0/account/~"))
    assert caught.value.message == f"/restapi/v1.0/account/~ {NO_LISTING}"
    assert caught.value.hint == (
        "only a list resource (one answering with `records`) can be paged: read this one whole"
    )


def test_a_next_page_without_records_ends_the_listing_with_an_error_after_the_records_before_it(
    store: MemoryStore,
) -> None:
    page1 = {"records": [{"id": "a"}], "navigation": {"nextPage": {"uri": CALLS + "?page=2"}}}
    listed = []
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, [{"json": page1}, {"json": {"navigation": {}}}])
        with pytest.raises(ApiError) as caught:
            listed.extend(client.paginate(CALLS))
    assert listed == [{"id": "a"}]
    assert caught.value.message == f"/restapi/v1.0/account/~/extension/~/call-log {NO_LISTING}"


def test_a_page_with_null_records_and_no_navigation_is_an_empty_last_page(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json={"records": None, "navigation": {"nextPage": None}})
        assert list(client.paginate(CALLS)) == []


def test_an_answer_whose_json_is_not_an_object_is_an_api_error(store: MemoryStore) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(EXT, json=[1, 2, 3])
        with pytest.raises(ApiError) as caught:
            client.get_json(EXT)
    assert caught.value.message == "RingCentral answered with JSON that is not an object"
    assert caught.value.status == 200


def _trickle_once(listener, pause: float) -> None:
    """Answer one request with a 100-byte JSON body, one byte every `pause` s (until hung up on)."""
    body = b'{"id": 101, "pad": "' + b"x" * 80
    body += b" " * (98 - len(body)) + b'"}'
    connection, _ = listener.accept()
    with connection:
        connection.recv(65536)
        try:
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            )
            for byte in body:
                connection.sendall(bytes([byte]))
                threading.Event().wait(pause)
        except OSError:
            pass


@pytest.mark.parametrize("streamed", [False, True], ids=["read", "streamed"])
def test_a_trickling_answer_is_hung_up_on_at_the_clients_deadline_unless_the_caller_streams_it(
    streamed: bool,
) -> None:
    """Each byte comes well within the per-read timeout; the whole answer would take 5 s, the client's
    budget is 0.4 s. A caller that asks to stream the answer reads the body itself, at its own pace."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        server = f"http://127.0.0.1:{listener.getsockname()[1]}"
        worker = threading.Thread(target=_trickle_once, args=(listener, 0.05), daemon=True)
        worker.start()
        store = MemoryStore()
        store.save(dataclasses.replace(session(), server=server))
        with ApiClient(store, answer_within=0.4) as client:
            started = time.monotonic()
            if streamed:
                response = client.request("GET", "/restapi/v1.0/account/~/extension/~", stream=True)
                assert time.monotonic() - started < 2.0 and response.status_code == 200  # headers only
                response.close()
            else:
                with pytest.raises(TransportError) as caught:
                    client.get_json("/restapi/v1.0/account/~/extension/~")
                assert time.monotonic() - started < 3.0
                assert caught.value.message.startswith(f"{server[7:]} did not finish its answer within ")
        worker.join(10)


@pytest.mark.parametrize(
    ("value", "budget"),
    [
        (None, 120.0),
        ("3", 3.0),
        ("0.5", 0.5),
        ("0", 120.0),
        ("-1", 120.0),
        ("inf", 120.0),
        ("nan", 120.0),
        ("soon", 120.0),
    ],
)
def test_rcauth_timeout_sets_the_budget_of_a_whole_answer_if_it_is_a_positive_number(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch, value: str | None, budget: float
) -> None:
    if value is None:
        monkeypatch.delenv("RCAUTH_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("RCAUTH_TIMEOUT", value)
    with ApiClient(store) as client:
        assert client.answer_within == budget
    with ApiClient(store, answer_within=7.0) as client:  # the caller's own budget wins
        assert client.answer_within == 7.0


def _late_answer(listener, head_after: float, body_after: float, pause: float) -> None:
    """Headers after `head_after` s, then a 100-byte body `body_after` s later, a byte every `pause` s."""
    connection, _ = listener.accept()
    with connection:
        connection.recv(65536)
        body = b'{"id": 101, "pad": "' + b"x" * 78 + b'"}'
        try:
            threading.Event().wait(head_after)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            )
            threading.Event().wait(body_after)
            for byte in body:
                connection.sendall(bytes([byte]))
                threading.Event().wait(pause)
        except OSError:
            pass


def _get_from(answer: tuple[float, float, float], budget: float) -> tuple[float, dict | TransportError]:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        worker = threading.Thread(target=_late_answer, args=(listener, *answer), daemon=True)
        worker.start()
        store = MemoryStore()
        store.save(dataclasses.replace(session(), server=f"http://127.0.0.1:{listener.getsockname()[1]}"))
        with ApiClient(store, answer_within=budget) as client:
            started = time.monotonic()
            try:
                got: dict | TransportError = client.get_json("/restapi/v1.0/account/~/extension/~")
            except TransportError as exc:
                got = exc
            took = time.monotonic() - started
        worker.join(10)
    return took, got


def test_an_answer_slower_than_a_read_but_within_the_budget_is_returned_whole() -> None:
    took, got = _get_from((0.0, 0.3, 0.0), budget=5.0)
    assert isinstance(got, dict) and got["id"] == 101


def test_the_time_to_the_headers_counts_against_the_budget_of_the_answer() -> None:
    """Headers after 1 s, then a body that would take 5 s, on a 1.2 s budget: hung up on 1.2 s after
    the request was sent, not 1.2 s after the headers came."""
    took, got = _get_from((1.0, 0.0, 0.05), budget=1.2)
    assert isinstance(got, TransportError) and "did not finish its answer within" in got.message
    assert took < 2.1


def test_a_limit_of_zero_lists_nothing_and_sends_nothing_and_a_negative_one_is_refused(
    store: MemoryStore,
) -> None:
    """`limit=0` asks for no record: it once yielded one (and asked for a page of 1000). A negative
    limit is a mistake in the caller's code, said as such, not a RingCentral error about perPage."""
    page = {"records": [{"id": 1}, {"id": 2}], "navigation": {}}
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CALLS, json=page)
        assert list(client.paginate(CALLS, {}, limit=0)) == []
        with pytest.raises(ValueError, match="limit must be 0 or more"):
            list(client.paginate(CALLS, {}, limit=-5))
        assert m.call_count == 0
        assert [r["id"] for r in client.paginate(CALLS, {}, limit=1)] == [1]
        assert m.last_request.qs["perpage"] == ["1"]  # requests-mock lowercases the query


# -- issue 20, session 10: what the survivors of client.py after issue 21's rewrite showed unpinned -------
# `clock` decides every expiry (the docstring of `ApiClient`): a client whose clock is far from the wall's
# must reach the same decisions inside the refresh lock as `fresh_session` reached outside it.
PAST = 1_000_000_000.0  # 2001: on the wall's clock every token made then is long over
FUTURE = 4_000_000_000.0  # 2096: on the wall's clock every token made then is still to come


def test_a_pair_another_process_rotated_is_judged_fresh_on_the_clients_clock() -> None:
    clock = FakeClock(PAST)
    store = MemoryStore()
    store.save(session(expires_in=0, now=clock.now))
    with requests_mock.Mocker() as m, ApiClient(store, clock=clock.time) as client:
        m.get(EXT, json={})
        assert client.load_session().access_token == "AT-old-1"  # loaded: stale
        store.save(session(access="AT-other-9", refresh="RT-other-9", now=clock.now))  # rotated elsewhere
        client.get_json(EXT)
    assert [r.method for r in m.request_history] == ["GET"]  # no second refresh spent
    assert m.request_history[0].headers["Authorization"] == "Bearer AT-other-9"


def test_a_refresh_token_alive_on_the_clients_clock_is_used_whatever_the_wall_clock_says() -> None:
    clock = FakeClock(PAST)
    store = MemoryStore()
    store.save(session(expires_in=0, now=clock.now))  # its refresh token good for 7 days from then
    with requests_mock.Mocker() as m, ApiClient(store, clock=clock.time) as client:
        m.post(TOKEN_URL, json=new_pair())
        m.get(EXT, json={})
        client.get_json(EXT)
    assert [r.method for r in m.request_history] == ["POST", "GET"]
    assert store.load().refresh_token == "RT-new-2"


def test_a_refresh_token_ended_on_the_clients_clock_ends_the_session_without_a_request() -> None:
    clock = FakeClock(FUTURE)
    store = MemoryStore()
    store.save(dataclasses.replace(session(expires_in=0, now=clock.now), refresh_expires_at=clock.now - 1))
    with requests_mock.Mocker() as m, ApiClient(store, clock=clock.time) as client:
        m.post(TOKEN_URL, json=new_pair())
        with pytest.raises(SessionExpired, match="refresh token is no longer valid"):
            client.get_json(EXT)
    assert m.call_count == 0 and store.load() is None


class _UncheckedStore(MemoryStore):
    """Hands over a session as it was made, past `Session.from_json`'s checks: what a token no check
    caught would do when sent (its secrets registered, as every store registers them)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def load(self) -> Session | None:
        from rcauth import redact

        redact.register(*self.session.secrets)
        return self.session


@pytest.mark.parametrize(
    ("header", "token"),
    [
        # http.client refuses it: requests checks the caller's headers, not the one an auth object sets
        ({}, "AT-unsendable-1\n"),
        ({}, "AT-unsendable-1\r\nX-Injected: 1"),
        ({"X-Trace": "AT-unsendable-1\n"}, "AT-unsendable-1"),  # a caller's header: requests' InvalidHeader
    ],
)
def test_a_request_that_cannot_be_sent_is_a_transport_error_that_never_shows_the_token(
    header: dict, token: str
) -> None:
    """Both requests and http.client say a header they refuse as a repr of it; what reaches the
    caller is one `TransportError` with the token masked in that form too, and no original error
    kept as its context (before, a raw ValueError showing `Bearer <token>\\n`)."""
    from helpers import free_port

    server = f"http://127.0.0.1:{free_port()}"
    with ApiClient(_UncheckedStore(make_session(server=server, access_token=token))) as client:
        with pytest.raises(TransportError) as caught:
            client.get_json("/restapi/v1.0/account/~", headers=header)
    said = str(caught.value)
    assert said.startswith(f"could not send the request to 127.0.0.1:{server.rsplit(':', 1)[1]}: ")
    assert "AT-unsendable" not in said and "***" in said
    assert caught.value.__context__ is None and caught.value.__cause__ is None


# -- the media origin: recordings' content URLs -----------------------------------------------------------
MEDIA = "https://media.ringcentral.com"
CONTENT = "/restapi/v1.0/account/37439510/recording/401/content"


def test_a_content_url_on_productions_media_host_carries_the_token_for_a_session_stored_without_one(
    store: MemoryStore,
) -> None:
    """Sessions stored before media servers existed have no `media_server`: production's pair is a
    fact about the server, so theirs work too."""
    assert store.load().media_server is None
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(MEDIA + CONTENT, content=b"ID3\x00audio", headers={"Content-Type": "audio/mpeg"})
        answer = client.request("GET", "https://MEDIA.ringcentral.com." + CONTENT)
    assert answer.content == b"ID3\x00audio"
    (sent,) = m.request_history
    assert sent.url == MEDIA + CONTENT and sent.headers["Authorization"] == "Bearer AT-old-1"


@pytest.mark.parametrize(
    "url",
    [
        "https://media.ringcentral.com.evil.example" + CONTENT,
        "https://media.ringcentral.com@evil.example" + CONTENT,
        "http://media.ringcentral.com" + CONTENT,
        "https://media.ringcentral.com:8443" + CONTENT,
        "https://m\u0435dia.ringcentral.com" + CONTENT,  # a Cyrillic "е"
        "https://media.devtest.ringcentral.com" + CONTENT,
    ],
)
def test_look_alikes_of_the_media_host_get_nothing(store: MemoryStore, url: str) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.register_uri(requests_mock.ANY, requests_mock.ANY, json={})
        with pytest.raises(ForeignOrigin) as caught:
            client.request("GET", url)
    assert m.request_history == []
    assert (
        f"{SERVER} or its media server {MEDIA}" in caught.value.why or "user information" in caught.value.why
    )


def test_another_servers_media_host_is_the_one_configured_at_login_and_no_other() -> None:
    sandbox, media = "https://platform.devtest.ringcentral.com", "https://media.devtest.example"
    store = MemoryStore()
    store.save(make_session(server=sandbox, access_token="AT-old-1"))
    with requests_mock.Mocker() as m, ApiClient(store) as client, pytest.raises(ForeignOrigin):
        client.request("GET", media + CONTENT)  # not configured: never guessed
    assert m.request_history == []
    store.save(make_session(server=sandbox, media_server=media, access_token="AT-old-1"))
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(media + CONTENT, content=b"RIFF")
        assert client.request("GET", media + CONTENT).content == b"RIFF"
        with pytest.raises(ForeignOrigin):
            client.request("GET", MEDIA + CONTENT)  # production's media host is not the sandbox's
    assert [r.url for r in m.request_history] == [media + CONTENT]


def test_a_redirect_from_the_media_host_to_another_origin_is_refused_before_it_is_sent(
    store: MemoryStore,
) -> None:
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(MEDIA + CONTENT, status_code=302, headers={"Location": "https://evil.example/steal"})
        m.get("https://evil.example/steal", content=b"")
        with pytest.raises(ForeignOrigin, match="redirected there"):
            client.request("GET", MEDIA + CONTENT)
    assert [r.netloc for r in m.request_history] == ["media.ringcentral.com"]


def test_a_streamed_error_answer_is_read_and_raised_with_ringcentrals_code(store: MemoryStore) -> None:
    body = {"errorCode": "CMN-102", "message": "Resource for parameter [recordingId] is not found"}
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(MEDIA + CONTENT, status_code=404, json=body)
        with pytest.raises(ApiError) as caught, client.streamed("GET", MEDIA + CONTENT):
            pass
    assert (caught.value.status, caught.value.error_code) == (404, "CMN-102")


# -- downloads: streamed to a temp file beside the target, renamed once whole --------------------------------


def _content_server(
    body: bytes, *, send: int | None = None, pause: threading.Event | None = None, seen: list | None = None
):
    """A media host on loopback: `body` at any path (Content-Length: all of it); only its first `send`
    bytes are sent when given (the connection then closes), and it waits for `pause` half-way. Each
    request's Authorization header is added to `seen`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if seen is not None:
                seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            cut = body[: send if send is not None else len(body)]
            half = len(cut) // 2
            self.wfile.write(cut[:half])
            self.wfile.flush()
            if pause is not None:
                pause.wait(10)
            self.wfile.write(cut[half:])
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _downloading_client(media: str) -> ApiClient:
    store = MemoryStore()
    store.save(make_session(server="http://127.0.0.1:9", media_server=media, access_token="AT-old-1"))
    return ApiClient(store)


def test_a_download_is_written_in_chunks_under_a_temp_name_and_renamed_once_whole(tmp_path) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB
    halfway = threading.Event()
    seen_halfway: list[list[str]] = []
    target = tmp_path / "call.mp3"
    seen: list[str] = []
    handler = _content_server(body, pause=halfway, seen=seen)
    with serving(handler) as media, _downloading_client(media) as client:

        def look() -> None:  # while the server holds back the second half
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                names = sorted(p.name for p in tmp_path.iterdir())
                if names and all(p.stat().st_size > 0 for p in tmp_path.iterdir()):
                    break
                time.sleep(0.02)
            seen_halfway.append(names)
            halfway.set()

        watcher = threading.Thread(target=look)
        watcher.start()
        written = client.download(media + CONTENT, target)
        watcher.join(10)
    assert written == len(body) and target.read_bytes() == body
    assert seen == ["Bearer AT-old-1"]
    (names,) = seen_halfway
    assert len(names) == 1 and names[0].startswith(".call.mp3.") and names[0].endswith(".tmp"), names
    assert sorted(p.name for p in tmp_path.iterdir()) == ["call.mp3"]
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_a_body_cut_off_part_way_leaves_no_file_at_all(tmp_path) -> None:
    body = b"x" * 200_000
    with serving(_content_server(body, send=120_000)) as media, _downloading_client(media) as client:
        with pytest.raises(TransportError, match="cut off part-way"):
            client.download(media + CONTENT, tmp_path / "call.mp3")
    assert list(tmp_path.iterdir()) == []


def test_a_download_never_replaces_a_file_unless_asked_and_sends_nothing_then(tmp_path) -> None:
    target = tmp_path / "call.mp3"
    target.write_bytes(b"mine")
    seen: list[str] = []
    handler = _content_server(b"new content", seen=seen)
    with serving(handler) as media, _downloading_client(media) as client:
        with pytest.raises(FileExistsError):
            client.download(media + CONTENT, target)
        assert target.read_bytes() == b"mine" and seen == []
        assert client.download(media + CONTENT, target, replace=True) == len(b"new content")
    assert target.read_bytes() == b"new content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["call.mp3"]


# -- resuming a download: `fetch_part` ---------------------------------------------------------------------
BODY = b"0123456789"


def _fetch(
    store: MemoryStore, tmp_path: Path, kept: bytes | None, *answers: dict
) -> tuple[object, list, Path]:
    part = tmp_path / "call.mp3.part"
    if kept is not None:
        part.write_bytes(kept)
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(MEDIA + CONTENT, list(answers))
        fetched = client.fetch_part(MEDIA + CONTENT, part if kept is not None else None, lambda kind: part)
    return fetched, m.request_history, part


LONG = bytes(range(256)) * 40  # 10,240 bytes: longer than the overlap a resumed download asks for again


def test_a_part_is_continued_with_a_range_that_overlaps_its_end_and_the_rest_appended(
    store: MemoryStore, tmp_path: Path
) -> None:
    # The range starts RESUME_OVERLAP bytes before the part's end: those bytes must be the part's own.
    tail = {"Content-Range": "bytes 1904-10239/10240"}
    answer = {"status_code": 206, "content": LONG[6000 - 4096 :], "headers": tail}
    fetched, sent, part = _fetch(store, tmp_path, LONG[:6000], answer)
    assert part.read_bytes() == LONG and (fetched.size, fetched.resumed_from) == (10240, 6000)
    assert [r.headers.get("Range") for r in sent] == ["bytes=1904-"]
    assert sent[0].headers["Accept-Encoding"] == "identity"  # the lengths are the file's


def test_a_part_of_another_body_is_found_out_by_the_overlap_and_the_content_fetched_whole(
    store: MemoryStore, tmp_path: Path
) -> None:
    # The recording changed since the part was saved (or a file was put there): no validator needed.
    changed = bytes(255 - b for b in LONG)
    tail = {"Content-Range": "bytes 1904-10239/10240"}
    overlap = {"status_code": 206, "content": changed[1904:], "headers": tail}
    whole = {"status_code": 200, "content": changed, "headers": {"Content-Length": "10240"}}
    fetched, sent, part = _fetch(store, tmp_path, LONG[:6000], overlap, whole)
    assert part.read_bytes() == changed and fetched.resumed_from == 0
    assert [r.headers.get("Range") for r in sent] == ["bytes=1904-", None]


def test_a_short_part_is_checked_whole_from_byte_0_and_a_whole_part_confirmed_without_appending(
    store: MemoryStore, tmp_path: Path
) -> None:
    answer = {"status_code": 206, "content": BODY, "headers": {"Content-Range": "bytes 0-9/10"}}
    fetched, sent, part = _fetch(store, tmp_path, BODY[:4], answer)
    assert part.read_bytes() == BODY and (fetched.size, fetched.resumed_from) == (10, 4)
    assert [r.headers.get("Range") for r in sent] == ["bytes=0-"]
    fetched, sent, part = _fetch(store, tmp_path, BODY, answer)  # already whole: the same bytes again
    assert part.read_bytes() == BODY and (fetched.size, fetched.resumed_from) == (10, 10)


def test_a_server_ignoring_the_range_answers_200_and_the_part_is_written_again_from_the_start(
    store: MemoryStore, tmp_path: Path
) -> None:
    answer = {"status_code": 200, "content": BODY, "headers": {"Content-Length": "10"}}
    fetched, sent, part = _fetch(store, tmp_path, b"XXXX", answer)
    assert part.read_bytes() == BODY and (fetched.size, fetched.resumed_from) == (10, 0)


def test_a_part_of_the_right_length_but_other_bytes_is_never_taken_for_the_recording(
    store: MemoryStore, tmp_path: Path
) -> None:
    # A 416 "bytes */10" once made any 10 bytes in the part "whole": random bytes saved as the recording.
    confirm = {"status_code": 206, "content": BODY, "headers": {"Content-Range": "bytes 0-9/10"}}
    whole = {"status_code": 200, "content": BODY, "headers": {"Content-Length": "10"}}
    fetched, sent, part = _fetch(store, tmp_path, b"XXXXXXXXXX", confirm, whole)
    assert part.read_bytes() == BODY and fetched.resumed_from == 0 and len(sent) == 2


def test_a_416_naming_another_length_removes_the_part_and_asks_for_the_whole(
    store: MemoryStore, tmp_path: Path
) -> None:
    refused = {"status_code": 416, "headers": {"Content-Range": "bytes */10"}}
    whole = {"status_code": 200, "content": BODY, "headers": {"Content-Length": "10"}}
    fetched, sent, part = _fetch(store, tmp_path, BODY + b"??", refused, whole)
    assert part.read_bytes() == BODY and fetched.resumed_from == 0
    assert [r.headers.get("Range") for r in sent] == ["bytes=0-", None]


def test_a_206_for_another_range_than_asked_is_an_error_not_appended(
    store: MemoryStore, tmp_path: Path
) -> None:
    answer = {"status_code": 206, "content": BODY[2:], "headers": {"Content-Range": "bytes 2-9/10"}}
    with pytest.raises(ApiError, match="another range than the one asked for"):
        _fetch(store, tmp_path, BODY[:4], answer)  # asked from byte 0 (the whole part overlaps)
    assert not (tmp_path / "call.mp3.part").exists()  # not kept to be refused again by every later run


def test_a_body_shorter_than_its_content_length_is_not_kept(store: MemoryStore, tmp_path: Path) -> None:
    answer = {"status_code": 200, "content": BODY[:7], "headers": {"Content-Length": "10"}}
    with pytest.raises(ApiError, match="the content is 7 bytes where the server said 10; not kept"):
        _fetch(store, tmp_path, None, answer)
    assert not (tmp_path / "call.mp3.part").exists()


def test_a_body_ended_by_closing_the_connection_is_confirmed_by_a_range_for_its_last_bytes(
    store: MemoryStore, tmp_path: Path
) -> None:
    """No Content-Length and no chunked framing: a cut looks the same as the end. One range request for
    the last bytes learns the length (Content-Range) and checks them; a body that was cut is finished."""
    whole = {"status_code": 200, "content": LONG}  # requests-mock adds no Content-Length
    last = {"Content-Range": "bytes 6144-10239/10240"}
    confirm = {"status_code": 206, "content": LONG[6144:], "headers": last}
    fetched, sent, part = _fetch(store, tmp_path, None, whole, confirm)
    assert part.read_bytes() == LONG and (fetched.size, fetched.resumed_from) == (10240, 0)
    assert [r.headers.get("Range") for r in sent] == [None, "bytes=6144-"]

    cut = {"status_code": 200, "content": LONG[:6000]}
    tail = {"Content-Range": "bytes 1904-10239/10240"}
    rest = {"status_code": 206, "content": LONG[1904:], "headers": tail}
    fetched, sent, part = _fetch(store, tmp_path, None, cut, rest)
    assert part.read_bytes() == LONG and (fetched.size, fetched.resumed_from) == (10240, 0)


def test_a_body_of_no_stated_length_from_a_server_without_ranges_is_not_kept(
    store: MemoryStore, tmp_path: Path
) -> None:
    again = {"status_code": 200, "content": LONG}
    with pytest.raises(ApiError, match="neither how long the content is nor answers a range"):
        _fetch(store, tmp_path, None, again, again)
    assert not (tmp_path / "call.mp3.part").exists()


def test_a_chunked_body_is_whole_by_its_framing_and_needs_no_second_request(
    store: MemoryStore, tmp_path: Path
) -> None:
    answer = {"status_code": 200, "content": LONG, "headers": {"Transfer-Encoding": "chunked"}}
    fetched, sent, part = _fetch(store, tmp_path, None, answer)
    assert part.read_bytes() == LONG and fetched.size == 10240 and len(sent) == 1


def test_a_body_of_no_stated_length_is_cut_at_the_cap_and_not_kept(
    store: MemoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An endless body (a proxy's stream, a hostile server) would fill the disk: past the cap it stops."""
    monkeypatch.setattr(client_module, "UNSIZED_BODY_MAX", 5000)
    answer = {"status_code": 200, "content": LONG, "headers": {"Transfer-Encoding": "chunked"}}
    with pytest.raises(ApiError, match="without saying how long the content is; not kept"):
        _fetch(store, tmp_path, None, answer)
    assert not (tmp_path / "call.mp3.part").exists()


def test_a_range_answer_longer_than_its_content_range_is_not_appended(
    store: MemoryStore, tmp_path: Path
) -> None:
    answer = {"status_code": 206, "content": BODY + b"more", "headers": {"Content-Range": "bytes 0-9/10"}}
    with pytest.raises(ApiError, match="longer than the 10 bytes the server said"):
        _fetch(store, tmp_path, BODY[:4], answer)
    assert not (tmp_path / "call.mp3.part").exists()


def test_a_resumable_download_keeps_its_part_when_cut_off_and_never_names_it_final(tmp_path) -> None:
    body = b"x" * 200_000
    target = tmp_path / "call.mp3"
    with serving(_content_server(body, send=120_000)) as media, _downloading_client(media) as client:
        with pytest.raises(TransportError, match="cut off part-way"):
            client.download(media + CONTENT, target, resume=True)
    assert [p.name for p in tmp_path.iterdir()] == ["call.mp3.part"]
    # Every byte that arrived before the cut is kept for the next run, not the chunk it was filling.
    assert (tmp_path / "call.mp3.part").stat().st_size == 120_000


def test_a_part_that_is_a_symbolic_link_is_never_written_through(store: MemoryStore, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"keep")
    (tmp_path / "call.mp3.part").symlink_to(elsewhere)
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(MEDIA + CONTENT, status_code=200, content=BODY, headers={"Content-Length": "10"})
        with pytest.raises(OSError):
            client.fetch_part(MEDIA + CONTENT, None, lambda kind: tmp_path / "call.mp3.part")
    assert elsewhere.read_bytes() == b"keep"


def test_content_urls_of_different_recordings_share_one_rate_limit_pacing(store: MemoryStore) -> None:
    """RingCentral throttles by operation: what one recording's answer said about the Heavy group holds
    for the next recording, asked for the first time."""
    limits = {
        "X-Rate-Limit-Group": "heavy",
        "X-Rate-Limit-Limit": "10",
        "X-Rate-Limit-Remaining": "0",
        "X-Rate-Limit-Window": "60",
    }
    waits: list[float] = []
    with requests_mock.Mocker() as m, ApiClient(store, on_wait=lambda s, r: waits.append(s)) as client:
        m.get(MEDIA + "/restapi/v1.0/account/1/recording/401/content", content=b"a", headers=limits)
        m.get(MEDIA + "/restapi/v1.0/account/1/recording/402/content", content=b"b", headers=limits)
        client.request("GET", MEDIA + "/restapi/v1.0/account/1/recording/401/content")
        client.request("GET", MEDIA + "/restapi/v1.0/account/1/recording/402/content")
    assert len(waits) == 1 and waits[0] > 50


def test_a_body_is_read_the_same_where_urllib3_has_no_read1(store: MemoryStore, tmp_path: Path) -> None:
    """urllib3 before 2.3 has no `read1`: requests' `iter_content` reads the body instead, whole."""
    from rcauth.client import body_chunks

    class WithoutRead1:  # urllib3 1.26's response, as requests reads it
        def __init__(self, raw: Any) -> None:
            self._raw = raw

        def stream(self, amount: int, decode_content: bool) -> Any:
            return self._raw.stream(amount, decode_content=decode_content)

        def close(self) -> None:
            self._raw.close()

    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(MEDIA + CONTENT, content=LONG * 20, headers={"Content-Length": str(len(LONG) * 20)})
        with client.streamed("GET", MEDIA + CONTENT) as response:
            response.raw = WithoutRead1(response.raw)
            assert b"".join(body_chunks(response)) == LONG * 20


def test_a_body_that_stalls_is_hung_up_on_though_each_read_comes_in_time(
    store: MemoryStore, tmp_path: Path
) -> None:
    """A byte every 50 ms keeps every read within its timeout; a recording's body has no deadline as a
    whole, but one that brings less than STALL_BYTES in the window has stalled."""
    import socket

    from rcauth.client import body_chunks

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def trickle() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                for _ in range(200):
                    connection.sendall(b"x")
                    time.sleep(0.05)
            except OSError:
                return

    threading.Thread(target=trickle, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/content"
    started = time.monotonic()
    with listener, requests.get(url, stream=True, timeout=10) as response:
        with pytest.raises(TransportError, match=r"stalled part-way: less than 64 KiB in 0.4 s"):
            for _ in body_chunks(response, stall_after=0.4):
                pass
    assert time.monotonic() - started < 3  # at the window's end, not when the body is done (10 s)
