"""`rcauth.recordings.download_recordings`: what a run does with a file that is already there, or that
appears while its recording is fetched (never replaced), over the HTTP client layer (requests-mock)."""

from __future__ import annotations

import hashlib
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
AUDIO_HEADERS = {"Content-Type": "audio/mpeg", "Content-Length": str(len(AUDIO))}


def run(tmp_path: Path, appears: bytes | None = None) -> list:
    store = MemoryStore()
    store.save(make_session())
    written: list[int] = []

    def on_chunk(size: int) -> None:  # someone else saves a file under the same name meanwhile
        if appears is not None and not written:
            (tmp_path / NAME).write_bytes(appears)
        written.append(size)

    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CONTENT, content=AUDIO, headers=AUDIO_HEADERS)
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
        m.get(CONTENT, content=AUDIO, headers=AUDIO_HEADERS)
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
    # Another program spending the same allowance is why rcauth's own pacing did not avoid it: said so,
    # with RingCentral's wait and what the next run will do.
    hint = saved[0].hint or ""
    assert "shared by every program using this app" in hint and "wait 3600 s" in hint
    assert "saved recordings are skipped and partial ones resumed" in hint


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
    body = '{"uri": "account"}'
    page = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    [saved, asked] = _client_run(tmp_path, _records(1), text=body, headers=page)
    assert [s.status for s in saved] == ["failed"] and asked == 1
    assert saved[0].reason == "the answer is application/json, not a recording: not kept"
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == []


def test_without_checksums_files_saved_before_and_now_are_never_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SHA-256 reads the whole file: an archive saved before was read whole on every run, for a manifest
    nobody had asked for."""
    import rcauth.files

    (tmp_path / NAME).write_bytes(AUDIO)  # saved by an earlier run
    read: list[Path] = []
    real = rcauth.files.sha256_of
    monkeypatch.setattr(rcauth.files, "sha256_of", lambda path: read.append(path) or real(path))
    store = MemoryStore()
    store.save(make_session())
    other = {**RECORD, "id": "rec-2", "recording": {"id": "4013", "contentUri": CONTENT}}
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CONTENT, content=AUDIO, headers=AUDIO_HEADERS)
        quiet = list(download_recordings(client, [RECORD, other], tmp_path, checksums=False))
        assert [(s.status, s.sha256) for s in quiet] == [("exists", None), ("saved", None)] and read == []
        (tmp_path / quiet[1].file).unlink()
        summed = list(download_recordings(client, [RECORD, other], tmp_path))
    assert [s.sha256 for s in summed] == [hashlib.sha256(AUDIO).hexdigest()] * 2 and len(read) == 2


def test_a_second_download_into_the_same_folder_by_another_path_or_state_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock is the folder's own (flock on the directory): a run that reaches it by a symbolic link,
    or with another RCAUTH_STATE_DIR (another HOME), is refused as one by the same path is."""
    from rcauth.errors import DownloadBusy

    folder = tmp_path / "calls"
    folder.mkdir()
    alias = tmp_path / "alias"
    alias.symlink_to(folder)
    store = MemoryStore()
    store.save(make_session())
    with requests_mock.Mocker() as m, ApiClient(store) as client:
        m.get(CONTENT, content=AUDIO, headers=AUDIO_HEADERS)
        monkeypatch.setenv("RCAUTH_STATE_DIR", str(tmp_path / "state-1"))
        first = download_recordings(client, [RECORD, RECORD], folder)
        next(first)
        monkeypatch.setenv("RCAUTH_STATE_DIR", str(tmp_path / "state-2"))
        with pytest.raises(DownloadBusy):
            next(download_recordings(client, [RECORD], alias))
        list(first)
        assert [s.status for s in download_recordings(client, [RECORD], alias)] == ["exists"]


def test_an_empty_recording_is_not_kept_for_later_runs_to_skip(tmp_path: Path) -> None:
    [saved, asked] = _client_run(
        tmp_path, _records(1), content=b"", headers={"Content-Type": "audio/mpeg", "Content-Length": "0"}
    )
    assert [(s.status, s.reason) for s in saved] == [
        ("failed", "the server sent an empty recording: not kept")
    ]
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == []


def test_a_part_removed_while_it_is_written_fails_that_recording_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    real = ApiClient.fetch_part
    calls: list[int] = []

    def vanishing(self: ApiClient, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", "x.part")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ApiClient, "fetch_part", vanishing)
    [saved, asked] = _client_run(tmp_path, _records(2), content=AUDIO, headers=AUDIO_HEADERS)
    assert [s.status for s in saved] == ["failed", "saved"], saved


def test_a_folder_nothing_can_be_written_in_spends_no_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rcauth.files
    from rcauth.errors import OutputFailed

    monkeypatch.setattr(rcauth.files.os, "access", lambda path, mode: False)  # a read-only file system
    [saved, asked] = _client_run(tmp_path, _records(2), content=AUDIO, headers=AUDIO_HEADERS)
    assert len(saved) == 1 and isinstance(saved[0], OutputFailed) and asked == 0
