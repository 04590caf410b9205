"""The bearer token never leaves the session's origin (issue 10, point 1), through real `rcauth`
processes and a second loopback host (127.0.0.2, which Linux loopback answers) that records every
request reaching it.

- `rcauth api METHOD <URL on another host>` in every spelling that once slipped through is a usage
  error (exit 2) naming the session's server, and the other host sees nothing;
- a listing whose `navigation.nextPage.uri` points at the other host writes the records it has,
  then fails (exit 5), and the other host sees nothing;
- redirects to the other host, from the API or from the token endpoint (a 307 would re-send the
  refresh token in its body), are not followed.

RingCentral never sends a foreign nextPage or such redirects, so those answers come from a small
stub server (tests/reliability/stub_servers.py) standing in as the session's server, not from the
emulator.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from stub_servers import Seen, StubServer, json_answer

from rcauth.session import Session

CALL_LOG = "/restapi/v1.0/account/~/extension/~/call-log"
RECORDS = [{"id": f"call-{i}", "type": "Voice", "direction": "Inbound"} for i in range(3)]


@pytest.fixture
def recorder(emu) -> Iterator[StubServer]:
    """The other host: 127.0.0.2, on the emulator's own port when free (so only the host differs)."""
    try:
        server = StubServer(host="127.0.0.2", port=int(emu.base_url.rsplit(":", 1)[1]))
    except OSError:
        server = StubServer(host="127.0.0.2")
    with server:
        yield server


def secrets_of(session: Session) -> tuple[str, ...]:
    return (session.access_token, session.refresh_token or "", session.client_secret or "")


def assert_untouched(recorder: StubServer, session: Session) -> None:
    leaked = [seen for seen in recorder.requests if seen.carries(*secrets_of(session))]
    assert not leaked, leaked
    assert recorder.requests == []  # nothing at all: nothing was even attempted there


def foreign_forms(other: str, home: str) -> list[str]:
    """Every spelling of "the other host" that reached it before, `other` being host:port."""
    return [
        f"http://{other}/restapi/v1.0/account/~",
        f"HTTP://{other}/restapi/v1.0/account/~",
        f"Http://{other}/restapi/v1.0/account/~",
        f" http://{other}/restapi/v1.0/account/~",
        f"\thttp://{other}/restapi/v1.0/account/~",
        f"/http://{other}/restapi/v1.0/account/~",
        f"//{other}/restapi/v1.0/account/~",
        f"\\\\{other}/restapi/v1.0/account/~",
        f"http:{other}/restapi/v1.0/account/~",
        f"http://{home}@{other}/restapi/v1.0/account/~",
    ]


def test_api_refuses_every_spelling_of_another_host_with_a_usage_error(
    emu, sign_in, rcauth, recorder
) -> None:
    session = sign_in()
    home = emu.base_url.split("//", 1)[1]
    other = f"{recorder.host}:{recorder.port}"
    for form in foreign_forms(other, home):
        result = rcauth.run("api", "GET", form)
        assert result.code == 2, (form, result)
        assert emu.base_url in result.err, result  # the message names the session's own server
        assert "Traceback" not in result.err
    assert_untouched(recorder, session)


def test_api_accepts_a_full_url_on_the_sessions_own_server_in_any_case(emu, sign_in, rcauth) -> None:
    sign_in()
    home = emu.base_url.split("//", 1)[1]
    result = rcauth.run("api", "GET", f"HTTP://{home.upper()}/restapi/v1.0/account/~")
    assert result.code == 0, result
    assert "id" in json.loads(result.out)


@pytest.fixture
def misdirecting(recorder) -> Iterator[Callable[[str], StubServer]]:
    """`misdirecting(next_uri)`: a stub standing in as the session's server whose call-log page
    links to `next_uri` (with `{other}` for the recorder's host:port), whose extension answer
    redirects to the recorder, and whose token endpoint answers 307 to the recorder."""
    servers: list[StubServer] = []
    other = f"{recorder.host}:{recorder.port}"

    def route(next_uri: str) -> Callable[[Seen], tuple[int, dict[str, str], bytes]]:
        def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            if seen.path.startswith(CALL_LOG):
                nav = {"nextPage": {"uri": next_uri.format(other=other)}}
                return json_answer({"records": RECORDS, "navigation": nav, "paging": {"page": 1}})
            if seen.path.startswith("/restapi/oauth/token"):
                return 307, {"Location": f"http://{other}/restapi/oauth/token"}, b""
            return 302, {"Location": f"http://{other}/restapi/v1.0/account/~/extension/~"}, b""

        return answer

    def start(next_uri: str) -> StubServer:
        server = StubServer(route(next_uri)).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.mark.parametrize(
    "next_uri",
    [
        "HTTP://{other}" + CALL_LOG + "?page=2",
        "Http://{other}" + CALL_LOG + "?page=2",
        " http://{other}" + CALL_LOG + "?page=2",
        "//{other}" + CALL_LOG + "?page=2",
        "http://{other}" + CALL_LOG + "?page=2",
    ],
)
@pytest.mark.parametrize("command", [("call-log", "--all"), ("api", "GET", CALL_LOG, "--paginate")])
def test_a_foreign_next_page_ends_the_listing_after_the_records_already_written(
    sign_in, rcauth, recorder, misdirecting, next_uri, command
) -> None:
    home = misdirecting(next_uri)
    session = sign_in(server=home.base_url)
    result = rcauth.run(*command, "--format", "ndjson")
    assert result.code == 5, result
    assert [json.loads(line)["id"] for line in result.out.splitlines()] == [r["id"] for r in RECORDS]
    assert result.err.startswith("Error: refusing to send the session's token to ")
    assert len(result.err.strip().splitlines()) == 1, result
    assert_untouched(recorder, session)


def test_an_api_redirect_to_another_host_is_not_followed(sign_in, rcauth, recorder, misdirecting) -> None:
    home = misdirecting("")
    session = sign_in(server=home.base_url)
    result = rcauth.run("whoami", "--json")
    assert result.code == 5, result
    assert "does not follow a redirect to another server" in result.err, result
    assert_untouched(recorder, session)


def test_a_token_endpoint_307_to_another_host_does_not_carry_the_refresh_token_there(
    sign_in, rcauth, recorder, misdirecting, stored
) -> None:
    """requests drops the Basic header on a cross-host redirect, but a 307 re-sends the POST body:
    grant_type=refresh_token&refresh_token=... would reach the other host."""
    home = misdirecting("")
    session = sign_in(server=home.base_url, access_expires_at=0)
    result = rcauth.run("token")
    assert result.code == 5, result
    assert "does not follow a redirect to another server" in result.err, result
    assert [seen.path for seen in home.requests] == ["/restapi/oauth/token"]
    assert_untouched(recorder, session)
    assert stored() == session  # the session is kept: nothing was spent
