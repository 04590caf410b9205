"""A program that uses rcauth as a library and logs at DEBUG (`logging.basicConfig(level=DEBUG)`):
requests-oauthlib logs each token request's headers and body and each token answer at DEBUG, and
rcauth's secrets must not reach the program's logs that way (`redact.guard_token_loggers`)."""

from __future__ import annotations

import base64
import dataclasses
import logging
import time
from collections.abc import Iterator

import pytest

import rcauth
from rcauth import redact
from rcauth.store import KeyringStore
from ringcentral_emulator import DEMO_JWT, Emulator, EmulatorConfig

OAUTH2_SESSION = "requests_oauthlib.oauth2_session"


class Captured(logging.Handler):
    """The program's own handler: every record of every logger, formatted as its log file would hold it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self.names: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.names.append(record.name)


@pytest.fixture
def program_logs() -> Iterator[Captured]:
    root = logging.getLogger()
    handler, level = Captured(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_programs_debug_log_holds_no_token_jwt_or_client_secret_of_a_sign_in_and_a_refresh(
    program_logs: Captured,
) -> None:
    with Emulator(EmulatorConfig(rate_limits_enabled=False), host="127.0.0.1", port=0) as emu:
        app = emu.config.apps[0]
        rcauth.login(
            jwt=DEMO_JWT, client_id=app.client_id, client_secret=app.client_secret, server=emu.base_url
        )
        first = KeyringStore("default").load()
        assert first is not None
        KeyringStore("default").save(dataclasses.replace(first, access_expires_at=time.time() - 5))
        with rcauth.Client() as rc:
            rc.whoami()  # refreshes first: the stored access token is due
        second = KeyringStore("default").load()
    assert second is not None and second.refresh_token != first.refresh_token
    basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
    secrets = [
        DEMO_JWT,
        app.client_secret,
        basic,
        first.access_token,
        first.refresh_token,
        second.access_token,
        second.refresh_token,
    ]
    logged = "\n".join(program_logs.lines)
    # requests-oauthlib did log the token requests and answers, masked: what the test is about happened.
    said = [line for line in program_logs.lines if line.startswith(OAUTH2_SESSION)]
    assert any("Obtained token" in line for line in said)
    assert all(secrets)
    assert [secret[:8] for secret in secrets if secret in logged] == []  # (the start only: no secret shown)
    assert any("Request body was" in line and redact.MASK in line for line in said)
    assert any("Request headers were" in line and redact.MASK in line for line in said)


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(OAUTH2_SESSION, logging.DEBUG, __file__, 1, msg, args, None)


def _guards(name: str) -> list[logging.Filter | logging.Filterer]:
    return [f for f in logging.getLogger(name).filters if type(f).__name__ == "_RegisteredSecretsFilter"]


def _guard() -> logging.Filter:
    redact.guard_token_loggers()
    (guard,) = _guards(OAUTH2_SESSION)
    assert isinstance(guard, logging.Filter)
    return guard


def test_the_guard_masks_a_registered_secret_in_the_arguments_as_well_as_the_message() -> None:
    redact.register("AT-guarded-token-1", "RT-guarded-token-1")
    record = _record("Obtained token %s for RT-guarded-token-1.", {"access_token": "AT-guarded-token-1"})
    assert _guard().filter(record) is True
    assert record.getMessage() == "Obtained token {'access_token': '***'} for ***."


def test_the_guard_leaves_a_record_without_rcauth_secrets_as_it_was() -> None:
    """A program's own requests-oauthlib session logs its own tokens: not rcauth's to change."""
    redact.register("AT-guarded-token-2")
    args = ({"access_token": "the-programs-own-token", "Authorization": "Basic cHJvZ3JhbTpzZWNyZXQ="},)
    record = _record("Obtained token %s.", *args)
    before = (record.msg, record.args)
    assert _guard().filter(record) is True
    assert (record.msg, record.args) == before and record.args is before[1]


def test_the_guard_is_attached_once_to_requests_oauthlibs_token_logger_only() -> None:
    for _ in range(3):
        redact.guard_token_loggers()
    names = ("", "requests_oauthlib", OAUTH2_SESSION, "oauthlib", "urllib3", "rcauth")
    expected = {name: int(name == OAUTH2_SESSION) for name in names}
    assert {name: len(_guards(name)) for name in names} == expected


def test_a_record_that_cannot_be_formatted_is_left_to_the_programs_handler() -> None:
    record = _record("%d tokens", "not a number")
    assert _guard().filter(record) is True
    assert (record.msg, record.args) == ("%d tokens", ("not a number",))
