"""The emulator's media origin, over real HTTP: call recordings' content as RingCentral's media entry point
serves it (docs/ringcentral.md, "Media"): real WAV and MP3 files of the call's length, byte ranges, the
same tokens as the API, the Heavy group, the app's ReadCallRecording permission, and the body faults."""

from __future__ import annotations

import contextlib
import hashlib
import io
import time
import wave
from collections.abc import Iterator
from http import client as http_client
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
from helpers import jwt_token

from ringcentral_emulator import App, Emulator, EmulatorConfig

FAR_PAST = "2000-01-01T00:00:00.000Z"
# ISO 11172-3, Layer III: bitrate index -> kbps (MPEG-1), sampling frequency index -> Hz.
MPEG1_L3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MPEG1_RATES = (44100, 48000, 32000)


@contextlib.contextmanager
def running(**switches: Any) -> Iterator[tuple[Emulator, requests.Session, dict[str, str]]]:
    """An emulator (rate limits off unless asked for), a session, and a bearer header for its first app."""
    switches.setdefault("rate_limits_enabled", False)
    with Emulator(EmulatorConfig(**switches)) as emu, requests.Session() as session:
        session.trust_env = False
        yield emu, session, {"Authorization": f"Bearer {jwt_token(emu, session)['access_token']}"}


@pytest.fixture(scope="module")
def media() -> Iterator[tuple[Emulator, requests.Session, dict[str, str]]]:
    with running(anchor_time=1_750_000_000.0) as trio:
        yield trio


def recorded_calls(emu: Emulator, http: requests.Session, auth: dict[str, str]) -> list[dict[str, Any]]:
    answer = http.get(
        f"{emu.base_url}/restapi/v1.0/account/~/extension/~/call-log",
        params={"withRecording": "true", "dateFrom": FAR_PAST, "perPage": 1000},
        headers=auth,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["records"])


def of_type(trio: tuple[Emulator, requests.Session, dict[str, str]], media_type: str) -> list[dict[str, Any]]:
    emu, http, auth = trio
    found = []
    for record in recorded_calls(emu, http, auth):
        head = http.head(record["recording"]["contentUri"], headers=auth, timeout=10)
        if head.headers["Content-Type"] == media_type:
            found.append(record)
    assert found, f"no {media_type} recording in the log"
    return found


def content(
    http: requests.Session, auth: dict[str, str], record: dict[str, Any], **headers: str
) -> requests.Response:
    return http.get(record["recording"]["contentUri"], headers={**auth, **headers}, timeout=30)


def mp3_frames(data: bytes) -> list[tuple[int, int, int, int]]:
    """Walk MPEG audio frame headers: (version bits, layer bits, kbps, Hz) per frame; the frames must
    tile the data exactly."""
    frames = []
    at = 0
    while at < len(data):
        header = data[at : at + 4]
        assert header[0] == 0xFF and header[1] & 0xE0 == 0xE0, f"no frame sync at {at}"
        version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
        kbps, rate = MPEG1_L3_KBPS[header[2] >> 4], MPEG1_RATES[(header[2] >> 2) & 3]
        frames.append((version, layer, kbps, rate))
        at += 144 * kbps * 1000 // rate + ((header[2] >> 1) & 1)
    assert at == len(data), "the last frame runs past the end"
    return frames


# -- where recordings are ---------------------------------------------------------------------------------


def test_a_recording_s_uri_is_on_the_api_origin_and_its_content_on_the_media_origin(media):
    emu, http, auth = media
    assert urlsplit(emu.media_url).port != urlsplit(emu.base_url).port
    records = recorded_calls(emu, http, auth)
    assert len(records) > 20
    for record in records:
        recording = record["recording"]
        assert set(recording) == {"id", "uri", "type", "contentUri"} and recording["type"] in (
            "Automatic",
            "OnDemand",
        )
        assert recording["uri"] == f"{emu.base_url}/restapi/v1.0/account/37439510/recording/{recording['id']}"
        assert recording["contentUri"] == f"{emu.media_url}{urlsplit(recording['uri']).path}/content"
        # The guide: RingCentral keeps no recording shorter than 30 seconds.
        assert record["durationMs"] >= 30_000


def test_the_recording_metadata_on_the_api_origin_names_the_content_s_type_and_length(media):
    emu, http, auth = media
    record = recorded_calls(emu, http, auth)[0]
    meta = http.get(record["recording"]["uri"], headers=auth, timeout=10)
    assert meta.status_code == 200
    body = meta.json()
    assert body["contentUri"] == record["recording"]["contentUri"] and body["id"] == record["recording"]["id"]
    assert body["duration"] == record["duration"]
    assert body["contentType"] == content(http, auth, record).headers["Content-Type"]


def test_the_api_origin_serves_no_content_and_the_media_origin_serves_nothing_else(media):
    emu, http, auth = media
    record = recorded_calls(emu, http, auth)[0]
    on_api = http.get(
        record["recording"]["contentUri"].replace(emu.media_url, emu.base_url), headers=auth, timeout=10
    )
    assert on_api.status_code == 404 and on_api.json()["errorCode"] == "CMN-120"
    for path in (
        "/restapi/v1.0/account/~",
        urlsplit(record["recording"]["uri"]).path,
        "/",
        "/__emulator/counters",
    ):
        other = http.get(f"{emu.media_url}{path}", headers=auth, timeout=10)
        assert other.status_code == 404 and other.json()["errorCode"] == "CMN-120", path
    posted = http.post(record["recording"]["contentUri"], headers=auth, timeout=10)
    assert posted.status_code == 404


def test_the_control_endpoint_names_both_origins(media):
    emu, http, _ = media
    assert http.get(f"{emu.base_url}/__emulator/origins", timeout=10).json() == {
        "base_url": emu.base_url,
        "media_url": emu.media_url,
    }


# -- the audio ------------------------------------------------------------------------------------------


def test_wav_recordings_are_8khz_16bit_pcm_that_lasts_the_call(media):
    _, http, auth = media
    for record in of_type(media, "audio/wav")[:3]:
        answer = content(http, auth, record)
        assert int(answer.headers["Content-Length"]) == len(answer.content)
        with wave.open(io.BytesIO(answer.content)) as audio:
            assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 8000)
            assert audio.getnframes() == record["durationMs"] * 8
            frames = audio.readframes(audio.getnframes())
        assert len(frames) == record["durationMs"] * 16 and len(set(frames[:4000])) > 10  # not silence


def test_mp3_recordings_are_mpeg1_layer3_frames_that_tile_the_body_and_last_the_call(media):
    _, http, auth = media
    for record in of_type(media, "audio/mpeg")[:5]:
        answer = content(http, auth, record)
        frames = mp3_frames(answer.content)
        assert {(version, layer) for version, layer, _, _ in frames} == {(0b11, 0b01)}  # MPEG-1, Layer III
        (kbps, rate), *others = {(f[2], f[3]) for f in frames}
        assert not others and kbps in (32, 48, 64) and rate == 32_000
        seconds = len(frames) * 1152 / rate
        assert record["durationMs"] / 1000 <= seconds < record["durationMs"] / 1000 + 0.036
        assert len(answer.content) == int(answer.headers["Content-Length"])


def test_most_recordings_are_mp3_and_some_wav(media):
    emu, http, auth = media
    types = [
        http.head(r["recording"]["contentUri"], headers=auth, timeout=10).headers["Content-Type"]
        for r in recorded_calls(emu, http, auth)
    ]
    assert set(types) == {"audio/mpeg", "audio/wav"}
    assert types.count("audio/mpeg") > 2 * types.count("audio/wav")


def test_content_is_the_same_after_a_restart_with_the_same_seed():
    digests = []
    for _ in range(2):
        with running(anchor_time=1_750_000_000.0, seed=5) as (emu, http, auth):
            records = recorded_calls(emu, http, auth)[:6]
            digests.append(
                [
                    (r["recording"]["id"], hashlib.sha256(content(http, auth, r).content).hexdigest())
                    for r in records
                ]
            )
    assert digests[0] == digests[1] and len(digests[0]) == 6


def test_recording_seconds_makes_every_recording_that_long_for_big_downloads():
    with running(anchor_time=1_750_000_000.0, recording_seconds=3277) as trio:
        emu, http, auth = trio
        record = of_type(trio, "audio/wav")[0]
        head = http.head(record["recording"]["contentUri"], headers=auth, timeout=10)
        assert int(head.headers["Content-Length"]) == 44 + 3277 * 16_000  # about 50 MB
        tail = content(http, auth, record, Range="bytes=-32000")
        assert tail.status_code == 206 and len(tail.content) == 32000
        assert http.get(record["recording"]["uri"], headers=auth, timeout=10).json()["duration"] == 3277


# -- HTTP ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("bytes=10-19", (10, 20)),
        ("bytes=0-0", (0, 1)),
        ("bytes=100-", (100, None)),
        ("bytes=-7", (-7, None)),
        ("bytes=5-99999999", (5, None)),
    ],
)
def test_a_byte_range_is_that_slice_of_the_whole_body(media, spec, expected):
    _, http, auth = media
    record = of_type(media, "audio/wav")[0]
    whole = content(http, auth, record).content
    part = content(http, auth, record, Range=spec)
    start, stop = expected
    wanted = whole[start:stop]
    first = len(whole) + start if start < 0 else start
    assert part.status_code == 206 and part.content == wanted
    assert part.headers["Content-Range"] == f"bytes {first}-{first + len(wanted) - 1}/{len(whole)}"
    assert int(part.headers["Content-Length"]) == len(wanted) and part.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize("spec", ["bytes=999999999-", "bytes=-0"])
def test_a_range_that_cannot_be_satisfied_is_416_with_the_length(media, spec):
    _, http, auth = media
    record = recorded_calls(*media)[0]
    length = len(content(http, auth, record).content)
    answer = content(http, auth, record, Range=spec)
    assert answer.status_code == 416 and answer.headers["Content-Range"] == f"bytes */{length}"


@pytest.mark.parametrize("spec", ["bytes=0-9,20-29", "items=0-9", "bytes=9-0", "bytes=x-"])
def test_a_range_the_server_does_not_honour_gets_the_whole_body(media, spec):
    _, http, auth = media
    record = recorded_calls(*media)[0]
    whole = content(http, auth, record).content
    answer = content(http, auth, record, Range=spec)
    assert answer.status_code == 200 and answer.content == whole and "Content-Range" not in answer.headers


def test_head_sends_the_headers_of_get_and_no_body(media):
    emu, http, auth = media
    record = recorded_calls(emu, http, auth)[0]
    url = urlsplit(record["recording"]["contentUri"])
    connection = http_client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        connection.request("HEAD", url.path, headers=auth)
        answer = connection.getresponse()
        assert answer.read() == b"" and answer.status == 200
        length = int(answer.headers["Content-Length"])
        connection.request("GET", url.path, headers={**auth, "Range": "bytes=0-3"})  # same connection
        again = connection.getresponse()
        assert again.status == 206 and len(again.read()) == 4
    finally:
        connection.close()
    assert length == len(content(http, auth, record).content)


def test_content_disposition_follows_the_spec_s_parameters(media):
    _, http, auth = media
    record = recorded_calls(*media)[0]
    url = record["recording"]["contentUri"]
    assert "Content-Disposition" not in http.head(url, headers=auth, timeout=10).headers
    inline = http.head(url, headers=auth, params={"contentDisposition": "Inline"}, timeout=10)
    assert inline.headers["Content-Disposition"] == "inline"
    named = http.head(
        url,
        headers=auth,
        params={"contentDisposition": "Attachment", "contentDispositionFilename": "call.mp3"},
        timeout=10,
    )
    assert (
        named.headers["Content-Disposition"] == "attachment; filename=\"call.mp3\"; filename*=UTF-8''call.mp3"
    )
    wrong = http.get(url, headers=auth, params={"contentDisposition": "attachment"}, timeout=10)
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["parameterName"] == "contentDisposition"


def test_a_hostile_filename_never_ends_the_header_or_starts_another(media):
    emu, http, auth = media
    record = recorded_calls(emu, http, auth)[0]
    hostile = 'a"b\\c\r\nSet-Cookie: stolen=1\r\n\r\n<html>\u00e9\u202e\x00.mp3'
    url = urlsplit(record["recording"]["contentUri"])
    query = (
        requests.Request(
            "GET",
            url.geturl(),
            params={"contentDisposition": "Attachment", "contentDispositionFilename": hostile},
        )
        .prepare()
        .path_url
    )
    with contextlib.closing(http_client.HTTPConnection(url.hostname, url.port, timeout=10)) as connection:
        connection.request("HEAD", query, headers=auth)
        answer = connection.getresponse()
        raw = [(k.lower(), v) for k, v in answer.getheaders()]
    assert answer.status == 200 and "set-cookie" not in dict(raw)
    (value,) = [v for k, v in raw if k == "content-disposition"]
    assert all(" " <= c <= "~" for c in value)
    plain = value.split('filename="', 1)[1].split('"', 1)[0]
    assert plain == "a_b_c__Set-Cookie: stolen=1____<html>___.mp3"
    assert unquote(value.split("filename*=UTF-8''", 1)[1]) == hostile


# -- who may read it ------------------------------------------------------------------------------------


def test_content_needs_a_live_token_in_the_header_or_the_access_token_parameter(media):
    emu, http, auth = media
    url = recorded_calls(emu, http, auth)[0]["recording"]["contentUri"]
    missing = http.get(url, timeout=10)
    assert missing.status_code == 401 and missing.json()["errorCode"] == "AGW-401"
    basic = http.get(url, headers={"Authorization": "Basic eDp5"}, timeout=10)
    assert basic.status_code == 401 and basic.json()["errorCode"] == "AGW-402"
    forged = http.get(url, headers={"Authorization": "Bearer not-one-of-ours"}, timeout=10)
    assert forged.status_code == 401 and forged.json()["errorCode"] == "OAU-129"
    token = auth["Authorization"].removeprefix("Bearer ")
    assert http.get(url, params={"access_token": token}, timeout=10).status_code == 200  # the spec allows it
    assert http.get(url, params={"access_token": "x" + token}, timeout=10).status_code == 401


def test_an_expired_or_revoked_token_reads_no_content():
    with running() as (emu, http, auth):
        url = recorded_calls(emu, http, auth)[0]["recording"]["contentUri"]
        emu.expire_access_tokens()
        expired = http.get(url, headers=auth, timeout=10)
        assert expired.status_code == 401 and expired.json()["errorCode"] == "OAU-128"
        fresh = {"Authorization": f"Bearer {jwt_token(emu, http)['access_token']}"}
        assert http.get(url, headers=fresh, timeout=10).status_code == 200
        emu.revoke_all()
        revoked = http.get(url, headers=fresh, timeout=10)
        assert revoked.status_code == 401 and revoked.json()["errorCode"] == "OAU-211"


def test_an_app_without_read_call_recording_gets_403_insufficient_permissions():
    with running(apps=(App(scopes=("ReadAccounts", "ReadCallLog")),)) as (emu, http, auth):
        record = recorded_calls(emu, http, auth)[0]
        for url in (record["recording"]["contentUri"], record["recording"]["uri"]):
            refused = http.get(url, headers=auth, timeout=10)
            assert refused.status_code == 403, url
            body = refused.json()
            assert body["errorCode"] == "InsufficientPermissions"
            assert body["errors"][0] == {
                "errorCode": "CMN-401",
                "message": "In order to call this API endpoint, application needs to have "
                "[ReadCallRecording] permission",
                "permissionName": "ReadCallRecording",
            }


def test_an_unknown_recording_or_another_account_s_is_404(media):
    emu, http, auth = media
    recording = recorded_calls(emu, http, auth)[0]["recording"]
    ids = recording["id"]
    for path in (
        f"/restapi/v1.0/account/~/recording/{int(ids) + 1}/content",
        "/restapi/v1.0/account/~/recording/abc/content",
        f"/restapi/v1.0/account/99999999/recording/{ids}/content",
    ):
        answer = http.get(f"{emu.media_url}{path}", headers=auth, timeout=10)
        assert answer.status_code == 404 and answer.json()["errorCode"] == "CMN-102", path
    assert (
        http.get(
            f"{emu.media_url}/restapi/v1.0/account/~/recording/{ids}/content", headers=auth, timeout=10
        ).status_code
        == 200
    )


def test_a_recording_of_a_deleted_record_is_gone():
    with running(anchor_time=1_750_000_000.0) as (emu, http, auth):
        answer = http.get(
            f"{emu.base_url}/restapi/v1.0/account/~/call-log",
            params={"showDeleted": "true", "recordingType": "All", "dateFrom": FAR_PAST, "perPage": 1000},
            headers=auth,
            timeout=30,
        )
        deleted = [r for r in answer.json()["records"] if r["deleted"]]
        assert deleted
        for record in deleted[:3]:
            assert content(http, auth, record).status_code == 404


# -- limits and faults --------------------------------------------------------------------------------------


def test_content_counts_in_the_heavy_group_with_the_call_log_and_is_refused_with_429():
    with running(rate_limits_enabled=True, rate_limits={"Heavy": 4}) as (emu, http, auth):
        record = recorded_calls(emu, http, auth)[0]  # one Heavy request
        remaining = []
        for _ in range(3):
            answer = http.head(record["recording"]["contentUri"], headers=auth, timeout=10)
            assert answer.status_code == 200 and answer.headers["X-Rate-Limit-Group"] == "Heavy"
            remaining.append(int(answer.headers["X-Rate-Limit-Remaining"]))
        assert remaining == [2, 1, 0]
        refused = content(http, auth, record)
        assert refused.status_code == 429 and refused.json()["errorCode"] == "CMN-301"
        assert int(refused.headers["Retry-After"]) >= 1 and refused.headers["X-Rate-Limit-Group"] == "Heavy"
        assert emu.counters()["rate_limited"] == 1


def test_a_cut_fault_ends_the_connection_before_the_body_is_whole(media):
    emu, http, auth = media
    url = urlsplit(recorded_calls(emu, http, auth)[0]["recording"]["contentUri"])
    emu.set(fault_rate=1.0, fault_kinds=("cut",))
    try:
        with contextlib.closing(http_client.HTTPConnection(url.hostname, url.port, timeout=10)) as connection:
            connection.request("GET", url.path, headers=auth)
            answer = connection.getresponse()
            promised = int(answer.headers["Content-Length"])
            with pytest.raises(http_client.IncompleteRead) as cut:
                answer.read()
    finally:
        emu.set(fault_rate=0.0)
    assert answer.status == 200 and len(cut.value.partial) < promised
    assert emu.counters()["faults_by_kind"]["cut"] >= 1


def test_a_trickle_fault_sends_the_body_slowly_and_whole():
    with running(fault_rate=1.0, fault_kinds=("trickle",), trickle_rate=400.0, fault_scope="api") as (
        emu,
        http,
        auth,
    ):
        emu.set(fault_rate=0.0)
        record = recorded_calls(emu, http, auth)[0]
        whole = content(http, auth, record, Range="bytes=0-159").content
        emu.set(fault_rate=1.0)
        started = time.monotonic()
        slow = content(http, auth, record, Range="bytes=0-159")
        assert time.monotonic() - started >= 0.28  # 160 bytes at 400 a second: 40 bytes, then 0.1 s, ...
        assert slow.status_code == 206 and slow.content == whole


def test_503_and_drop_faults_reach_the_media_origin_too():
    with running() as (emu, http, auth):
        url = recorded_calls(emu, http, auth)[0]["recording"]["contentUri"]
        emu.set(fault_rate=1.0, fault_kinds=("503",))
        assert http.head(url, headers=auth, timeout=10).status_code == 503
        emu.set(fault_kinds=("drop",))
        with pytest.raises(requests.ConnectionError):
            http.head(url, headers=auth, timeout=10)


def test_faults_scoped_to_media_fail_the_content_and_leave_the_call_log_and_tokens_alone():
    with running() as (emu, http, auth):
        url = recorded_calls(emu, http, auth)[0]["recording"]["contentUri"]
        emu.set(fault_rate=1.0, fault_kinds=("503",), fault_scope="media")
        assert http.head(url, headers=auth, timeout=10).status_code == 503
        assert recorded_calls(emu, http, auth)  # the listing that names the recording still answers
        assert jwt_token(emu, http)["access_token"]  # and so does the token endpoint


def test_recording_content_is_what_the_media_origin_serves(media):
    emu, http, auth = media
    record = recorded_calls(emu, http, auth)[0]
    served = content(http, auth, record).content
    assert emu.recording_content(record["recording"]["id"]) == served
    assert emu.recording_content("999999999999") is None


def test_counters_count_media_requests_and_the_body_bytes_sent():
    with running() as (emu, http, auth):
        record = recorded_calls(emu, http, auth)[0]
        before = emu.counters()
        body = content(http, auth, record).content
        content(http, auth, record, Range="bytes=0-99")
        http.head(record["recording"]["contentUri"], headers=auth, timeout=10)
        after = emu.counters()
        assert after["media_requests"] - before["media_requests"] == 3
        assert after["media_bytes"] - before["media_bytes"] == len(body) + 100
