"""Login latency: from the browser's callback request to the session stored and the success page sent.

Drives `rcauth.flow.login` in this process against an emulator, with a browser that approves the
consent page the way `rcauth.demo.HeadlessApprover` does (load it, press Approve) but sends the redirect
to the loopback itself, so the one request that matters is timed from the browser's side. Timing hooks
around the code exchange and the store write split the latency into its parts. Prints JSON.

    python bench/login_latency.py --server URL --redirect-uri http://127.0.0.1:PORT/oauth2callback \
        --data-dir DIR --runs 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from rcauth import flow
from rcauth.config import Settings
from rcauth.demo import _FormParser  # the demo's own consent-form reader: one parser in the project
from rcauth.oauth import RingCentralOAuth
from rcauth.session import Session
from rcauth.store import FileStore, MemoryStore

CLIENT_ID = "rcauth-emulator-client"
CLIENT_SECRET = "rcauth-emulator-secret"  # noqa: S105 - the emulator's published demo credential


class TimedBrowser:
    """Presses Approve on the consent page, then times the redirect it is sent to (the callback)."""

    def __init__(self) -> None:
        self.sent = self.answered = 0.0
        self.status = 0
        self.error: str | None = None
        self.done = threading.Event()

    def __call__(self, url: str) -> None:
        threading.Thread(target=self._run, args=(url,), daemon=True).start()

    def _run(self, url: str) -> None:
        try:
            with requests.Session() as http:
                http.trust_env = False
                page = http.get(url, timeout=30)
                page.raise_for_status()
                parser = _FormParser()
                parser.feed(page.text)
                form = parser.forms[0]
                name, value = next((n, v) for n, v, text in form.buttons if text.lower() == "approve")
                answer = http.post(
                    urljoin(page.url, form.action or page.url),
                    data=[*form.fields, (name, value)],
                    allow_redirects=False,
                    timeout=30,
                )
                callback = answer.headers["Location"]
                self.sent = time.perf_counter()
                final = http.get(callback, timeout=90)
                self.answered = time.perf_counter()
                self.status = final.status_code
        except Exception as exc:  # noqa: BLE001 - reported in the output; the login then times out
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.done.set()


class TimedOAuth(RingCentralOAuth):
    """Counts and times the code exchange (the one token request of a login)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exchanges: list[float] = []

    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        start = time.perf_counter()
        try:
            return super().exchange_code(code, redirect_uri=redirect_uri, code_verifier=code_verifier)
        finally:
            self.exchanges.append(time.perf_counter() - start)


def one_login(settings: Settings, store: FileStore | MemoryStore) -> dict[str, Any]:
    browser = TimedBrowser()
    oauth = TimedOAuth(settings.server, settings.client_id, settings.client_secret)
    writes: list[float] = []

    def save(session: Session) -> None:
        start = time.perf_counter()
        store.save(session)
        writes.append(time.perf_counter() - start)

    flow.login(settings, flow.Browser(open_browser=browser, timeout=30), save=save, oauth=oauth)
    if not browser.done.wait(30) or browser.error:
        raise RuntimeError(f"the browser failed: {browser.error}")
    return {
        "callback_to_page_s": browser.answered - browser.sent,
        "page_status": browser.status,
        "token_requests": len(oauth.exchanges),
        "exchange_s": sum(oauth.exchanges),
        "store_writes": len(writes),
        "store_write_s": sum(writes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--redirect-uri", required=True)
    parser.add_argument("--data-dir", type=Path, help="FileStore directory (default: keep it in memory)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    settings = Settings(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, server=args.server, redirect_uri=args.redirect_uri
    )
    store: FileStore | MemoryStore = (
        FileStore("login-bench", args.data_dir) if args.data_dir else MemoryStore("login-bench")
    )
    results = [one_login(settings, store) for _ in range(args.warmup + args.runs)][args.warmup :]
    summary = {
        key: statistics.median(r[key] for r in results)
        for key in ("callback_to_page_s", "exchange_s", "store_write_s")
    }
    json.dump({"runs": results, "median": summary, "store": store.kind}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
