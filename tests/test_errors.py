"""RingCentral's error JSON is read in one place, with one precedence, for REST and OAuth answers alike."""

from __future__ import annotations

import json

import pytest
import requests

from rcauth.client import api_error
from rcauth.errors import parse_error_body
from rcauth.oauth import error_from_response


def answer(status: int, body: object) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = "Bad Request"
    response._content = json.dumps(body).encode() if not isinstance(body, bytes) else body
    response.headers["Content-Type"] = "application/json"
    response.url = "https://platform.example/restapi/oauth/token"
    return response


BOTH_LEVELS = {
    "error": "invalid_grant",
    "errorCode": "TopCode",
    "message": "top message",
    "error_description": "oauth description",
    "errors": [{"errorCode": "OAU-109", "message": "first cause", "permissionName": "ReadCallLog"}],
}


def test_the_top_level_wins_over_the_first_cause_for_code_and_message() -> None:
    parsed = parse_error_body(answer(400, BOTH_LEVELS))
    assert (parsed.error_code, parsed.message) == ("TopCode", "top message")
    assert parsed.oauth_error == "invalid_grant" and parsed.permission == "ReadCallLog"


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        # RingCentral's OAuth shape: no top-level errorCode, so the first cause's code; the description.
        (
            {
                "error": "invalid_grant",
                "error_description": "Token is revoked",
                "errors": [{"errorCode": "OAU-109", "message": "Token is revoked"}],
            },
            "OAU-109",
            "Token is revoked",
        ),
        # Its REST shape: the top level's code (what callers branch on), its message.
        (
            {
                "errorCode": "InsufficientPermissions",
                "message": "needs [ReadCallLog]",
                "errors": [{"errorCode": "CMN-408", "message": "detail"}],
            },
            "InsufficientPermissions",
            "needs [ReadCallLog]",
        ),
        # Only the first cause says anything.
        (
            {"errors": [{"errorCode": "CMN-102", "message": "Resource not found"}]},
            "CMN-102",
            "Resource not found",
        ),
        # A bare OAuth error names itself.
        ({"error": "invalid_client"}, "invalid_client", None),
    ],
)
def test_each_shape_gives_the_documented_code_and_message(body: dict, code: str, message: str | None) -> None:
    parsed = parse_error_body(answer(400, body))
    assert (parsed.error_code, parsed.message) == (code, message)


@pytest.mark.parametrize("body", [b"<html>proxy</html>", [1, 2], "text", {"errors": "not a list"}])
def test_a_body_that_is_not_an_error_object_gives_nothing(body: object) -> None:
    parsed = parse_error_body(answer(400, body if isinstance(body, bytes) else body))
    assert (parsed.error_code, parsed.message, parsed.details) == (None, None, [])
    assert (parsed.oauth_error, parsed.permission) == (None, None)
    assert parsed.fields == (body if isinstance(body, dict) else {})  # an object to read, never None


def test_oauth_and_rest_errors_read_the_same_body_the_same_way() -> None:
    response = answer(400, BOTH_LEVELS)
    oauth = error_from_response(response)
    rest = api_error(response)
    assert (oauth.error_code, oauth.message) == (rest.error_code, rest.message) == ("TopCode", "top message")


def test_an_empty_field_gives_way_to_the_next_one() -> None:
    """RingCentral sends `""` for a field it has nothing for: the next field in precedence speaks."""
    body = {
        "errorCode": "",
        "message": "",
        "error_description": "Token is revoked",
        "errors": [{"errorCode": "OAU-109", "message": "first cause"}],
    }
    parsed = parse_error_body(answer(400, body))
    assert (parsed.error_code, parsed.message) == ("OAU-109", "Token is revoked")


@pytest.mark.parametrize(("signum", "name", "code"), [(15, "SIGTERM", 143), (1, "SIGHUP", 129)])
def test_a_held_signal_exits_as_a_shell_reports_the_signal(signum: int, name: str, code: int) -> None:
    """128 + the signal's number (`ExitCode.TERMINATED`, `ExitCode.HANGUP`), and it names the signal."""
    from rcauth.errors import Terminated

    held = Terminated(signum, name)
    assert (held.exit_code, held.signum, held.name, str(held)) == (code, signum, name, name)
