"""The emulator's `caller_names` switch: external callers' caller-ID names, which on the real service
are whatever the caller chose, so tests can serve hostile ones. Off by default (generated names)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from helpers import jwt_token

from ringcentral_emulator import Emulator, EmulatorConfig

HOSTILE = ["Eve\x1b[2J", "[bold red]x[/]", "Front Desk [main]"]
CALL_LOG = "/restapi/v1.0/account/~/extension/~/call-log"


def call_log(emu: Emulator, **params: Any) -> list[dict[str, Any]]:
    token = jwt_token(emu)["access_token"]
    answer = requests.get(
        f"{emu.base_url}{CALL_LOG}",
        params={"dateFrom": "2000-01-01T00:00:00Z", "perPage": 100, **params},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return list(answer.json()["records"])


def external_parties(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r["from"] if r["direction"] == "Inbound" else r["to"] for r in records if r["transport"] == "PSTN"
    ]


@pytest.fixture
def emu() -> Any:
    with Emulator(EmulatorConfig(rate_limits_enabled=False, anchor_time=1_790_000_000), port=0) as emulator:
        yield emulator


def test_caller_names_are_off_by_default_and_the_generated_log_is_unchanged(emu: Emulator) -> None:
    assert emu.config.caller_names == ()
    before = call_log(emu)
    emu.set(caller_names=HOSTILE)
    emu.set(caller_names=[])
    assert call_log(emu) == before
    assert "WIRELESS CALLER" in {p.get("name") for p in external_parties(before)}


def test_set_caller_names_names_every_external_party_in_turn(emu: Emulator) -> None:
    default = call_log(emu)
    emu.set(caller_names=HOSTILE)
    records = call_log(emu)
    parties = external_parties(records)
    assert parties and {p["name"] for p in parties} == set(HOSTILE)
    # Only the names change: numbers, ids and the colleagues' names are as before.
    for old, new in zip(default, records, strict=True):
        assert new["id"] == old["id"]
        if new["transport"] == "PSTN":
            side = "from" if new["direction"] == "Inbound" else "to"
            assert {k: v for k, v in new[side].items() if k != "name"} == {
                k: v for k, v in old[side].items() if k != "name"
            }
        else:
            assert new == old


def test_caller_names_can_be_set_over_http_like_every_switch(emu: Emulator) -> None:
    answer = requests.post(
        f"{emu.base_url}/__emulator/config", json={"caller_names": ["\u202eevil"]}, timeout=10
    )
    assert answer.status_code == 200
    assert answer.json()["caller_names"] == ["\u202eevil"]
    assert {p["name"] for p in external_parties(call_log(emu))} == {"\u202eevil"}


@pytest.mark.parametrize("value", ["Eve", [1, 2], ["ok", None], {"a": "b"}, 5])
def test_caller_names_must_be_a_list_of_strings(emu: Emulator, value: Any) -> None:
    with pytest.raises(ValueError, match="caller_names must be a list of strings"):
        emu.set(caller_names=value)
    answer = requests.post(f"{emu.base_url}/__emulator/config", json={"caller_names": value}, timeout=10)
    assert answer.status_code == 400
    assert "caller_names" in answer.json()["message"]
    assert emu.config.caller_names == ()
