"""A listing RingCentral cuts at page 1000 (the spec's EnumeratedPagingModel caps `paging.page` there)
is not passed off as complete: the records it could reach are written, then one line on stderr says how
many of how many were listed and why, and the exit code is 5 (API), so a script can tell.

Against the real emulator in subprocesses. RingCentral's largest page is 1000 records, so `call-log
--all` meets the cap only past 1,000,000 calls in the period; `rcauth api --paginate -F perPage=1`
meets it past 1000 calls, which keeps most of these tests small.
"""

from __future__ import annotations

import json

USER_LOG = "/restapi/v1.0/account/~/extension/~/call-log"
FAR_PAST = "2000-01-01T00:00:00.000Z"


def paginate(rcauth, per_page: int, fmt: str):
    return rcauth.run(
        "api", "GET", USER_LOG, "-F", f"dateFrom={FAR_PAST}", "-F", f"perPage={per_page}", "--paginate",
        "--format", fmt,
    )  # fmt: skip


def test_api_paginate_past_page_1000_writes_1000_pages_warns_and_exits_5(rcauth, sign_in, emu) -> None:
    sign_in()
    emu.set(call_records=1500)
    result = paginate(rcauth, 1, "ndjson")
    assert result.code == 5, result
    records = [json.loads(line) for line in result.out.splitlines()]
    assert len(records) == 1000 and len({r["id"] for r in records}) == 1000
    assert result.err == (
        "Error: only 1000 of 1500 records listed: RingCentral lists at most 1000 pages; "
        "narrow the query (a call log's dateFrom/dateTo)\n"
    ), result


def test_api_paginate_closes_the_json_array_before_the_error(rcauth, sign_in, emu) -> None:
    sign_in()
    emu.set(call_records=1001)
    result = paginate(rcauth, 1, "json")
    assert result.code == 5, result
    assert len(json.loads(result.out)) == 1000
    assert result.err.startswith("Error: only 1000 of 1001 records listed"), result


def test_api_paginate_of_exactly_1000_pages_is_complete_and_exits_0(rcauth, sign_in, emu) -> None:
    sign_in()
    emu.set(call_records=1000)
    result = paginate(rcauth, 1, "ndjson")
    assert (result.code, result.err) == (0, ""), result
    assert len(result.out.splitlines()) == 1000


def test_call_log_all_past_page_1000_writes_what_it_reached_warns_and_exits_5(rcauth, sign_in, emu, proxy):
    """`call-log --all` asks for pages of 1000; a proxy between rcauth and the emulator asks for pages
    of 1 instead, so 1001 calls make 1001 pages (the emulator's links then keep perPage=1) and the test
    needs no million calls. rcauth's code and the emulator's answers are as they are."""
    sign_in()
    emu.set(call_records=1001)
    proxy.rewrite = lambda target: target.replace("perPage=1000", "perPage=1")
    through_proxy = {"HTTP_PROXY": proxy.url, "NO_PROXY": "", "no_proxy": ""}
    result = rcauth.run("call-log", "--all", "--from", "2000-01-01", "--format", "ndjson", env=through_proxy)
    assert result.code == 5, result.err
    assert "perPage=1000" in proxy.seen[0][1]  # rcauth asked for pages of 1000
    records = [json.loads(line) for line in result.out.splitlines()]
    assert len(records) == 1000 and len({r["id"] for r in records}) == 1000
    assert result.err == (
        "Error: only 1000 of 1001 records listed: RingCentral lists at most 1000 pages; "
        "use --from/--to to narrow the period\n"
    )


def test_call_log_all_of_exactly_1000_pages_is_complete_and_exits_0(rcauth, sign_in, emu, proxy) -> None:
    sign_in()
    emu.set(call_records=1000)
    proxy.rewrite = lambda target: target.replace("perPage=1000", "perPage=1")
    through_proxy = {"HTTP_PROXY": proxy.url, "NO_PROXY": "", "no_proxy": ""}
    result = rcauth.run("call-log", "--all", "--from", "2000-01-01", "--format", "csv", env=through_proxy)
    assert (result.code, result.err) == (0, ""), result
    assert len(result.out.splitlines()) == 1 + 1000  # the header and every call
    assert len(proxy.seen) == 1000
