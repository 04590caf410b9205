"""The Python guide's examples (docs/guides/python.md) run as written: each fenced python block of the
page runs in its own process, in order, against the emulator, after `rcauth login`.
The browser sign-in block runs too: `$BROWSER` is a program that approves the consent page as a
user would (`rcauth.demo.HeadlessApprover`) and follows the redirect to the loopback."""

from __future__ import annotations

import re
import stat
import sys
from pathlib import Path

from reliability_support import REPO

from ringcentral_emulator import DEMO_JWT

GUIDE = REPO / "docs" / "guides" / "python.md"


def python_blocks(page: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", page, flags=re.DOTALL | re.MULTILINE)


def approving_browser(directory: Path) -> Path:
    """What `$BROWSER` runs with the sign-in URL: presses Approve and follows the redirect."""
    script = directory / "approve-in-browser"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "from rcauth.demo import HeadlessApprover\n"
        "HeadlessApprover('Approve').approve(sys.argv[1])\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


# What each block shows when it works, in the page's order.
EXPECTED = [
    "signed in as ",
    "downloaded ",
    "not sent: refusing to send the session's token to 'https://example.com/'",
    "",
    "stored in ",
    "404 CMN-102",
    "the SDK calls RingCentral as ",
]


def test_every_python_example_of_the_python_guide_runs_as_written(emu, rcauth, stored, tmp_path) -> None:
    blocks = python_blocks(GUIDE.read_text(encoding="utf-8"))
    assert len(blocks) == len(EXPECTED), "a block was added or removed: update EXPECTED"
    # The emulator's media origin, as `--media-server` names it: the recordings block fetches content.
    env = {"RC_JWT": DEMO_JWT, "BROWSER": str(approving_browser(tmp_path)), "RC_MEDIA_URL": emu.media_url}
    login = rcauth.run("login", "--jwt", env=env)
    assert login.code == 0, login

    for number, (block, shown) in enumerate(zip(blocks, EXPECTED, strict=True), start=1):
        result = rcauth.finish(rcauth.start(argv=[sys.executable, "-c", block], env=env), timeout=90)
        assert result.code == 0, f"docs/guides/python.md python block {number}:\n{block}\n{result}"
        assert shown in result.out, f"docs/guides/python.md python block {number}:\n{block}\n{result}"
        assert "Traceback" not in result.err, result

    counters = emu.counters()
    assert counters["grants"].get("urn:ietf:params:oauth:grant-type:jwt-bearer") == 2  # CLI + block 4
    assert counters["grants"].get("authorization_code") == 1  # the browser sign-in of block 4
    assert counters["refresh_reuses"] == 0
    after = rcauth.run("whoami", "--json")  # the session the examples left behind works
    assert after.code == 0, after
    session = stored()
    assert session is not None and session.refresh_token not in "".join(r.out for r in rcauth.results)
