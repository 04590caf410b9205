"""File names made from server data, safe on Linux, macOS and Windows.

A recording's file name is built from what RingCentral sent (the call's start time, its parties, the
recording's id), and whoever calls you chooses the caller ID that comes with it: so every part is
untrusted text. A name from `recording_filename` is one path component and nothing else:

- only letters and digits of any script (NFC-normalised: macOS would otherwise store another spelling
  of the same name), `+`, `-` and `_`; everything else (path separators, `..`, control and bidi
  characters such as U+202E, Windows' reserved `<>:"/\\|?*`, spaces) becomes `_`;
- one dot, before an extension rcauth chose from the answer's type (never the server's text), so no
  trailing dot or space (Windows drops them, making two names one);
- never a Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, whatever follows them);
- at most `MAX_BYTES` bytes of UTF-8 (file systems allow 255; a long party is shortened, the recording
  id, which makes the name unique, is kept).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime, timezone
from typing import Any

MAX_BYTES = 120
# The recording id is what makes a name unique: kept whole up to this, else shortened with a digest.
MAX_ID_BYTES = 40
# RingCentral's content types for recordings (the spec's two, and WAV's older spelling).
EXTENSIONS = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/wav": "wav", "audio/x-wav": "wav"}
UNKNOWN_EXTENSION = "bin"
ALL_EXTENSIONS = ("mp3", "wav", UNKNOWN_EXTENSION)
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])", re.IGNORECASE)
_RUNS = re.compile(r"_{2,}")


def extension_for(content_type: str | None) -> str:
    """The file extension for a `Content-Type` (parameters and case ignored): mp3, wav, or bin."""
    kind = (content_type or "").split(";")[0].strip().lower()
    return EXTENSIONS.get(kind, UNKNOWN_EXTENSION)


def component(text: str, *, max_bytes: int) -> str:
    """`text` as a safe run of a name: NFC, letters and digits of any script and `+-_` kept, anything
    else `_` (runs of them one), trimmed of `_` at both ends, cut to `max_bytes` bytes of UTF-8 at a
    character's boundary. May be empty."""
    text = unicodedata.normalize("NFC", text)
    kept = "".join(c if _allowed(c) else "_" for c in text)
    kept = _RUNS.sub("_", kept).strip("_")
    return _cut(kept, max_bytes).strip("_")


def _allowed(char: str) -> bool:
    if char in "+-_":
        return True
    # Letters and digits of every script: L* and N* (no marks, which could combine with a separator).
    return unicodedata.category(char)[0] in "LN" and char.isprintable()


def _cut(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")


def utc_stamp(start_time: Any) -> str:
    """RingCentral's `startTime` as `20261207T101500Z` (UTC: the same name on every machine), or
    `unknown-time` when it is not a date-time."""
    if isinstance(start_time, str):
        try:
            moment = datetime.fromisoformat(start_time.strip().replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            try:
                return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            except (OverflowError, ValueError):
                pass
    return "unknown-time"


def party_label(party: Any) -> str:
    """Who a party is, for a file name: the phone number, else `ext` and the extension number, else the
    name (any of which may be hostile: `component` makes it safe)."""
    if not isinstance(party, dict):
        return ""
    for key, prefix in (("phoneNumber", ""), ("extensionNumber", "ext"), ("name", "")):
        value = party.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return prefix + str(value)
    return ""


def recording_stem(record: Any) -> str:
    """The name of a record's recording without its extension:
    `START_DIRECTION_FROM_to_TO_rRECORDINGID` (e.g. `20261207T101500Z_Inbound_+16505550123_to_ext101_r4012`),
    within `MAX_BYTES` with room for `.wav.part`."""
    record = record if isinstance(record, dict) else {}
    recording = record.get("recording") if isinstance(record.get("recording"), dict) else {}
    raw_id = str(recording.get("id", "")) if recording.get("id") is not None else ""
    rec_id = component(raw_id, max_bytes=MAX_ID_BYTES * 4)
    if not rec_id or len(rec_id.encode("utf-8")) > MAX_ID_BYTES or rec_id != raw_id:
        # Anything else than a short plain id: shortened, with a digest of the whole so two ids
        # that clean up alike still differ.
        digest = hashlib.sha256(raw_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        rec_id = f"{component(raw_id, max_bytes=MAX_ID_BYTES - 13)}-{digest}".lstrip("-")
    direction = component(str(record.get("direction") or ""), max_bytes=16) or "call"
    head = f"{utc_stamp(record.get('startTime'))}_{direction}"
    tail = f"_r{rec_id}"
    # What is left for the two parties, `.wav.part` (9 bytes) kept free.
    room = MAX_BYTES - 9 - len(head.encode("utf-8")) - len(tail.encode("utf-8")) - len("__to_")
    each = max(0, room // 2)
    sender = component(party_label(record.get("from")), max_bytes=each) or "unknown"
    receiver = component(party_label(record.get("to")), max_bytes=each) or "unknown"
    stem = f"{head}_{sender}_to_{receiver}{tail}"
    return _not_reserved(_cut(stem, MAX_BYTES - 9))


def _not_reserved(stem: str) -> str:
    """Windows reserves its device names with any extension (`CON.mp3` is the console): such a stem
    gets a `_` in front. A stem from `recording_stem` begins with a time, so this is a guard."""
    first = stem.split(".")[0]
    return f"_{stem}" if _RESERVED.fullmatch(first) else stem


def recording_filename(record: Any, content_type: str | None) -> str:
    """The whole file name of a record's recording: its stem and the extension of `content_type`."""
    return f"{recording_stem(record)}.{extension_for(content_type)}"
