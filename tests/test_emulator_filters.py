"""The emulator's call-log and extension-list filters and its deleted call-log records, over real HTTP.

RingCentral's spec (the vendored subset): call logs take `showDeleted` (default false: deleted records are
listed only when asked for, with `deleted: true`), `phoneNumber`, `extensionNumber`, `recordingType`,
`withRecording`, `sessionId`, `telephonySessionId`, and for the user's own log `showBlocked` (default true)
and `transport`; the extension list takes `status`, `type`, `email` and `extensionNumber`. Totals count the
filtered set, navigation links keep the filters, and a bad value is 400 CMN-101 naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from helpers import jwt_token

from ringcentral_emulator import Emulator, EmulatorConfig
from tests.contract import contract

FAR_PAST = "2000-01-01T00:00:00.000Z"
USER_LOG = "/account/~/extension/~/call-log"
ACCOUNT_LOG = "/account/~/call-log"
PREFIX = "/restapi/v1.0/account/{accountId}"
SPEC_PATHS = (  # the vendored operations, by the request paths that reach them
    (
        re.compile(r"/restapi/v1\.0/account/[^/]+/extension/[^/]+/call-log"),
        f"{PREFIX}/extension/{{extensionId}}/call-log",
    ),
    (re.compile(r"/restapi/v1\.0/account/[^/]+/call-log"), f"{PREFIX}/call-log"),
    (re.compile(r"/restapi/v1\.0/account/[^/]+/extension"), f"{PREFIX}/extension"),
    (re.compile(r"/restapi/v1\.0/account/[^/]+/call-log/[^/]+"), f"{PREFIX}/call-log/{{callRecordId}}"),
    (
        re.compile(r"/restapi/v1\.0/account/[^/]+/extension/[^/]+/call-log/[^/]+"),
        f"{PREFIX}/extension/{{extensionId}}/call-log/{{callRecordId}}",
    ),
)
RECORDS = 1000  # the user's log; the account's holds 2000 visible records


class Api:
    def __init__(self, emu: Emulator, http: requests.Session, access: str) -> None:
        self.emu, self.http, self.access = emu, http, access

    def get(self, path: str, **params: Any) -> requests.Response:
        url = path if path.startswith("http") else f"{self.emu.base_url}/restapi/v1.0{path}"
        answer = self.http.get(
            url, headers={"Authorization": f"Bearer {self.access}"}, params=params, timeout=30
        )
        spec_path = next(
            (spec for pattern, spec in SPEC_PATHS if pattern.fullmatch(urlsplit(url).path)), None
        )
        if spec_path is not None:  # every answer here matches the schema the spec documents for it
            assert contract.errors_for_response(answer.json(), spec_path, "get", answer.status_code) == []
        return answer

    def body(self, path: str, **params: Any) -> dict[str, Any]:
        answer = self.get(path, **params)
        assert answer.status_code == 200, answer.text[:300]
        return answer.json()

    def everything(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every record of a query, following nextPage."""
        body = self.body(path, dateFrom=FAR_PAST, perPage="max", **params)
        records = list(body["records"])
        while "nextPage" in body["navigation"]:
            body = self.body(body["navigation"]["nextPage"]["uri"])
            records += body["records"]
        assert len(records) == body["paging"]["totalElements"]
        return records


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    config = EmulatorConfig(rate_limits_enabled=False, call_records=RECORDS, anchor_time=1_750_000_000.0)
    with Emulator(config) as emu, requests.Session() as http:
        http.trust_env = False
        yield Api(emu, http, jwt_token(emu, http)["access_token"])


@pytest.fixture(scope="module")
def user_log(api: Api) -> list[dict[str, Any]]:
    return api.everything(USER_LOG)


@pytest.fixture(scope="module")
def account_log(api: Api) -> list[dict[str, Any]]:
    return api.everything(ACCOUNT_LOG)


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in records]


def walk(api: Api, path: str, per_page: int, **params: Any) -> list[list[dict[str, Any]]]:
    """The pages of a query, page 1 then nextPage links, each checked to carry the query's parameters."""
    body = api.body(path, dateFrom=FAR_PAST, perPage=per_page, **params)
    pages = [body["records"]]
    while "nextPage" in body["navigation"]:
        link = body["navigation"]["nextPage"]["uri"]
        query = parse_qs(urlsplit(link).query)
        for name, value in params.items():
            assert query[name] == (value if isinstance(value, list) else [str(value)]), (name, link)
        body = api.body(link)
        pages.append(body["records"])
    assert len(pages) == body["paging"]["totalPages"]
    return pages


# -- deleted records ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [USER_LOG, ACCOUNT_LOG])
def test_deleted_records_are_hidden_by_default_and_listed_with_show_deleted_true(api, path):
    visible = api.everything(path)
    assert len(visible) == (RECORDS if path == USER_LOG else 2 * RECORDS)  # the configured sizes, as before
    assert not any(r["deleted"] for r in visible)
    assert api.body(path, dateFrom=FAR_PAST, showDeleted="false")["paging"]["totalElements"] == len(visible)

    shown = api.everything(path, showDeleted="true")
    deleted = [r for r in shown if r["deleted"] is True]
    # About one record in 16 more, interleaved in time: newest first, no two at the same moment.
    assert len(visible) // 20 < len(deleted) < len(visible) // 12
    assert [r for r in shown if r["deleted"] is False] == visible
    assert ids(shown).index(deleted[0]["id"]) < len(shown) // 10
    times = [r["startTime"] for r in shown]
    assert times == sorted(times, reverse=True) and len(set(times)) == len(times)
    assert len(set(ids(shown))) == len(shown)


def test_the_users_deleted_records_are_the_company_logs_deleted_records_of_the_user(api):
    me = api.body("/account/~/extension/~")["id"]
    mine = [r for r in api.everything(USER_LOG, showDeleted="true") if r["deleted"]]
    company = [r for r in api.everything(ACCOUNT_LOG, showDeleted="true") if r["deleted"]]
    assert ids(mine) == ids([r for r in company if r["extension"]["id"] == me])
    assert len(mine) < len(company)  # colleagues' calls are deleted too


def test_show_deleted_pages_hold_every_record_once_with_the_filters_kept(api):
    params = {"showDeleted": "true", "type": "Voice", "direction": "Inbound"}
    expected = [
        r
        for r in api.everything(USER_LOG, showDeleted="true")
        if (r["type"], r["direction"]) == ("Voice", "Inbound")
    ]
    assert any(r["deleted"] for r in expected)
    pages = walk(api, USER_LOG, 37, **params)
    assert all(len(page) == 37 for page in pages[:-1])
    assert [r["id"] for page in pages for r in page] == ids(expected)


def test_a_date_range_between_two_visible_records_can_hold_just_the_deleted_record(api):
    shown = api.everything(USER_LOG, showDeleted="true")
    k = next(i for i, r in enumerate(shown) if r["deleted"] and i > 0)
    window = {"dateFrom": shown[k]["startTime"], "dateTo": shown[k - 1]["startTime"]}
    assert api.body(USER_LOG, **window)["paging"]["totalElements"] == 0
    body = api.body(USER_LOG, showDeleted="true", **window)
    assert ids(body["records"]) == [shown[k]["id"]] and body["paging"]["totalElements"] == 1


@pytest.mark.parametrize("path", [USER_LOG, ACCOUNT_LOG])
def test_a_deleted_record_is_not_found_by_its_id_while_a_visible_one_is(api, path):
    shown = api.body(path, dateFrom=FAR_PAST, showDeleted="true", perPage=100)["records"]
    gone = next(r for r in shown if r["deleted"])
    kept = next(r for r in shown if not r["deleted"])
    answer = api.get(gone["uri"])
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["errorCode"] == "CMN-102"
    assert answer.json()["errors"][0]["parameterName"] == "callRecordId"
    assert api.body(kept["uri"]) == kept


def test_deleted_records_are_deterministic_for_a_seed(api):
    first = [r["id"] for r in api.everything(USER_LOG, showDeleted="true") if r["deleted"]]
    assert first
    config = EmulatorConfig(rate_limits_enabled=False, call_records=RECORDS, anchor_time=1_750_000_000.0)
    with Emulator(config) as again, requests.Session() as http:
        token = jwt_token(again, http)["access_token"]
        other = Api(again, http, token).everything(USER_LOG, showDeleted="true")
    assert [r["id"] for r in other if r["deleted"]] == first


# -- content filters ---------------------------------------------------------------------------------

Values = dict[str, str]  # values taken from the data: a caller's number, a colleague's extension, ids
Predicate = Callable[[dict[str, Any], Values], bool]


def _party_numbers(record: dict[str, Any]) -> set[str]:
    return {record[side].get("phoneNumber", "").removeprefix("+") for side in ("from", "to")} - {""}


def _owner(record: dict[str, Any]) -> dict[str, Any]:
    return record["to"] if record["direction"] == "Inbound" else record["from"]


def _recording(kinds: set[str]) -> Predicate:
    return lambda r, v: r.get("recording", {}).get("type") in kinds


def _anything(r: dict[str, Any], v: Values) -> bool:
    return True


# (log, parameters, the records the spec says they select); "{name}" values are filled from the data.
FILTERS: list[tuple[str, dict[str, Any], Predicate]] = [
    (USER_LOG, {"showBlocked": "false"}, lambda r, v: r["result"] != "Blocked"),
    (USER_LOG, {"showBlocked": "true"}, _anything),
    (USER_LOG, {"transport": "PSTN"}, lambda r, v: r["transport"] == "PSTN"),
    (USER_LOG, {"transport": "VoIP"}, lambda r, v: r["transport"] == "VoIP"),
    (USER_LOG, {"transport": ["PSTN", "VoIP"]}, _anything),
    (USER_LOG, {"recordingType": "Automatic"}, _recording({"Automatic"})),
    (ACCOUNT_LOG, {"recordingType": "OnDemand"}, _recording({"OnDemand"})),
    (ACCOUNT_LOG, {"recordingType": "All"}, _recording({"Automatic", "OnDemand"})),
    (USER_LOG, {"withRecording": "true"}, _recording({"Automatic", "OnDemand"})),
    (USER_LOG, {"withRecording": "false"}, _anything),
    # With both, withRecording is ignored (the spec).
    (USER_LOG, {"withRecording": "true", "recordingType": "OnDemand"}, _recording({"OnDemand"})),
    (USER_LOG, {"phoneNumber": "{caller}"}, lambda r, v: v["caller"] in _party_numbers(r)),
    (ACCOUNT_LOG, {"phoneNumber": "{caller}"}, lambda r, v: v["caller"] in _party_numbers(r)),
    (
        ACCOUNT_LOG,
        {"extensionNumber": "{colleague}"},
        lambda r, v: _owner(r)["extensionNumber"] == v["colleague"],
    ),
    (USER_LOG, {"extensionNumber": "{colleague}"}, lambda r, v: False),
    (USER_LOG, {"extensionNumber": "101"}, _anything),
    (ACCOUNT_LOG, {"sessionId": "{session}"}, lambda r, v: r["sessionId"] == v["session"]),
    (USER_LOG, {"telephonySessionId": "{telephony}"}, lambda r, v: r["telephonySessionId"] == v["telephony"]),
    (
        USER_LOG,
        {"showBlocked": "false", "type": "Voice", "direction": "Inbound"},
        lambda r, v: r["result"] != "Blocked" and (r["type"], r["direction"]) == ("Voice", "Inbound"),
    ),
    # showBlocked and transport are parameters of the user's log only: the company log ignores them.
    (ACCOUNT_LOG, {"showBlocked": "false", "transport": "VoIP"}, _anything),
]


@pytest.fixture(scope="module")
def values(user_log, account_log) -> Values:
    caller = next(r for r in user_log if r["direction"] == "Inbound" and "phoneNumber" in r["from"])
    colleague = next(r for r in account_log if _owner(r)["extensionNumber"] != "101")
    return {
        "caller": caller["from"]["phoneNumber"].removeprefix("+"),
        "colleague": _owner(colleague)["extensionNumber"],
        "session": colleague["sessionId"],
        "telephony": caller["telephonySessionId"],
    }


@pytest.mark.parametrize(("path", "params", "predicate"), FILTERS, ids=[str(f[1]) for f in FILTERS])
def test_each_filter_selects_exactly_the_records_the_spec_describes(
    api, user_log, account_log, values, path, params, predicate
):
    filled = {k: v.format(**values) if isinstance(v, str) else v for k, v in params.items()}
    everything = user_log if path == USER_LOG else account_log
    expected = [r for r in everything if predicate(r, values)]
    assert ids(api.everything(path, **filled)) == ids(expected)
    if predicate not in (_anything,) and "extensionNumber" not in params:
        assert 0 < len(expected) < len(everything)  # the data has records on both sides of the filter


@pytest.mark.parametrize(
    ("params", "predicate"),
    [
        ({"showBlocked": "false"}, lambda r: r["result"] != "Blocked"),
        ({"recordingType": "All", "showDeleted": "true"}, lambda r: "recording" in r),
        (
            {"transport": "VoIP", "type": "Voice", "showDeleted": "true"},
            lambda r: (r["transport"], r["type"]) == ("VoIP", "Voice"),
        ),
    ],
    ids=["showBlocked", "recordingType+showDeleted", "transport+type+showDeleted"],
)
def test_paging_through_a_filtered_log_gives_every_match_once(api, params, predicate):
    expected = api.everything(USER_LOG, **params)
    assert 0 < len(expected) < RECORDS + RECORDS // 12
    pages = walk(api, USER_LOG, 23, **params)
    assert all(predicate(r) for page in pages for r in page)  # every page holds only matches
    got = [r for page in pages for r in page]
    assert ids(got) == ids(expected) and len(set(ids(got))) == len(got)
    assert all(len(page) == 23 for page in pages[:-1])
    first = api.body(USER_LOG, dateFrom=FAR_PAST, perPage=23, **params)
    assert first["paging"]["totalElements"] == len(expected)
    assert first["paging"]["totalPages"] == -(-len(expected) // 23)


def test_content_filters_apply_to_deleted_records_too(api):
    shown = api.everything(USER_LOG, showDeleted="true")
    deleted_voip = [r for r in shown if r["deleted"] and r["transport"] == "VoIP"]
    assert deleted_voip
    got = api.everything(USER_LOG, showDeleted="true", transport="VoIP")
    assert ids(got) == ids([r for r in shown if r["transport"] == "VoIP"])


@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        (USER_LOG, {"showDeleted": "yes"}, "showDeleted"),
        (ACCOUNT_LOG, {"showDeleted": ""}, "showDeleted"),
        (USER_LOG, {"showBlocked": "0"}, "showBlocked"),
        (USER_LOG, {"withRecording": "1"}, "withRecording"),
        (USER_LOG, {"recordingType": "Manual"}, "recordingType"),
        (ACCOUNT_LOG, {"recordingType": "all"}, "recordingType"),
        (USER_LOG, {"transport": ["VoIP", "Carrier"]}, "transport"),
        (USER_LOG, {"phoneNumber": "(650) 555-0100"}, "phoneNumber"),
        (ACCOUNT_LOG, {"phoneNumber": ""}, "phoneNumber"),
        # The spec: extensionNumber "cannot be combined with phoneNumber".
        (ACCOUNT_LOG, {"phoneNumber": "16505550100", "extensionNumber": "101"}, "extensionNumber"),
    ],
)
def test_a_bad_filter_value_is_400_cmn_101_naming_the_parameter(api, path, params, name):
    answer = api.get(path, **params)
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["errorCode"] == "CMN-101" and error["parameterName"] == name


def test_phone_number_takes_e164_digits_with_or_without_the_plus(api, user_log):
    number = next(
        r["from"]["phoneNumber"]
        for r in user_log
        if r["direction"] == "Inbound" and "phoneNumber" in r["from"]
    )
    plain = api.everything(USER_LOG, phoneNumber=number.removeprefix("+"))
    assert plain and ids(api.everything(USER_LOG, phoneNumber=number)) == ids(plain)
    assert api.body(USER_LOG, dateFrom=FAR_PAST, phoneNumber="19995550000")["paging"]["totalElements"] == 0


# -- the extension list ------------------------------------------------------------------------------


def test_extension_list_filters_by_status_type_email_and_extension_number(api):
    everyone = api.body("/account/~/extension")["records"]
    assert len(everyone) == 12 and {e["status"] for e in everyone} == {"Enabled"}
    assert {e["type"] for e in everyone} == {"User"}

    def listed(**params: Any) -> list[Any]:
        body = api.body("/account/~/extension", **params)
        assert body["paging"]["totalElements"] == len(body["records"])
        return [e["id"] for e in body["records"]]

    every_id = [e["id"] for e in everyone]
    assert listed(status="Enabled") == every_id
    assert listed(status="Disabled") == [] and listed(status="Unassigned") == []
    assert listed(status=["Disabled", "Enabled"]) == every_id
    assert listed(status="") == every_id  # the spec's allowEmptyValue: an empty status filters nothing
    assert listed(type="User") == every_id and listed(type=["Department", "Bot"]) == []
    colleague = everyone[3]
    assert listed(email=colleague["contact"]["email"].upper()) == [colleague["id"]]
    assert listed(email=[colleague["contact"]["email"], everyone[0]["contact"]["email"]]) == [
        everyone[0]["id"],
        colleague["id"],
    ]
    assert listed(extensionNumber=colleague["extensionNumber"]) == [colleague["id"]]
    assert listed(extensionNumber="999") == []
    assert listed(extensionNumber="101", status="Disabled") == []


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"status": "Active"}, "status"),
        ({"type": "Person"}, "type"),
        ({"type": ""}, "type"),
        ({"extensionNumber": "123456789"}, "extensionNumber"),
        ({"email": "a" * 250 + "@x.io"}, "email"),
    ],
)
def test_extension_list_refuses_values_outside_the_spec_with_cmn_101(api, params, name):
    answer = api.get("/account/~/extension", **params)
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["errorCode"] == "CMN-101" and error["parameterName"] == name


def test_extension_list_navigation_keeps_the_filters(api):
    everyone = api.body("/account/~/extension")["records"]
    emails = [
        everyone[5]["contact"]["email"],
        everyone[2]["contact"]["email"],
        everyone[8]["contact"]["email"],
    ]
    first = api.body("/account/~/extension", email=emails, perPage=2)
    assert first["paging"]["totalElements"] == 3 and first["paging"]["totalPages"] == 2
    link = first["navigation"]["nextPage"]["uri"]
    assert parse_qs(urlsplit(link).query)["email"] == emails
    second = api.body(link)
    got = [e["id"] for e in first["records"] + second["records"]]
    assert got == [everyone[2]["id"], everyone[5]["id"], everyone[8]["id"]]


def test_a_half_million_record_log_lists_its_deleted_records_from_either_end():
    # (Half a million: a log of more than 1000 pages would break the spec's `paging.page` maximum.)
    config = EmulatorConfig(rate_limits_enabled=False, call_records=500_000)
    with Emulator(config) as emu, requests.Session() as http:
        token = jwt_token(emu, http)["access_token"]
        big = Api(emu, http, token)
        first = big.body(USER_LOG, dateFrom=FAR_PAST, perPage=1000, showDeleted="true")
        total = first["paging"]["totalElements"]
        assert total == 500_000 + 500_000 // 16  # one deleted record after every 16th of the user's
        last = big.body(first["navigation"]["lastPage"]["uri"])
        assert len(last["records"]) == total - 1000 * (first["paging"]["totalPages"] - 1)
        assert sum(r["deleted"] for r in first["records"]) in (58, 59)  # 1 in 17 entries
        assert first["records"][-1]["startTime"] > last["records"][0]["startTime"]
        voice = big.body(
            USER_LOG, dateFrom=FAR_PAST, perPage=1000, showDeleted="true", type="Voice", page=400
        )
        assert all(r["type"] == "Voice" for r in voice["records"]) and len(voice["records"]) == 1000
