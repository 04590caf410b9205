"""A listing that breaks part-way (issue 20, invariant 6): whatever ends it, the output that has started
is well-formed when the process exits, what was fetched is shown, stderr carries one line, and the exit
code says the result is incomplete.

One row per output × fault, against the emulator over real HTTP, through the intercepting proxy
(`HTTP_PROXY`), which turns the emulator's pages of 1000 into pages of `PER_PAGE` and breaks one
request: page 2 answered 500 (not a status rcauth retries), page 1's `nextPage` pointing at a foreign
origin, page 2's connection dropped half-way through its body, or page 2 held in flight while the
process gets SIGINT (Ctrl-C) or SIGTERM. Every row checks:

- the exit code: 5 (RingCentral or the network) or 128 + the signal;
- stderr: exactly one line, `Error: ...`, saying for an API fault how many calls came before it;
- stdout: well-formed for its format (a JSON array that a strict parser reads, whole NDJSON lines,
  CSV rows under their header, the table with its "incomplete" caption, the summary marked
  incomplete), holding page 1's records (all of them, or for a signal, those written before it).
"""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from intercepting_proxy import Answer, InterceptingProxy
from reliability_support import Rcauth, Result, stdout_of, wait_for

PER_PAGE = 40
CALLS = 200  # five pages of PER_PAGE in the period asked for
FROM = "2000-01-01T00:00:00.000Z"
USER_LOG = "/restapi/v1.0/account/~/extension/~/call-log"
PAGE_2 = re.compile(r"[?&]page=2(&|$)")


def api_paginate(fmt: str) -> tuple[str, ...]:
    return ("api", "GET", USER_LOG, "-F", f"dateFrom={FROM}", "-F", f"perPage={PER_PAGE}", "--paginate",
            "--format", fmt)  # fmt: skip


def call_log(*args: str) -> tuple[str, ...]:
    return ("call-log", *args, "--from", FROM)


# output -> (what is run, how its stdout is read)
OUTPUTS: dict[str, tuple[tuple[str, ...], str]] = {
    **{f"call-log {f}": ((*call_log("--all"), "--format", f), f) for f in ("table", "json", "ndjson", "csv")},
    **{f"summary {f}": ((*call_log("--summary"), "--format", f), f"summary {f}") for f in ("table", "json")},
    **{f"api --paginate {f}": (api_paginate(f), f) for f in ("json", "ndjson", "csv")},
}


def no_constants(name: str) -> Any:
    raise AssertionError(f"{name} in JSON output")


def strict_json(text: str) -> Any:
    """RFC 8259 JSON only: NaN, Infinity and -Infinity are refused, as jq and most parsers refuse them."""
    return json.loads(text, parse_constant=no_constants)


def records_shown(result: Result, reader: str) -> int:
    """How many records stdout holds, after checking it is well-formed for `reader`."""
    out = result.out
    if reader == "json":
        records = strict_json(out)
        assert isinstance(records, list) and all(isinstance(r, dict) for r in records), out
        return len(records)
    if reader == "ndjson":
        assert out.endswith("\n"), out[-200:]
        return sum(isinstance(strict_json(line), dict) for line in out.split("\n")[:-1])
    if reader == "csv":
        rows = list(csv.reader(io.StringIO(out, newline="")))
        assert rows and len({len(row) for row in rows}) == 1, out[-500:]  # a header, rows as wide as it
        return len(rows) - 1
    if reader == "table":
        assert "incomplete: the listing stopped after" in out, out[-500:]
        return len(re.findall(r"(?m)^│ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", out))
    if reader == "summary table":
        assert "Incomplete: the listing stopped early" in out, out[:500]
        return int(re.match(r"(\d+) calls", out).group(1))  # type: ignore[union-attr]
    assert reader == "summary json"
    summary = strict_json(out)
    assert summary["complete"] is False, summary
    return int(summary["total"])


@pytest.fixture
def start_listing(emu, sign_in, proxy: InterceptingProxy, rcauth: Rcauth) -> Callable[..., Any]:
    """`start_listing(args)`: `rcauth ARGS` started through the proxy, which serves pages of PER_PAGE."""
    sign_in()
    emu.set(call_records=CALLS)
    proxy.rewrite = lambda target: target.replace("perPage=1000", f"perPage={PER_PAGE}")
    through_proxy = {"HTTP_PROXY": proxy.url, "NO_PROXY": "", "no_proxy": ""}
    return lambda args: rcauth.start(*args, env=through_proxy)


def on_page_two(answer: Answer) -> Callable[[str, str], Answer | None]:
    return lambda method, target: answer if PAGE_2.search(target) else None


def foreign_next_page(target: str, body: bytes) -> bytes:
    page = json.loads(body)
    if (page.get("navigation") or {}).get("nextPage"):
        page["navigation"]["nextPage"]["uri"] = "https://evil.example/restapi/v1.0/steal?page=2"
    return json.dumps(page).encode()


SERVER_ERROR = {"errorCode": "CMN-201", "message": "Service temporary unavailable"}
# fault -> (the proxy's hook, what it does, what the error line says)
SERVER_FAULTS: dict[str, tuple[str, Any, str]] = {
    "500 on page 2": (
        "intercept",
        on_page_two(Answer(500, "application/json", json.dumps(SERVER_ERROR))),
        "Error: CMN-201: Service temporary unavailable (HTTP 500); ",
    ),
    "foreign nextPage": (
        "transform",
        foreign_next_page,
        "Error: refusing to send the session's token to 'https://evil.example/",
    ),
    "dropped mid-body": (
        "intercept",
        on_page_two(Answer(200, "application/json", '{"records": []}' * 50, cut=True)),
        "Error: the answer from 127.0.0.1:",
    ),
}


@pytest.mark.parametrize("fault", sorted(SERVER_FAULTS))
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_a_listing_broken_by_the_server_writes_page_1_well_formed_and_exits_5(
    start_listing, rcauth, proxy, output: str, fault: str
) -> None:
    args, reader = OUTPUTS[output]
    hook, broken, said = SERVER_FAULTS[fault]
    setattr(proxy, hook, broken)
    result = rcauth.finish(start_listing(args), timeout=60)
    assert result.code == 5, result
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(said), result
    written = f"the summary counts the {PER_PAGE} calls listed before it" if "summary" in output else (
        f"the listing stopped after {PER_PAGE} "
    )  # fmt: skip
    assert written in lines[0], result
    assert records_shown(result, reader) == PER_PAGE, result
    assert not any("evil.example" in target for _, target in proxy.seen)  # the token stayed home


@pytest.mark.parametrize(
    ("name", "code", "said"), [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated (SIGTERM)")]
)
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_a_signal_mid_listing_leaves_whole_output_of_what_was_fetched_and_its_exit_code(
    start_listing, rcauth, proxy, output: str, name: str, code: int, said: str
) -> None:
    """Page 2 is held in flight by the proxy; the signal comes while rcauth waits for it (or while it
    still writes page 1: then it stops at the next record)."""
    args, reader = OUTPUTS[output]
    requested, release = threading.Event(), threading.Event()

    def hold_page_two(method: str, target: str) -> Answer | None:
        if PAGE_2.search(target):
            requested.set()
            release.wait(20)
        return None

    proxy.intercept = hold_page_two
    proc = start_listing(args)
    try:
        wait_for(requested.is_set, "page 2 to be requested", proc=proc)
        # Page 2 is asked for once page 1's records are handed on: let some be written (a signal
        # before the first record leaves the output empty, as a failure there does).
        if reader in ("json", "ndjson", "csv"):
            wait_for(lambda: stdout_of(proc), "the first records to be written", proc=proc)
        else:
            time.sleep(0.5)  # a table or summary is drawn at the end: page 1 is long counted by then
        proc.send_signal(getattr(signal, name))
        result = rcauth.finish(proc)
    finally:
        release.set()
    assert result.code == code, result
    assert result.err.splitlines() == [f"Error: {said}"], result
    assert 0 < records_shown(result, reader) <= PER_PAGE, result


@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_a_listing_that_fails_on_page_1_writes_nothing_and_exits_5(
    start_listing, rcauth, proxy, output
) -> None:
    """Nothing was listed: no empty array, CSV header or empty summary that would pass for an empty
    period; the error alone."""
    args, _ = OUTPUTS[output]
    proxy.answer = Answer(500, "application/json", json.dumps(SERVER_ERROR))
    result = rcauth.finish(start_listing(args), timeout=60)
    assert (result.code, result.out) == (5, ""), result
    assert result.err == "Error: CMN-201: Service temporary unavailable (HTTP 500)\n", result
