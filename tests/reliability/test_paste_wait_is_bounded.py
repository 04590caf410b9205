"""`rcauth login --paste` waits for the address the browser landed on as long as `--timeout` says and
no longer, as the browser sign-in does: a script that pipes nothing, or a terminal left alone, ends with
one line, not never (every wait bounded)."""

from __future__ import annotations

import subprocess
import time

from reliability_support import Rcauth

from ringcentral_emulator import Emulator


def test_a_paste_that_never_comes_ends_at_the_timeout_with_one_line_and_no_grant(
    rcauth: Rcauth, emu: Emulator
) -> None:
    started = time.monotonic()
    proc = rcauth.start("login", "--paste", "--timeout", "1", stdin=subprocess.PIPE)  # open, never written
    result = rcauth.finish(proc, timeout=30)
    took = time.monotonic() - started
    assert result.code == 1, str(result)
    assert result.err.splitlines()[-1] == (
        "Error: no address was pasted within 1 s; run `rcauth login --paste` again, and paste the address "
        "soon: RingCentral's code in it is good for a minute"
    ), str(result)
    assert "Traceback" not in result.err and took < 15
    assert not emu.counters()["grants"]  # nothing was asked of the token endpoint
