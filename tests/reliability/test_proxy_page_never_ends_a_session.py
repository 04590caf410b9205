"""Issue 10, point 3: only RingCentral's verdict ends a session. A refresh answered by an HTML 400 or
401 page (a corporate proxy, a captive portal, a web filter) is a network problem: exit 5, one line
naming what answered (status, content type, the proxy), the session kept, and working again once the
network lets RingCentral through."""

from __future__ import annotations

import json
import time

import pytest
from intercepting_proxy import CAPTIVE_PORTAL_401, WEB_FILTER_400

PAST = time.time() - 60
PAGES = {"web filter 400": WEB_FILTER_400, "captive portal 401": CAPTIVE_PORTAL_401}


def assert_kept_with_one_line(result, page) -> str:
    assert result.code == 5, result
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result
    line = lines[0]
    expected = f"Error: the token endpoint answered HTTP {page.status} ({page.content_type})"
    assert line.startswith(expected), line
    assert "the session is kept" in line
    assert "session has ended" not in line and "<html" not in line.lower()
    print(line)
    return line


@pytest.mark.parametrize("page", list(PAGES.values()), ids=list(PAGES))
def test_html_page_in_place_of_the_token_endpoint_keeps_the_session_until_the_network_recovers(
    emu, proxy, sign_in, rcauth, stored, page
) -> None:
    """A transparent interception: the session's server address is answered by the portal."""
    signed_in = sign_in(server=proxy.url, access_expires_at=PAST)
    proxy.answer = page

    assert_kept_with_one_line(rcauth.run("whoami"), page)
    assert stored() == signed_in
    assert rcauth.run("status").code == 0  # still signed in

    proxy.answer = None  # the network recovered
    result = rcauth.run("whoami", "--json")
    assert result.code == 0, result
    assert json.loads(result.out)["id"] == emu.config.user.extension_id
    assert stored().refresh_token != signed_in.refresh_token  # refreshed and stored the new pair


@pytest.mark.parametrize("page", list(PAGES.values()), ids=list(PAGES))
def test_html_page_from_the_configured_proxy_names_it_without_its_password(
    emu, proxy, sign_in, rcauth, stored, page
) -> None:
    signed_in = sign_in(access_expires_at=PAST)
    port = proxy.url.rsplit(":", 1)[1]
    through_proxy = {
        "HTTP_PROXY": f"http://alice:pr0xy-pa55@127.0.0.1:{port}",
        "NO_PROXY": "",
        "no_proxy": "",
    }
    proxy.answer = page

    line = assert_kept_with_one_line(rcauth.run("whoami", env=through_proxy), page)
    assert f"via proxy HTTP_PROXY=http://***@127.0.0.1:{port}" in line
    assert "pr0xy-pa55" not in line and "alice" not in line
    assert stored() == signed_in
    assert proxy.seen and proxy.seen[0] == ("POST", f"{emu.base_url}/restapi/oauth/token")

    proxy.answer = None
    result = rcauth.run("whoami", "--json", env=through_proxy)
    assert result.code == 0, result
    assert stored().refresh_token != signed_in.refresh_token
    assert ("GET", f"{emu.base_url}/restapi/v1.0/account/~/extension/~") in proxy.seen


def test_ringcentrals_own_invalid_grant_through_the_same_proxy_still_ends_the_session(
    emu, proxy, sign_in, rcauth, stored
) -> None:
    """The other side of the rule: RingCentral's verdict, relayed by the proxy, does end it."""
    from rcauth.oauth import RingCentralOAuth

    app = emu.config.apps[0]
    dead = sign_in(server=proxy.url, access_expires_at=PAST)
    RingCentralOAuth(emu.base_url, app.client_id, app.client_secret).revoke(dead.refresh_token)

    result = rcauth.run("whoami")
    assert result.code == 4, result
    assert "invalid_grant" in result.err or "OAU-211" in result.err
    assert stored() is None
