"""RingCentral's error JSON is read in one place, with one precedence, for REST and OAuth answers alike."""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest
import requests

import rcauth
from rcauth import errors
from rcauth.client import api_error
from rcauth.errors import ExitCode, ListingIncomplete, RcauthError, UnexpectedAnswer, parse_error_body
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


# -- every exception a caller can meet: in errors.py, exported, with its exit code ----------------------
RCAUTH = Path(rcauth.__file__).resolve().parent

# Exception classes defined outside errors.py that never reach a caller of rcauth, and why.
INTERNAL = {
    "rcauth.cli.CliError": "click's form of an RcauthError on its way out of the program: `cli.main` "
    "hands it to click, which prints it and exits; the library never raises it",
    "rcauth.loopback.ForeignCallback": "`loopback.parse_callback`'s to its two callers only: the receiver "
    "answers the browser with it, `flow.parse_pasted_redirect` raises LoginFailed in its place",
    "rcauth.secret_service.NotHere": "`secret_service`'s to `store` only: the fast read cannot answer, "
    "so keyring is asked instead",
    "rcauth.secret_service.TimedOut": "`secret_service`'s to `store` only, which raises "
    "KeyringUnreachable in its place",
}

# What each error exits the `rcauth` program with (README, "Exit codes").
EXIT_CODES = {
    "RcauthError": ExitCode.GENERIC,
    "ConfigError": ExitCode.CONFIG,
    "NotLoggedIn": ExitCode.NOT_LOGGED_IN,
    "SessionExpired": ExitCode.NOT_LOGGED_IN,
    "InvalidProfileName": ExitCode.USAGE,
    "LoginFailed": ExitCode.GENERIC,
    "PortInUse": ExitCode.CONFIG,
    "StorageUnavailable": ExitCode.STORAGE,
    "KeyringUnreachable": ExitCode.STORAGE,
    "StoredSessionDamaged": ExitCode.STORAGE,
    "OutputFailed": ExitCode.GENERIC,
    "DownloadBusy": ExitCode.GENERIC,
    "ApiError": ExitCode.API,
    "OAuthError": ExitCode.API,
    "ForeignOrigin": ExitCode.API,
    "ListingIncomplete": ExitCode.API,
    "TransportError": ExitCode.API,
    "UnexpectedAnswer": ExitCode.API,
}


def defined_in(module: ModuleType) -> dict[str, type[BaseException]]:
    classes = {name: value for name, value in vars(module).items() if isinstance(value, type)}
    return {
        name: cls
        for name, cls in classes.items()
        if issubclass(cls, BaseException) and cls.__module__ == module.__name__
    }


def test_every_error_in_errors_py_is_exported_from_rcauth_and_has_its_documented_exit_code() -> None:
    defined = defined_in(errors)
    assert {name for name, cls in defined.items() if issubclass(cls, RcauthError)} == set(EXIT_CODES)
    for name, cls in defined.items():
        assert name in rcauth.__all__ and getattr(rcauth, name) is cls, name
    for name, code in EXIT_CODES.items():
        assert defined[name].exit_code == code, name
    assert "Terminated" in rcauth.__all__  # a BaseException: its exit code is the signal's (see above)


def test_every_exception_class_outside_errors_py_is_private_or_known_to_stay_inside() -> None:
    """Module-level classes are looked at as Python made them; a class made inside a function is an
    exception when a base it names is one."""
    found: dict[str, type[BaseException]] = {}
    for module in pkgutil.walk_packages([str(RCAUTH)], prefix="rcauth."):
        if module.name != "rcauth.errors":
            defined = defined_in(importlib.import_module(module.name))
            found.update({f"{module.name}.{name}": cls for name, cls in defined.items()})
    public = {qualified for qualified in found if not qualified.rsplit(".", 1)[1].startswith("_")}
    assert public == set(INTERNAL)

    builtin = {name for name, value in vars(builtins).items() if isinstance(value, type)}
    exceptions = {name for name in builtin if issubclass(getattr(builtins, name), BaseException)}
    exceptions |= {qualified.rsplit(".", 1)[1] for qualified in found} | set(defined_in(errors))
    for path in RCAUTH.rglob("*.py"):
        module = ".".join(path.relative_to(RCAUTH.parent).with_suffix("").parts)
        if module == "rcauth.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and f"{module}.{node.name}" not in found:
                bases = {ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases}
                assert node.name.startswith("_") or not bases & exceptions, f"{module}.{node.name}"


def test_a_restated_error_is_a_new_one_of_the_same_type_and_fields_and_the_caught_one_is_unchanged() -> None:
    caught = ListingIncomplete(5, 9, 1000, hint="old")
    again = caught.restated(hint="narrow the period")
    assert type(again) is ListingIncomplete and again is not caught
    assert (again.listed, again.total, again.status, again.hint) == (5, 9, None, "narrow the period")
    assert (str(again), again.exit_code) == (str(caught), ExitCode.API)
    assert caught.hint == "old"
    answer = UnexpectedAnswer("a proxy answered", status=502, issued_token="T", hint="wait")
    told = answer.restated(message="m", hint=None)
    assert (told.message, told.status, told.issued_token, told.hint) == ("m", 502, "T", None)
    assert (answer.message, answer.hint) == ("a proxy answered", "wait")
