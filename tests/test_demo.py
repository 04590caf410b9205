"""`rcauth demo`, as the README's first command runs it: a real process, no account, no keyring."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import serving

from rcauth.demo import HeadlessApprover


def test_demo_runs_the_whole_flow_without_keyring_or_browser(isolated: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")}
    # No keyring at all: the demo must neither need one nor fall back to a file.
    env.update(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", HOME=str(tmp_path / "home"))
    proc = subprocess.run(
        [sys.executable, "-m", "rcauth", "demo"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out, err = proc.stdout, proc.stderr
    assert "approving the consent page as a browser would" in err
    assert "Signed in as Alex Morgan (extension 101, alex.morgan@example.com)" in out
    assert "Extension ID" in out and "2071360004" in out  # the whoami table
    assert "Start time" in out and out.count("│ Inbound") + out.count("│ Outbound") == 10  # 10 calls
    assert "Signed out: tokens revoked and removed." in out
    assert "1 token grant(s), 1 revocation(s)" in err
    # Nothing stored anywhere: no session file, no profile index.
    leftovers = [p for p in (isolated / "data", isolated / "state") if p.exists() and any(p.iterdir())]
    assert leftovers == []


def test_headless_approver_reports_a_page_without_the_button() -> None:
    import http.server

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b"<html><form method=post action=/x><button>Maybe</button></form></html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serving(Page) as url:
        approver = HeadlessApprover("Approve")
        approver(f"{url}/")
        assert approver.finished.wait(10)
    assert approver.error and "no 'Approve' button" in approver.error
