"""The emulator's answers, checked against RingCentral's own OpenAPI spec (the vendored subset).

Every body must validate against the schema the spec documents for its status, and carry no field the
spec does not document (a client reading such a field would get nothing from RingCentral). The generated
call log must range over the spec's enums, as production data does.
"""

from __future__ import annotations

import email.utils
import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from helpers import jwt_token

from ringcentral_emulator import DEMO_JWT, App, Emulator, EmulatorConfig
from tests.contract import contract

CLIENT_ID = "rcauth-emulator-client"
BASIC = (CLIENT_ID, "rcauth-emulator-secret")
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FAR_PAST = "2000-01-01T00:00:00.000Z"
ACCOUNT_LOG = "/restapi/v1.0/account/{accountId}/call-log"
USER_LOG = "/restapi/v1.0/account/{accountId}/extension/{extensionId}/call-log"
EXTENSION = "/restapi/v1.0/account/{accountId}/extension/{extensionId}"
EXTENSION_LIST = "/restapi/v1.0/account/{accountId}/extension"
ACCOUNT = "/restapi/v1.0/account/{accountId}"
TOKEN = "/restapi/oauth/token"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(rate_limits_enabled=False, call_records=2500)) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def access(emu: Emulator, http: requests.Session) -> str:
    return jwt_token(emu, http)["access_token"]


def get(emu: Emulator, http: requests.Session, access: str, path: str, **params: Any) -> requests.Response:
    url = path if path.startswith("http") else f"{emu.base_url}/restapi/v1.0{path}"
    return http.get(url, headers={"Authorization": f"Bearer {access}"}, params=params, timeout=30)


def conforms(answer: requests.Response, path: str, method: str = "get", *, strict: bool = True) -> Any:
    """Assert the answer's status is documented and its body matches the documented schema (and, when
    `strict`, sends no undocumented field); returns the body. Error bodies keep their top-level
    `errorCode` and `message`, which the spec's ApiErrorResponseModel omits but RingCentral's error docs
    (basics/errors.md) show, so the strict check applies to success bodies only."""
    assert answer.status_code in contract.documented_statuses(path, method), answer.text[:300]
    body = answer.json()
    assert contract.errors_for_response(body, path, method, answer.status_code) == []
    schema = contract.response_schema(path, method, answer.status_code)
    if strict and schema is not None and answer.status_code < 300:
        ref = schema.get("$ref", "")
        if ref:
            assert contract.undocumented_fields(body, ref.rsplit("/", 1)[1]) == []
    return body


# -- success bodies --------------------------------------------------------------------------------------


def test_token_answers_are_token_info_with_nothing_undocumented(emu, http):
    first = jwt_token(emu, http)
    assert (
        contract.errors(first, "TokenInfo") == [] and contract.undocumented_fields(first, "TokenInfo") == []
    )
    refreshed = http.post(
        f"{emu.base_url}{TOKEN}",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=BASIC,
        timeout=10,
    )
    conforms(refreshed, TOKEN, "post")


def test_extension_info_is_get_extension_info_response_with_spec_enums_only(emu, http, access):
    body = conforms(get(emu, http, access, "/account/~/extension/~"), EXTENSION)
    assert "callingCode" not in body["assignedCountry"]
    assert "uri" not in body["regionalSettings"]["language"]
    assert "CallLog" not in {f["featureName"] for f in body["serviceFeatures"]}


def test_account_info_is_get_account_info_response_with_an_integer_id(emu, http, access):
    body = conforms(get(emu, http, access, "/account/~"), ACCOUNT)
    assert (
        isinstance(body["id"], int)
        and body["operator"]["id"] == get(emu, http, access, "/account/~/extension/~").json()["id"]
    )


def test_extension_list_items_carry_only_the_list_item_fields(emu, http, access):
    body = conforms(get(emu, http, access, "/account/~/extension", perPage=5), EXTENSION_LIST)
    for item in body["records"]:
        for field in ("account", "regionalSettings", "serviceFeatures", "setupWizardState"):
            assert field not in item
        assert "callingCode" not in item["assignedCountry"]


@pytest.mark.parametrize("view", ["Simple", "Detailed"])
@pytest.mark.parametrize("path", ["/account/~/call-log", "/account/~/extension/~/call-log"])
def test_call_log_pages_are_call_log_responses(emu, http, access, path, view):
    spec_path = ACCOUNT_LOG if "extension" not in path else USER_LOG
    first = conforms(get(emu, http, access, path, view=view, dateFrom=FAR_PAST, perPage=400), spec_path)
    second = conforms(get(emu, http, access, first["navigation"]["nextPage"]["uri"]), spec_path)
    assert second["paging"]["page"] == 2


@pytest.mark.parametrize("view", ["Simple", "Detailed"])
def test_a_call_record_by_id_is_a_call_log_record_and_a_deleted_ones_id_is_not_found(emu, http, access, view):
    for path, spec_path in (
        ("/account/~/call-log", ACCOUNT_LOG + "/{callRecordId}"),
        ("/account/~/extension/~/call-log", USER_LOG + "/{callRecordId}"),
    ):
        listed = get(emu, http, access, path, dateFrom=FAR_PAST, view=view, showDeleted="true").json()[
            "records"
        ]
        kept = next(r for r in listed if not r["deleted"])
        assert conforms(get(emu, http, access, kept["uri"], view=view), spec_path) == kept
        gone = next(r for r in listed if r["deleted"])
        assert conforms(get(emu, http, access, gone["uri"], view=view), spec_path)["errors"][0][
            "errorCode"
        ] == ("CMN-102")


def test_record_and_navigation_uris_carry_real_account_and_extension_ids(emu, http, access):
    me = get(emu, http, access, "/account/~/extension/~").json()
    account_id, extension_id = me["account"]["id"], str(me["id"])
    for path in ("/account/~/extension/~/call-log", "/account/~/call-log", "/account/~/extension"):
        body = get(emu, http, access, path, dateFrom=FAR_PAST, perPage=3, page=2).json()
        uris = [body["uri"], *(nav["uri"] for nav in body["navigation"].values())]
        uris += [record["uri"] for record in body["records"]]
        for uri in uris:
            assert "/~" not in urlsplit(uri).path, uri
            assert f"/account/{account_id}/" in uri
        if "extension/~/" in path:
            assert all(f"/extension/{extension_id}/" in uri for uri in uris)


def test_per_page_max_and_above_1000_are_accepted_as_1000(emu, http, access):
    for per_page in ("max", "1001", "100000"):
        body = conforms(
            get(emu, http, access, "/account/~/extension/~/call-log", dateFrom=FAR_PAST, perPage=per_page),
            USER_LOG,
        )
        assert body["paging"]["perPage"] == 1000 and len(body["records"]) == 1000
        assert parse_qs(urlsplit(body["navigation"]["nextPage"]["uri"]).query)["perPage"] == ["1000"]


def _page_of(link: dict[str, str]) -> int:
    return int(parse_qs(urlsplit(link["uri"]).query)["page"][0])


@pytest.mark.parametrize("path", ["/account/~/call-log", "/account/~/extension/~/call-log"])
def test_page_1000_is_the_last_navigable_page_when_the_log_has_more_pages(emu, http, access, path):
    spec_path = ACCOUNT_LOG if "extension" not in path else USER_LOG
    first = conforms(get(emu, http, access, path, dateFrom=FAR_PAST, perPage=1), spec_path)
    assert first["paging"]["totalPages"] > 1000 and first["paging"]["totalElements"] > 1000
    assert _page_of(first["navigation"]["lastPage"]) == 1000
    before = conforms(get(emu, http, access, path, dateFrom=FAR_PAST, perPage=1, page=999), spec_path)
    assert _page_of(before["navigation"]["nextPage"]) == 1000
    last = conforms(get(emu, http, access, before["navigation"]["nextPage"]["uri"]), spec_path)
    # Totals still count every record (the spec gives them no maximum); the links stop at page 1000.
    assert last["paging"]["page"] == 1000 and len(last["records"]) == 1
    assert last["paging"]["totalElements"] == first["paging"]["totalElements"]
    assert "nextPage" not in last["navigation"]
    assert _page_of(last["navigation"]["lastPage"]) == 1000
    assert _page_of(last["navigation"]["previousPage"]) == 999


@pytest.mark.parametrize(
    ("path", "spec_path"),
    [
        ("/account/~/call-log", ACCOUNT_LOG),
        ("/account/~/extension/~/call-log", USER_LOG),
        ("/account/~/extension", EXTENSION_LIST),
    ],
)
def test_a_page_above_1000_is_refused_with_cmn_101_naming_page(emu, http, access, path, spec_path):
    for page in ("1001", "2500"):
        answer = get(emu, http, access, path, dateFrom=FAR_PAST, perPage=1, page=page)
        assert answer.status_code == 400
        body = conforms(answer, spec_path) if spec_path != EXTENSION_LIST else answer.json()
        assert contract.errors(body, "ApiErrorResponseModel") == []
        assert body["errorCode"] == "CMN-101" and body["message"] == "Parameter [page] value is invalid"
        assert body["errors"][0]["parameterName"] == "page" and body["errors"][0]["parameterValue"] == page


@pytest.mark.parametrize(
    ("path", "spec_path"),
    [
        ("/account/~/call-log", ACCOUNT_LOG),
        ("/account/~/extension/~/call-log", USER_LOG),
        ("/account/~/extension", EXTENSION_LIST),
    ],
)
def test_a_page_past_the_end_is_empty_and_omits_page_and_its_bounds(emu, http, access, path, spec_path):
    """The spec's "non-existent page": no records, `page`, `pageStart` and `pageEnd` omitted."""
    first = get(emu, http, access, path, dateFrom=FAR_PAST, perPage=1000).json()
    pages = first["paging"]["totalPages"]
    assert pages < 1000
    body = conforms(get(emu, http, access, path, dateFrom=FAR_PAST, perPage=1000, page=pages + 1), spec_path)
    assert body["records"] == []
    assert not {"page", "pageStart", "pageEnd"} & set(body["paging"])
    assert body["paging"]["totalElements"] == first["paging"]["totalElements"]
    assert "nextPage" not in body["navigation"]
    assert _page_of(body["navigation"]["previousPage"]) == _page_of(body["navigation"]["lastPage"]) == pages


# -- the data's range ------------------------------------------------------------------------------------


def _all_records(emu: Emulator, http: requests.Session, access: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    url = f"{emu.base_url}/restapi/v1.0/account/~/call-log"
    params: dict[str, Any] = {"view": "Detailed", "dateFrom": FAR_PAST, "perPage": "max"}
    while url:
        body = get(emu, http, access, url, **params).json()
        records += body["records"]
        url, params = body["navigation"].get("nextPage", {}).get("uri"), {}
    return records


@pytest.fixture(scope="module")
def records(emu, http, access) -> list[dict[str, Any]]:
    return _all_records(emu, http, access)


def _enum(name: str) -> set[str]:
    return set(contract.spec()["components"]["schemas"][name]["enum"])


def test_call_log_ranges_over_every_result_reason_action_and_leg_type_of_the_spec(records):
    legs = [leg for record in records for leg in record["legs"]]
    assert {r["result"] for r in records} == _enum("CallResultEnum")
    assert {r["reason"] for r in records} == _enum("CallResultReasonEnum")
    assert {r["action"] for r in records} == _enum("CallActionEnum")
    assert {leg["legType"] for leg in legs} == _enum("CallLegTypeEnum")


def test_call_log_has_multi_leg_calls_transfers_recordings_faxes_and_blocked_calls(records):
    leg_counts = Counter(len(r["legs"]) for r in records)
    assert max(leg_counts) >= 3 and leg_counts[2] > 0
    transfers = [r for r in records if r["action"] == "Transfer"]
    assert transfers and all(any(leg["legType"] == "TransferCall" for leg in r["legs"]) for r in transfers)
    assert any("recording" in r for r in records)
    faxes = [r for r in records if r["type"] == "Fax"]
    assert faxes and all(r["message"]["type"] == "Fax" for r in faxes)
    assert any(r["result"] == "Blocked" for r in records)


def test_no_call_ends_and_no_record_changes_after_the_answers_date(emu, http, access):
    answer = get(emu, http, access, "/account/~/call-log", view="Detailed", dateFrom=FAR_PAST, perPage=200)
    date = email.utils.parsedate_to_datetime(answer.headers["Date"]).timestamp()
    for record in answer.json()["records"]:
        start = datetime.fromisoformat(record["startTime"].replace("Z", "+00:00")).timestamp()
        assert start + record["durationMs"] / 1000 <= date
        modified = datetime.fromisoformat(record["lastModifiedTime"].replace("Z", "+00:00")).timestamp()
        assert modified <= date


def test_generation_stays_deterministic_for_a_seed():
    pages = []
    for _ in range(2):
        with Emulator(EmulatorConfig(rate_limits_enabled=False, anchor_time=1_750_000_000.0, seed=7)) as one:
            with requests.Session() as session:
                token = jwt_token(one, session)["access_token"]
                body = get(
                    one, session, token, "/account/~/call-log", view="Detailed", dateFrom=FAR_PAST
                ).json()
                text = json.dumps(body["records"])
                pages.append(text.replace(one.base_url, "BASE").replace(one.media_url, "MEDIA"))
    assert pages[0] == pages[1] and len(json.loads(pages[0])) == 100


# -- error bodies ----------------------------------------------------------------------------------------


def test_rest_errors_have_the_documented_shapes(emu, http, access):
    conforms(get(emu, http, access, "/account/~/extension/~/call-log", view="Everything"), USER_LOG)
    conforms(get(emu, http, access, "/account/~/extension/999/call-log"), USER_LOG)
    unknown = get(emu, http, access, "/account/~/nowhere")
    assert unknown.status_code == 404 and unknown.json()["errorCode"] == "CMN-120"
    assert contract.errors(unknown.json(), "ApiErrorResponseModel") == []
    with Emulator(EmulatorConfig(rate_limits_enabled=False, admin=False)) as plain:
        token = jwt_token(plain, http)["access_token"]
        forbidden = conforms(get(plain, http, token, "/account/~/call-log"), ACCOUNT_LOG)
        assert forbidden["errors"][0]["errorCode"] == "CMN-408"
    with Emulator(EmulatorConfig(rate_limits_enabled=False, apps=(App(scopes=("ReadAccounts",)),))) as narrow:
        token = jwt_token(narrow, http)["access_token"]
        missing = conforms(get(narrow, http, token, "/account/~/extension/~/call-log"), USER_LOG)
        assert missing["errors"][0]["permissionName"] == "ReadCallLog"


def test_oauth_errors_have_the_documented_shapes(emu, http):
    bad_grant = http.post(
        f"{emu.base_url}{TOKEN}", data={"grant_type": "refresh_token", "refresh_token": "x"}, auth=BASIC
    )
    conforms(bad_grant, TOKEN, "post")
    revoke = http.post(f"{emu.base_url}/restapi/oauth/revoke", data={}, auth=BASIC, timeout=10)
    conforms(revoke, "/restapi/oauth/revoke", "post")
    for query in ({"client_id": "nobody"}, {"client_id": CLIENT_ID, "redirect_uri": "http://evil.example/"}):
        answer = http.get(
            f"{emu.base_url}/restapi/oauth/authorize",
            params={"response_type": "code", **query},
            allow_redirects=False,
            timeout=10,
        )
        assert "Location" not in answer.headers
        conforms(answer, "/restapi/oauth/authorize")


def test_token_endpoint_answers_a_json_body_with_415(emu, http):
    answer = http.post(
        f"{emu.base_url}{TOKEN}", json={"grant_type": JWT_GRANT, "assertion": DEMO_JWT}, auth=BASIC
    )
    assert answer.status_code == 415
    assert 415 in contract.documented_statuses(TOKEN, "post")


def test_authorize_answers_302_with_a_location(emu, http):
    answer = http.get(
        f"{emu.base_url}/restapi/oauth/authorize",
        params={"response_type": "code", "client_id": CLIENT_ID},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302 and answer.headers["Location"].startswith(f"{emu.base_url}/login/")
