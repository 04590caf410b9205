"""`rcauth.recordings.download_recordings`: what a run does with a file that is already there, or that
appears while its recording is fetched (never replaced), over the HTTP client layer (requests-mock)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests_mock
from helpers import make_session

from rcauth.client import ApiClient
from rcauth.recordings import download_recordings
from rcauth.store import MemoryStore

MEDIA = "https://media.ringcentral.com"
CONTENT = MEDIA + "/restapi/v1.0/account/1/recording/4012/content"
RECORD = {
    "id": "rec-1",
    "startTime": "2026-12-07T10:15:00.000Z",
    "direction": "Inbound",
    "from": {"phoneNumber": "+16505550123"},
    "to": {"extensionNumber": "101"},
    "recording": {"id": "4012", "contentUri": CONTENT},
}
NAME = "20261207T101500Z_Inbound_+16505550123_to_ext101_r4012.mp3"
AUDIO = b"ID3" + bytes(range(256)) * 8


def run(tmp_path: Path, appears: bytes | None = None) -> list:
    store = MemoryStore()
    store.save(make_session())
    written: list[int] = []

    def on_chunk(size: int) -> None:  # someone else saves a file under the same name meanwhile
        if appears is not None and not written:
            (tmp_path / NAME).write_bytes(appears)
        written.append(size)

    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(
            CONTENT, content=AUDIO, headers={"Content-Type": "audio/mpeg", "Content-Length": str(len(AUDIO))}
        )
        return list(download_recordings(client, [RECORD], tmp_path, on_chunk=on_chunk))


def test_a_file_that_appears_with_other_content_is_kept_and_the_recording_fails(tmp_path: Path) -> None:
    [saved] = run(tmp_path, appears=b"someone else's")
    assert (saved.status, saved.file) == ("failed", NAME + ".part")
    assert saved.reason == f"{NAME} exists with other content: kept as it is"
    assert (tmp_path / NAME).read_bytes() == b"someone else's"
    assert (tmp_path / (NAME + ".part")).read_bytes() == AUDIO


def test_a_file_that_appears_with_the_same_content_counts_as_already_there(tmp_path: Path) -> None:
    [saved] = run(tmp_path, appears=AUDIO)
    assert (saved.status, saved.file, saved.bytes) == ("exists", NAME, len(AUDIO))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == [NAME]


def test_a_final_name_that_is_a_symbolic_link_is_in_the_way_not_followed(tmp_path: Path) -> None:
    (tmp_path / NAME).symlink_to(tmp_path / "elsewhere")
    [saved] = run(tmp_path)
    assert saved.status == "failed" and saved.reason == f"{NAME} is in the way (not a regular file)"
    assert not (tmp_path / "elsewhere").exists()


def _client_run(tmp_path: Path, records: list, **answer) -> list:
    store = MemoryStore()
    store.save(make_session())
    with requests_mock.Mocker() as m, ApiClient(store, sleep=lambda s: None) as client:
        m.get(requests_mock.ANY, **answer)
        saved = []
        try:
            for item in download_recordings(client, records, tmp_path):
                saved.append(item)
        except Exception as exc:  # noqa: BLE001 - the test looks at what stopped the run
            saved.append(exc)
        return [saved, m.call_count]


def _records(n: int) -> list:
    def recording(i: int) -> dict:
        return {"id": f"40{i}", "contentUri": CONTENT.replace("4012", f"40{i}")}

    return [{**RECORD, "id": f"rec-{i}", "recording": recording(i)} for i in range(n)]


def test_a_second_download_into_the_same_folder_at_once_is_refused_not_interleaved(tmp_path: Path) -> None:
    # Two runs resuming the same .part at once saved a recording with its tail twice.
    from rcauth.errors import DownloadBusy

    store = MemoryStore()
    store.save(make_session())
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CONTENT, content=AUDIO, headers={"Content-Type": "audio/mpeg"})
        first = download_recordings(client, [RECORD, RECORD], tmp_path)
        next(first)  # the first run is under way, holding the folder
        with pytest.raises(DownloadBusy, match="another rcauth is downloading recordings into"):
            next(download_recordings(client, [RECORD], tmp_path))
        rest = list(first)
    assert [s.status for s in rest] == ["saved"]


def test_a_part_file_that_is_a_symbolic_link_is_in_the_way_and_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(AUDIO)
    (tmp_path / (NAME + ".part")).symlink_to(victim)
    [[saved], asked] = _client_run(tmp_path, [RECORD], content=AUDIO, headers={"Content-Type": "audio/mpeg"})
    assert saved.status == "failed" and saved.reason == f"{NAME}.part is in the way (not a regular file)"
    assert asked == 0 and not (tmp_path / NAME).exists() and victim.read_bytes() == AUDIO


def test_a_rate_limit_stops_the_run_instead_of_asking_for_every_other_recording(tmp_path: Path) -> None:
    # Each request made during RingCentral's penalty starts the penalty again.
    from rcauth.errors import ApiError

    limited = {"errorCode": "CMN-301", "message": "Request rate exceeded"}
    [saved, asked] = _client_run(
        tmp_path, _records(5), status_code=429, json=limited, headers={"Retry-After": "3600"}
    )
    assert len(saved) == 1 and isinstance(saved[0], ApiError) and saved[0].status == 429
    assert asked == 1


def test_a_folder_that_cannot_be_written_stops_the_run_at_the_first_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from rcauth import files
    from rcauth.errors import OutputFailed

    def full(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "write_part", full)
    [saved, asked] = _client_run(tmp_path, _records(4), content=AUDIO, headers={"Content-Type": "audio/mpeg"})
    assert len(saved) == 1 and isinstance(saved[0], OutputFailed) and "No space left" in str(saved[0])
    assert asked == 1


def test_a_403_for_another_permission_fails_that_recording_not_the_run(tmp_path: Path) -> None:
    other = {
        "errorCode": "InsufficientPermissions",
        "message": "needs ReadCompanyCallRecordings",
        "errors": [{"errorCode": "CMN-401", "permissionName": "ReadCompanyCallRecordings"}],
    }
    [saved, asked] = _client_run(tmp_path, _records(2), status_code=403, json=other)
    assert [s.status for s in saved] == ["failed", "failed"] and asked == 2
    assert "Read Call Recording" not in saved[0].reason


def test_a_page_answered_for_a_recording_is_not_kept_as_one(tmp_path: Path) -> None:
    # A contentUri pointing at the API (or a proxy's page) answers JSON or HTML: not audio.
    page = {"Content-Type": "application/json"}
    [saved, asked] = _client_run(tmp_path, _records(1), json={"uri": "account"}, headers=page)
    assert [s.status for s in saved] == ["failed"] and asked == 1
    assert saved[0].reason == "the answer is application/json, not a recording: not kept"
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == []


def test_a_state_directory_that_is_a_file_is_a_storage_error_naming_it_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The folder's lock lives in the state directory: a file there was an "unexpected error" (exit 1).
    from rcauth.errors import ExitCode, StorageUnavailable

    state = tmp_path / "state"
    state.write_text("a file where the state directory should be\n", encoding="utf-8")
    monkeypatch.setenv("RCAUTH_STATE_DIR", str(state))
    folder = tmp_path / "calls"
    folder.mkdir()
    [[stopped], asked] = _client_run(folder, [RECORD], content=AUDIO, headers={"Content-Type": "audio/mpeg"})
    assert isinstance(stopped, StorageUnavailable) and stopped.exit_code == ExitCode.STORAGE
    assert str(stopped) == f"cannot use the state directory {state}: {state} is not a directory"
    assert asked == 0 and list(folder.iterdir()) == []
