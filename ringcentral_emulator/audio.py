"""Call recordings' audio, generated on demand: valid WAV and MP3 files of a call's length, never stored.

RingCentral serves a recording as `audio/mpeg` or `audio/wav` (the spec's readCallRecordingContent). Here
most recordings are MP3 and about one in five is WAV, chosen from the recording's id and the seed:

- WAV: RIFF/WAVE, PCM 8 kHz 16-bit mono (16,000 bytes a second, a telephone line's rate), a quiet tone
  with a little noise that repeats every second (a whole number of the tone's cycles).
- MP3: MPEG-1 Layer III frames at 32 kHz mono, 32, 48 or 64 kbps, each 1,152 samples (36 ms): silent
  frames (side information all zero: no Huffman data, so every sample decodes to 0), which any player
  opens. A frame at these rates is 144, 216 or 288 bytes, with no padding slot.

A body is a header (WAV's 44 bytes; none for MP3) and then one short period over and over, so any byte
range is cut from a block of the period repeated, precomputed once per kind: a 50 MB download is a few
hundred `memoryview`s of that block, with no Python work per byte.
"""

from __future__ import annotations

import hashlib
import math
import random
import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

MPEG = "audio/mpeg"
WAV = "audio/wav"  # the spec's name for it (readCallRecordingContent, GetCallRecordingResponse)

WAV_RATE = 8000  # samples a second
WAV_BYTES_PER_SECOND = WAV_RATE * 2
WAV_HEADER_LENGTH = 44
MP3_RATE = 32_000
MP3_SAMPLES_PER_FRAME = 1152
MP3_FRAME_MS = 1000 * MP3_SAMPLES_PER_FRAME // MP3_RATE  # 36, exactly
MP3_BITRATES = (32, 32, 48, 64)  # kbps, drawn per recording
_MP3_BITRATE_INDEX = {32: 1, 40: 2, 48: 3, 56: 4, 64: 5}  # MPEG-1 Layer III's table
_MP3_SIDE_INFO = 17  # bytes, MPEG-1 mono
_CHUNK = 1 << 18  # bytes a body piece holds at most


@dataclass(frozen=True)
class Audio:
    """One recording's file: `length` bytes, `header` then `period` repeated (cut short at the end)."""

    media_type: str
    duration_ms: int
    header: bytes
    data_length: int
    _kind: tuple[str, int]  # which repeated block the data comes from (see _block)

    @property
    def length(self) -> int:
        return len(self.header) + self.data_length

    @property
    def extension(self) -> str:
        return "mp3" if self.media_type == MPEG else "wav"

    def chunks(self, start: int, stop: int) -> Iterator[memoryview]:
        """Bytes `start` to `stop` (exclusive) of the file, in pieces of at most 256 KiB."""
        head = len(self.header)
        if start < head:
            yield memoryview(self.header)[start : min(stop, head)]
            start = head
        period, block = _block(*self._kind)
        while start < stop:
            at = (start - head) % period
            piece = block[at : at + min(stop - start, _CHUNK)]
            yield piece
            start += len(piece)

    def read(self, start: int, stop: int) -> bytes:
        """The bytes as one object (tests; small ranges)."""
        return b"".join(self.chunks(start, stop))

    def part(self, start: int, stop: int) -> AudioPart:
        return AudioPart(self, start, stop)


@dataclass(frozen=True)
class AudioPart:
    """A byte range of a recording, as a response body (`wire.Stream`)."""

    audio: Audio
    start: int
    stop: int

    @property
    def length(self) -> int:
        return self.stop - self.start

    def chunks(self) -> Iterator[memoryview]:
        return self.audio.chunks(self.start, self.stop)


def recording_audio(key: str, duration_ms: int) -> Audio:
    """The audio of the recording named by `key` (its id and the seed), `duration_ms` long."""
    h = hashlib.blake2b(key.encode("utf-8"), digest_size=8, person=b"rcauth-audio").digest()
    duration_ms = max(0, duration_ms)
    if h[0] < 52:  # about one in five
        return wav(duration_ms, h[1] % 8)
    return mp3(duration_ms, MP3_BITRATES[h[1] % len(MP3_BITRATES)])


def wav(duration_ms: int, variant: int = 0) -> Audio:
    """PCM 8 kHz 16-bit mono, `duration_ms` long (to the sample)."""
    data = duration_ms * WAV_RATE // 1000 * 2
    header = b"".join(
        (
            b"RIFF",
            struct.pack("<I", 36 + data),
            b"WAVE",
            b"fmt ",
            struct.pack("<IHHIIHH", 16, 1, 1, WAV_RATE, WAV_BYTES_PER_SECOND, 2, 16),
            b"data",
            struct.pack("<I", data),
        )
    )
    return Audio(WAV, duration_ms, header, data, ("wav", variant))


def mp3(duration_ms: int, kbps: int = 32) -> Audio:
    """Silent MPEG-1 Layer III frames at 32 kHz mono and `kbps`, enough to last `duration_ms`."""
    frames = math.ceil(duration_ms / MP3_FRAME_MS)
    return Audio(MPEG, duration_ms, b"", frames * mp3_frame_length(kbps), ("mp3", kbps))


def mp3_frame_length(kbps: int) -> int:
    """ISO 11172-3: a Layer III frame is 144 * bitrate / sample rate bytes (plus a padding byte when set)."""
    return 144 * kbps * 1000 // MP3_RATE


@lru_cache(maxsize=16)
def _block(kind: str, variant: int) -> tuple[int, memoryview]:
    """(period length, the period repeated to fill a piece wherever in it a piece starts)."""
    period = _wav_period(variant) if kind == "wav" else _mp3_frame(variant)
    block = period * (_CHUNK // len(period) + 2)
    return len(period), memoryview(block).toreadonly()


def _wav_period(variant: int) -> bytes:
    """One second of a quiet tone (300-580 Hz, a whole number of cycles a second, so the seconds join
    without a click) and faint noise, as 16-bit little-endian samples."""
    rng = random.Random(f"rcauth-wav:{variant}")  # noqa: S311 - seeded fake audio
    frequency = 300 + 40 * variant
    samples = array(
        "h",
        (
            int(900 * math.sin(2 * math.pi * frequency * n / WAV_RATE)) + rng.randint(-120, 120)
            for n in range(WAV_RATE)
        ),
    )
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def _mp3_frame(kbps: int) -> bytes:
    """A silent frame: header (sync, MPEG-1, Layer III, no CRC, `kbps`, 32 kHz, no padding, mono, original),
    17 bytes of zero side information, and zero main data."""
    header = bytes((0xFF, 0xFB, (_MP3_BITRATE_INDEX[kbps] << 4) | (0b10 << 2), 0b1100_0100))
    length = mp3_frame_length(kbps)
    return header + bytes(_MP3_SIDE_INFO) + bytes(length - len(header) - _MP3_SIDE_INFO)
