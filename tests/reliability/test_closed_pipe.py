"""A reader that stops early (`rcauth call-log --all | head -1`): rcauth ends quietly, exit 1 and no
message (as click does for a closed stdout), and the session stays as it was."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("fmt", ["ndjson", "json", "csv"])
def test_a_reader_that_stops_early_ends_the_listing_quietly(emu, sign_in, env, stored, fmt: str) -> None:
    previous = sign_in()
    emu.set(call_records=20_000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rcauth", "call-log", "--all", "--from", "2000-01-01", "--format", fmt],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # the reader goes away, as `head -1` does
        err = proc.stderr.read()
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert first.strip()
    assert (code, err.decode()) == (1, "")
    assert stored() == previous
