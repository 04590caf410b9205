"""The recording operations, checked against RingCentral's spec (the vendored subset): readCallRecording on
the API origin, readCallRecordingContent (`x-media-api`) on the media origin, each with the spec's
throttling group, app permission, content types and parameter enums."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from helpers import jwt_token

from ringcentral_emulator import App, Emulator, EmulatorConfig
from tests.contract import contract
from tests.contract.test_emulator_contract import conforms

RECORDING = "/restapi/v1.0/account/{accountId}/recording/{recordingId}"
CONTENT = "/restapi/v1.0/account/{accountId}/recording/{recordingId}/content"
FAR_PAST = "2000-01-01T00:00:00.000Z"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    config = EmulatorConfig(rate_limits={"Heavy": 1000}, anchor_time=1_750_000_000.0)
    with Emulator(config) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def auth(emu: Emulator, http: requests.Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt_token(emu, http)['access_token']}"}


@pytest.fixture(scope="module")
def recordings(emu: Emulator, http: requests.Session, auth: dict[str, str]) -> list[dict[str, Any]]:
    answer = http.get(
        f"{emu.base_url}/restapi/v1.0/account/~/call-log",
        params={"recordingType": "All", "dateFrom": FAR_PAST, "perPage": 1000},
        headers=auth,
        timeout=30,
    )
    records = answer.json()["records"]
    assert records
    return [r["recording"] for r in records]


def operation(path: str) -> dict[str, Any]:
    return dict(contract.spec()["paths"][path]["get"])


def test_call_log_recordings_are_call_log_recording_info(recordings):
    for recording in recordings:
        assert contract.errors(recording, "CallLogRecordingInfo") == []
        assert contract.undocumented_fields(recording, "CallLogRecordingInfo") == []


def test_recording_metadata_is_a_get_call_recording_response_in_the_spec_s_group(emu, http, auth, recordings):
    for recording in recordings[:20]:
        answer = http.get(recording["uri"], headers=auth, timeout=10)
        body = conforms(answer, RECORDING)
        assert body["contentType"] in operation(CONTENT)["responses"]["200"]["content"]
        assert answer.headers["X-Rate-Limit-Group"] == operation(RECORDING)["x-throttling-group"]


def test_content_is_served_by_the_media_entry_point_only(emu, http, auth, recordings):
    assert operation(CONTENT)["x-media-api"] is True
    assert [s["description"] for s in contract.spec()["servers"]] == [
        "Production API entry point",
        "Production Media entry point",
    ]
    media = urlsplit(emu.media_url)
    for recording in recordings[:5]:
        assert urlsplit(recording["contentUri"])[:2] == (media.scheme, media.netloc)
        api = http.get(recording["contentUri"].replace(emu.media_url, emu.base_url), headers=auth, timeout=10)
        assert api.status_code == 404


def test_content_answers_with_a_documented_status_type_and_group(emu, http, auth, recordings):
    content_types = operation(CONTENT)["responses"]["200"]["content"]
    seen = set()
    for recording in recordings[:40]:
        answer = http.head(recording["contentUri"], headers=auth, timeout=10)
        assert answer.status_code in contract.documented_statuses(CONTENT, "get")
        assert answer.headers["Content-Type"] in content_types
        assert answer.headers["X-Rate-Limit-Group"] == operation(CONTENT)["x-throttling-group"]
        seen.add(answer.headers["Content-Type"])
    assert seen == set(content_types)  # both of the spec's types turn up


@pytest.mark.parametrize("value", ["Inline", "Attachment"])
def test_content_takes_the_spec_s_content_disposition_values(emu, http, auth, recordings, value):
    parameters = [contract.resolve(p) for p in operation(CONTENT)["parameters"]]
    (disposition,) = [p for p in parameters if p["name"] == "contentDisposition"]
    assert value in disposition["schema"]["enum"]
    answer = http.head(
        recordings[0]["contentUri"], headers=auth, params={"contentDisposition": value}, timeout=10
    )
    assert answer.status_code == 200 and answer.headers["Content-Disposition"] == value.lower()


def test_content_error_bodies_are_the_spec_s_error_model(emu, http, auth, recordings):
    url = recordings[0]["contentUri"]
    answers = [
        http.get(url, timeout=10),
        http.get(url.replace(recordings[0]["id"], "1"), headers=auth, timeout=10),
        http.get(url, headers=auth, params={"contentDisposition": "Download"}, timeout=10),
    ]
    assert [a.status_code for a in answers] == [401, 404, 400]
    for answer in answers:
        assert contract.errors(answer.json(), "ApiErrorResponseModel") == []


def test_the_metadata_s_errors_are_documented_ones(emu, http, auth, recordings):
    missing = http.get(recordings[0]["uri"].replace(recordings[0]["id"], "1"), headers=auth, timeout=10)
    conforms(missing, RECORDING)
    assert missing.status_code == 404


def test_an_app_without_the_spec_s_app_permission_is_refused_with_a_documented_403():
    permission = operation(CONTENT)["x-app-permission"]
    assert permission == operation(RECORDING)["x-app-permission"] == "ReadCallRecording"
    config = EmulatorConfig(apps=(App(scopes=("ReadAccounts", "ReadCallLog")),), rate_limits_enabled=False)
    with Emulator(config) as emu, requests.Session() as http:
        http.trust_env = False
        auth = {"Authorization": f"Bearer {jwt_token(emu, http)['access_token']}"}
        answer = http.get(
            f"{emu.base_url}/restapi/v1.0/account/~/call-log",
            params={"recordingType": "All", "dateFrom": FAR_PAST},
            headers=auth,
            timeout=30,
        )
        recording = answer.json()["records"][0]["recording"]
        refused = http.get(recording["uri"], headers=auth, timeout=10)
        assert refused.status_code == 403
        assert conforms(refused, RECORDING)["errors"][0]["permissionName"] == permission
        content = http.get(recording["contentUri"], headers=auth, timeout=10)
        assert content.status_code == 403 and contract.errors(content.json(), "ApiErrorResponseModel") == []
        assert content.json()["errors"][0]["permissionName"] == permission
