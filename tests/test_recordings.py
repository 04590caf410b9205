"""`rcauth.recordings.download_recordings`: what a run does with a file that is already there, or that
appears while its recording is fetched (never replaced), over the HTTP client layer (requests-mock)."""

from __future__ import annotations

from pathlib import Path

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
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAME]


def test_a_final_name_that_is_a_symbolic_link_is_in_the_way_not_followed(tmp_path: Path) -> None:
    (tmp_path / NAME).symlink_to(tmp_path / "elsewhere")
    [saved] = run(tmp_path)
    assert saved.status == "failed" and saved.reason == f"{NAME} is in the way (not a regular file)"
    assert not (tmp_path / "elsewhere").exists()
