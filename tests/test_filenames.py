"""`rcauth.filenames`: a recording's file name is made from server data (the caller chooses their own
caller ID), so whatever the record holds, the name is one safe path component on Linux, macOS and
Windows, deterministic, and unique by the recording id."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

from hypothesis import given
from hypothesis import strategies as st

from rcauth.filenames import MAX_BYTES, extension_for, recording_filename, recording_stem

RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(10)), *(f"LPT{n}" for n in range(10))}
HOSTILE = st.sampled_from(
    [
        "..",
        "../..",
        "/etc/passwd",
        "C:\\Windows",
        "CON",
        "nul.txt",
        "COM1",
        "\u202egpj.exe",
        "\x00\x1b[2J",
        "a" * 500,
        "é" * 300,
        "e\u0301",
        " . ",
        '<>:"|?*',
        "\ud800",
        "\u200b",
        "~",
        "\\\\server\\share",
    ]
)
TEXT = st.one_of(st.text(), HOSTILE, st.integers().map(str))
PARTY = st.one_of(
    st.none(),
    st.text(),
    st.fixed_dictionaries({}, optional={"phoneNumber": TEXT, "extensionNumber": TEXT, "name": TEXT}),
)
RECORD = st.fixed_dictionaries(
    {},
    optional={
        "startTime": st.one_of(TEXT, st.just("2026-12-07T10:15:00.000Z")),
        "direction": TEXT,
        "from": PARTY,
        "to": PARTY,
        "recording": st.fixed_dictionaries({}, optional={"id": st.one_of(TEXT, st.integers())}),
    },
)


def assert_safe(name: str) -> None:
    assert name == unicodedata.normalize("NFC", name)
    assert len(name.encode("utf-8")) <= MAX_BYTES
    assert name.isprintable() and not any(c in name for c in '<>:"/\\|?*')
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in name)
    assert ".." not in name and not name.startswith(".") and name[-1] not in ". "
    assert name.split(".")[0].upper() not in RESERVED
    for flavour in (PurePosixPath, PureWindowsPath):
        assert flavour(name).name == name and len(flavour(name).parts) == 1


@given(RECORD, st.one_of(st.none(), st.text(), st.sampled_from(["audio/mpeg", "audio/wav", "audio/x-wav"])))
def test_any_record_gives_one_safe_file_name_with_a_known_extension(record, content_type) -> None:
    name = recording_filename(record, content_type)
    assert_safe(name)
    assert assert_safe(name + ".part") is None  # the partial file's name is safe too
    assert name.rsplit(".", 1)[1] in ("mp3", "wav", "bin")
    assert recording_filename(record, content_type) == name  # deterministic: a second run finds it


@given(RECORD, st.text(min_size=1), st.text(min_size=1))
def test_two_recording_ids_never_share_a_name(record, first, second) -> None:
    if first == second:
        return
    a = recording_stem({**record, "recording": {"id": first}})
    b = recording_stem({**record, "recording": {"id": second}})
    assert a != b


def test_a_name_reads_as_start_direction_parties_and_recording_id() -> None:
    record = {
        "startTime": "2026-12-07T11:15:00.000+01:00",
        "direction": "Inbound",
        "from": {"phoneNumber": "+16505550123", "name": "Eve"},
        "to": {"extensionNumber": "101", "name": "Alex"},
        "recording": {"id": "4012"},
    }
    assert (
        recording_filename(record, "audio/mpeg")
        == "20261207T101500Z_Inbound_+16505550123_to_ext101_r4012.mp3"
    )


def test_hostile_parties_become_underscores_not_paths() -> None:
    record = {
        "startTime": "not a time",
        "direction": "../..",
        "from": {"phoneNumber": "../../etc/passwd"},
        "to": {"name": "\u202eCON\x1b[2J"},
        "recording": {"id": "../7"},
    }
    name = recording_filename(record, "text/html")
    assert name.startswith("unknown-time_call_etc_passwd_to_CON_2J_r7-") and name.endswith(".bin"), name
    assert_safe(name)


def test_extension_comes_from_the_answers_type_only() -> None:
    assert [
        extension_for(t) for t in ("audio/mpeg", "Audio/WAV; charset=x", "audio/x-wav", "audio/ogg", None)
    ] == ["mp3", "wav", "wav", "bin", "bin"]
