"""`rcauth recordings list` and `download`, from real processes against the emulator (its media origin
as the session's media server): the listing, every recording saved byte for byte, a second run that
asks nothing, a run cut off and resumed with a byte range, hostile names, a content URL on another
host that never sees the token, an app without ReadCallRecording, the Heavy rate limit."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests
from helpers import serving
from hostile_ringcentral import HostileRingCentral, Listing, call
from reliability_support import Rcauth

from rcauth.client import RESUME_OVERLAP
from rcauth.session import Session
from ringcentral_emulator import App, Emulator

NAME = r"\d{8}T\d{6}Z_(Inbound|Outbound)_[^/\\]+_to_[^/\\]+_r\d+\.(mp3|wav)"


@pytest.fixture
def signed_in(sign_in: Callable[..., Session], emu: Emulator) -> Session:
    return sign_in(media_server=emu.media_url)


def content(session: Session, uri: str) -> bytes:
    """A recording's bytes as RingCentral serves them, asked for directly (the reference)."""
    answer = requests.get(uri, headers={"Authorization": f"Bearer {session.access_token}"}, timeout=30)
    answer.raise_for_status()
    return answer.content


def listed(rcauth: Rcauth, *args: str) -> list[dict]:
    result = rcauth.run("recordings", "list", "--from", "30d", "--format", "json", *args)
    assert result.code == 0, str(result)
    return json.loads(result.out)


def test_list_shows_only_calls_with_a_recording_in_every_format(rcauth: Rcauth, signed_in: Session) -> None:
    records = listed(rcauth, "--limit", "40")
    assert len(records) == 40
    assert all(r["recording"]["contentUri"].startswith(signed_in.media_server) for r in records)
    assert all(r["duration"] >= 30 for r in records)  # RingCentral keeps no recording of a shorter call
    csv = rcauth.run("recordings", "list", "--from", "30d", "--limit", "2", "--format", "csv")
    assert csv.code == 0 and csv.out.splitlines()[0].startswith("id,startTime,duration,direction,"), str(csv)
    assert len(csv.out.splitlines()) == 3
    table = rcauth.run("recordings", "list", "--from", "30d", "--limit", "2", "--format", "table")
    assert table.code == 0 and records[0]["recording"]["id"] in table.out, str(table)


def test_download_saves_every_recording_byte_for_byte_and_a_second_run_asks_nothing(
    rcauth: Rcauth, signed_in: Session, emu: Emulator, tmp_path: Path
) -> None:
    records = listed(rcauth, "--limit", "3")
    folder = tmp_path / "calls"
    result = rcauth.run(
        "recordings", "download", "--from", "30d", "--limit", "3", "--dir", str(folder), "--json"
    )
    assert result.code == 0, str(result)
    manifest = json.loads(result.out)
    assert [m["recording_id"] for m in manifest] == [r["recording"]["id"] for r in records]
    for item, record in zip(manifest, records, strict=True):
        body = content(signed_in, record["recording"]["contentUri"])
        saved = folder / item["file"]
        assert item["status"] == "saved" and item["bytes"] == len(body) == saved.stat().st_size
        assert saved.read_bytes() == body and item["sha256"] == hashlib.sha256(body).hexdigest()
        assert item["record_id"] == record["id"] and item["content_type"] in ("audio/mpeg", "audio/wav")
        assert item["file"].endswith(
            f"_r{record['recording']['id']}.{'mp3' if 'mpeg' in item['content_type'] else 'wav'}"
        )
    assert sorted(p.name for p in folder.iterdir()) == sorted(m["file"] for m in manifest)  # no .part left
    size = sum(m["bytes"] for m in manifest) / 1000
    assert result.err.strip().endswith(f"to {folder}") and "saved 3 recordings (" in result.err, str(result)
    assert f"{size / 1000:.1f} MB" in result.err or f"{size:.1f} kB" in result.err, str(result)

    before = emu.counters()["media_requests"]
    again = rcauth.run("recordings", "download", "--from", "30d", "--limit", "3", "--dir", str(folder))
    assert (
        again.code == 0 and "saved 0 recordings (0 bytes)" in again.err and "; 3 already there" in again.err
    )
    assert emu.counters()["media_requests"] == before  # skipped by name: the Heavy allowance is not spent


def test_a_download_cut_off_part_way_is_resumed_with_a_range_and_ends_byte_identical(
    rcauth: Rcauth, signed_in: Session, emu: Emulator, tmp_path: Path
) -> None:
    [record] = listed(rcauth, "--limit", "1")
    emu.set(recording_seconds=600, fault_rate=1.0, fault_kinds=["trickle"], trickle_rate=20_000)
    folder = tmp_path / "calls"
    proc = rcauth.start("recordings", "download", "--from", "30d", "--limit", "1", "--dir", str(folder))
    deadline = time.monotonic() + 30
    while not any(p.name.endswith(".part") and p.stat().st_size > 20_000 for p in folder.glob("*")):
        assert time.monotonic() < deadline and proc.poll() is None, str(rcauth.finish(proc))
        time.sleep(0.05)
    interrupted = rcauth.interrupt(proc)
    assert interrupted.code == 130, str(interrupted)
    [part] = list(folder.iterdir())  # the part is kept, and nothing has a final name
    assert part.name.endswith(".part")
    kept = part.stat().st_size

    emu.set(fault_rate=0.0)
    before = emu.counters()
    resumed = rcauth.run(
        "recordings", "download", "--from", "30d", "--limit", "1", "--dir", str(folder), "--json"
    )
    assert resumed.code == 0, str(resumed)
    [item] = json.loads(resumed.out)
    after = emu.counters()
    body = content(signed_in, record["recording"]["contentUri"])
    assert item["status"] == "saved" and item["resumed_from"] >= kept > 0
    assert (folder / item["file"]).read_bytes() == body and item["sha256"] == hashlib.sha256(body).hexdigest()
    assert after["responses"].get("206", 0) == before["responses"].get("206", 0) + 1  # Range, not a new body
    # Only what was missing, and the few bytes asked for again to check the part is this recording's.
    overlap = min(RESUME_OVERLAP, item["resumed_from"])
    assert after["media_bytes"] - before["media_bytes"] == len(body) - item["resumed_from"] + overlap
    assert [p.name for p in folder.iterdir()] == [item["file"]]


def test_an_app_without_read_call_recording_is_one_line_not_one_per_recording(
    rcauth: Rcauth, sign_in: Callable[..., Session], emu: Emulator, tmp_path: Path
) -> None:
    app = emu.config.apps[0]
    emu.set(
        apps=[
            App(
                client_id=app.client_id,
                client_secret=app.client_secret,
                redirect_uris=app.redirect_uris,
                scopes=("ReadAccounts", "ReadCallLog"),
            )
        ]
    )
    sign_in(media_server=emu.media_url)  # a session of that app: its token lacks the permission
    result = rcauth.run(
        "recordings", "download", "--from", "30d", "--limit", "5", "--dir", str(tmp_path / "d")
    )
    assert result.code == 5, str(result)
    [line] = result.err.splitlines()
    assert line.startswith("Error: ") and "(HTTP 403)" in line, line
    assert line.endswith(
        'add "Read Call Recording" to the app in RingCentral\'s developer console, then sign in again '
        "(`rcauth login`)"
    ), line
    assert list((tmp_path / "d").iterdir()) == []
    assert emu.counters()["media_requests"] == 1  # the first refusal stopped the run


def test_downloads_are_paced_to_the_heavy_limit_without_a_429(
    rcauth: Rcauth, signed_in: Session, emu: Emulator, tmp_path: Path
) -> None:
    emu.set(rate_limits_enabled=True, rate_window=2.0, rate_penalty=2.0)
    started = time.monotonic()
    result = rcauth.run(
        "recordings", "download", "--from", "30d", "--limit", "14", "--dir", str(tmp_path / "d")
    )
    assert result.code == 0, str(result)
    assert "saved 14 recordings" in result.err, str(result)
    assert emu.counters()["rate_limited"] == 0, result.err  # paced: never refused
    assert time.monotonic() - started >= 2.0  # 15 Heavy requests (a page, 14 downloads) need a second window
    assert "pacing to stay under the rate limit" in result.err


class _Media:
    def __init__(self) -> None:
        self.authorizations: list[tuple[str, str | None]] = []


@pytest.fixture
def media_hosts() -> Iterator[tuple[str, str, _Media]]:
    """Two stub hosts: the session's media server and another one; both serve audio, and note who sent
    what Authorization."""
    seen = _Media()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.authorizations.append((self.headers["Host"], self.headers.get("Authorization")))
            body = b"ID3" + self.path.encode() * 100
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as ours, serving(Handler) as theirs:
        yield ours, theirs, seen


HOSTILE_PARTIES = [
    "../../../escape",
    "CON",
    "\x1b]0;owned\x07\x00\r\n",
    "\u202egpj.exe",
    "A" * 500,
    'a/b\\c:d*e?f"g<h>i|',
    "nul.txt .",
    "ｃｏｎ",
]


def test_hostile_names_stay_in_dir_and_a_foreign_content_url_never_gets_the_token(
    rcauth: Rcauth, sign_in: Callable[..., Session], media_hosts: tuple[str, str, _Media], tmp_path: Path
) -> None:
    ours, theirs, seen = media_hosts
    path = "/restapi/v1.0/account/1/recording/{}/content"
    records = [
        call(
            n,
            **{
                "from": {"phoneNumber": party},
                "to": {"extensionNumber": party, "name": party},
                "direction": party,
                "recording": {
                    "id": str(700 + n),
                    "type": "Automatic",
                    "contentUri": ours + path.format(700 + n),
                },
            },
        )
        for n, party in enumerate(HOSTILE_PARTIES)
    ]
    records.append(call(99, recording={"id": "799", "contentUri": theirs + path.format(799)}))
    with HostileRingCentral(listing=Listing(pages=[records])) as hostile:
        session = sign_in(server=hostile.base_url, media_server=ours)
        folder = tmp_path / "inner" / "calls"
        result = rcauth.run("recordings", "download", "--from", "30d", "--dir", str(folder), "--json")
    assert result.code == 5, str(result)
    manifest = json.loads(result.out)
    assert [m["status"] for m in manifest] == ["saved"] * len(HOSTILE_PARTIES) + ["failed"]
    host = theirs.removeprefix("http://")
    assert manifest[-1]["reason"] == (
        f"not downloaded: its content URL is on {host!r}, where the token does not go"
    )
    assert result.err.splitlines()[-1] == f"Error: 1 of {len(records)} recordings not saved"
    assert (
        f"failed: recording 799 of call record-99: not downloaded: its content URL is on {host!r}"
        in result.err
    )
    # The foreign host was never asked; ours got the token.
    assert [h for h, _ in seen.authorizations] == [ours.removeprefix("http://")] * len(HOSTILE_PARTIES)
    assert all(a == f"Bearer {session.access_token}" for _, a in seen.authorizations)
    # Every file is directly in DIR, under a name safe everywhere; nothing anywhere else.
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(m["file"] for m in manifest[:-1]) and len(set(names)) == len(HOSTILE_PARTIES)
    assert sorted(p.name for p in (tmp_path / "inner").rglob("*") if p.is_file()) == names
    for name in names:
        assert len(name.encode()) <= 120 and name.isprintable() and "\u202e" not in name
        assert not any(c in name for c in '<>:"/\\|?*') and ".." not in name
        assert name.split(".")[0].upper() not in ("CON", "NUL") and name[-1] not in ". "
    assert session.access_token not in result.out + result.err
    assert os.environ.get("RC_JWT", "\0") not in result.err


def test_a_manifest_that_cannot_be_written_is_said_after_what_the_run_saved(
    rcauth: Rcauth, signed_in: Session, tmp_path: Path
) -> None:
    # The manifest is the last thing written: its failure must not hide the summary (or the files).
    folder = tmp_path / "calls"
    nowhere = tmp_path / "missing" / "manifest.json"
    args = ("--from", "30d", "--limit", "1", "--dir", str(folder), "--manifest", str(nowhere))
    result = rcauth.run("recordings", "download", *args)
    assert result.code == 1, str(result)
    lines = result.err.splitlines()
    assert lines[0].startswith("saved 1 recording (") and lines[0].endswith(f"to {folder}")
    assert lines[1] == f"Error: cannot write the manifest {str(nowhere)!r}: No such file or directory"
    assert len(lines) == 2 and len(list(folder.iterdir())) == 1


def test_a_run_not_signed_in_makes_no_directory(rcauth: Rcauth, tmp_path: Path) -> None:
    folder = tmp_path / "calls"
    result = rcauth.run("recordings", "download", "--dir", str(folder))
    assert result.code == 4 and not folder.exists(), str(result)


def test_a_run_that_lists_nothing_because_it_stopped_writes_no_manifest(
    rcauth: Rcauth, signed_in: Session, tmp_path: Path
) -> None:
    """As --json writes nothing then: an empty manifest would pass for an empty period."""
    import fcntl

    folder = tmp_path / "calls"
    folder.mkdir()
    manifest = tmp_path / "manifest.json"
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another run holds the folder
        result = rcauth.run("recordings", "download", "--dir", str(folder), "--manifest", str(manifest))
    finally:
        os.close(fd)
    assert result.code == 1 and "another rcauth is downloading recordings into" in result.err, str(result)
    assert not manifest.exists()
