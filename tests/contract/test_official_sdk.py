"""RingCentral's official Python SDK (`ringcentral` 0.9.2) drives the emulator as an independent client:
JWT login, extension info, a paged Detailed call log, refresh and logout, each answer checked against
the vendored spec. A client built from RingCentral's own code that works here agrees with the emulator on
the wire format (form-encoded token requests, Basic client auth, absolute navigation URIs).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import ringcentral

from ringcentral_emulator import DEMO_JWT, Emulator, EmulatorConfig
from tests.contract import contract

CLIENT_ID = "rcauth-emulator-client"
CLIENT_SECRET = "rcauth-emulator-secret"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(rate_limits_enabled=False, call_records=450)) as emulator:
        yield emulator


def body(response: Any) -> dict[str, Any]:
    return response.json_dict()


def test_official_sdk_signs_in_reads_pages_refreshes_and_logs_out(emu):
    sdk = ringcentral.SDK(CLIENT_ID, CLIENT_SECRET, emu.base_url)
    platform = sdk.platform()
    login = platform.login(jwt=DEMO_JWT)
    assert contract.errors(body(login), "TokenInfo") == []
    assert platform.logged_in()

    me = body(platform.get("/restapi/v1.0/account/~/extension/~"))
    assert contract.errors(me, "GetExtensionInfoResponse") == []
    assert contract.undocumented_fields(me, "GetExtensionInfoResponse") == []

    seen: list[str] = []
    page = body(
        platform.get(
            "/restapi/v1.0/account/~/extension/~/call-log",
            {"view": "Detailed", "perPage": 100, "dateFrom": "2000-01-01T00:00:00Z"},
        )
    )
    while True:
        assert contract.errors(page, "CallLogResponse") == []
        assert all(record["legs"] for record in page["records"])
        seen += [record["id"] for record in page["records"]]
        next_page = page["navigation"].get("nextPage")
        if next_page is None:
            break
        page = body(platform.get(next_page["uri"]))
    assert len(seen) == len(set(seen)) == 450

    old_access = platform.auth().access_token()
    refreshed = platform.refresh()
    assert contract.errors(body(refreshed), "TokenInfo") == []
    assert platform.auth().access_token() != old_access
    assert body(platform.get("/restapi/v1.0/account/~/extension/~"))["id"] == me["id"]

    access = platform.auth().access_token()
    platform.logout()
    assert not platform.logged_in()
    # The revoke ended the whole session on the emulator's side too.
    with pytest.raises(Exception) as ended:  # noqa: B017 - the SDK raises a bare Exception subclass
        ringcentral.SDK(CLIENT_ID, CLIENT_SECRET, emu.base_url).platform().send_request(
            _bearer_request(emu.base_url, access), skip_auth_check=True
        )
    assert "OAU-211" in str(ended.value) or "OAU-213" in str(ended.value)


def _bearer_request(base_url: str, access: str) -> Any:
    return requests.Request(
        "GET", f"{base_url}/restapi/v1.0/account/~/extension/~", headers={"Authorization": f"Bearer {access}"}
    )
