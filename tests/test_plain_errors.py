"""Bad input that once ended in "unexpected error" (issue 10, part 5), pinned below the process:
dates out of range, --from after --to, -F values, --input bodies, config.toml value types.
The same paths run end to end, with their exit codes, in tests/reliability/test_exit_codes.py."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import click
import pytest
import requests_mock
from cli_runner import cli_runner
from click.testing import CliRunner
from helpers import save_session
from hypothesis import given
from hypothesis import strategies as st

from rcauth.cli import cli
from rcauth.commands.rest import _parse_fields
from rcauth.config import read_config_file, resolve
from rcauth.errors import ConfigError, ExitCode
from rcauth.session import Session
from rcauth.timeparse import parse_instant, to_ringcentral

SERVER = "https://platform.ringcentral.com"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def runner() -> CliRunner:
    return cli_runner()


@pytest.fixture
def signed_in() -> Session:
    return save_session(server=SERVER)


# ---------------------------------------------------------------------------------------- --from / --to
@pytest.mark.parametrize(
    "value",
    [
        "99999999d",  # OverflowError: date value out of range
        "99999999999999999999d",  # OverflowError: Python int too large to convert to C int
        pytest.param("9" * 5000 + "w", id="5000-digit-span"),  # int() refuses over 4300 digits
        "0000-01-01",
        "10000-01-01",
        "0001-01-01T00:00+01:00",  # year 0 once in UTC
        "9999-12-31T23:00-05:00",  # year 10000 once in UTC
    ],
)
def test_a_date_out_of_range_is_a_value_error_naming_the_range(value: str) -> None:
    with pytest.raises(ValueError, match=r"is out of range: dates run from year 1 to 9999$"):
        parse_instant(value, NOW)


@given(st.text(max_size=40) | st.from_regex(r"\A[0-9]{1,30}[smhdwSMHDW]\Z"))
def test_parsing_a_date_raises_only_value_error(value: str) -> None:
    try:
        parse_instant(value, NOW)
    except ValueError:
        pass


def test_an_early_date_keeps_four_digit_years_for_ringcentral() -> None:
    assert to_ringcentral(parse_instant("0001-01-02T00:00Z", NOW)) == "0001-01-02T00:00:00.000Z"
    assert to_ringcentral(parse_instant("7d", NOW)) == "2026-11-23T12:00:00.000Z"


def test_a_date_that_is_not_one_keeps_its_message() -> None:
    with pytest.raises(ValueError, match=r"^'2026-13-01' is not a date \(2026-11-01"):
        parse_instant("2026-13-01", NOW)


def test_call_log_from_later_than_to_is_a_usage_error_sent_nowhere(runner, signed_in) -> None:
    with requests_mock.Mocker() as m:
        result = runner.invoke(
            cli, ["call-log", "--from", "2026-11-02T00:00Z", "--to", "2026-11-01T00:00Z", "--json"]
        )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for --from: '2026-11-02T00:00Z' (2026-11-02T00:00:00.000Z) is later than "
        "--to '2026-11-01T00:00Z' (2026-11-01T00:00:00.000Z): no call can match"
    )
    assert result.stdout == "" and m.call_count == 0


def test_call_log_from_in_the_future_without_to_is_a_usage_error(runner, signed_in) -> None:
    with requests_mock.Mocker() as m:
        result = runner.invoke(cli, ["call-log", "--from", "9999-01-01", "--json"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("Error: Invalid value for --from: '9999-01-01' (")
    assert result.stderr.splitlines()[-1].endswith(") is later than now: no call can match")
    assert m.call_count == 0


def test_call_log_sends_the_period_it_was_given(runner, signed_in) -> None:
    with requests_mock.Mocker() as m:
        calls = m.get(SERVER + "/restapi/v1.0/account/~/extension/~/call-log", json={"records": []})
        result = runner.invoke(
            cli, ["call-log", "--from", "2026-11-01T00:00Z", "--to", "2026-11-01T00:00Z", "--json"]
        )
    assert result.exit_code == 0, result.output
    sent = parse_qs(urlsplit(calls.last_request.url).query)
    assert (sent["dateFrom"], sent["dateTo"]) == (["2026-11-01T00:00:00.000Z"], ["2026-11-01T00:00:00.000Z"])


# ---------------------------------------------------------------------------------------- -F
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n=7", 7),
        ("n=-3", -3),
        ("n=0", 0),
        ("n=007", "007"),
        ("to=0044123", "0044123"),  # a phone number: its leading zeros are the number
        ("n=-0", "-0"),
        ("n=+3", "+3"),
        ("n=1.5", "1.5"),
        ("n=1e999", "1e999"),
        ("n=²", "²"),  # str.isdigit() says yes; JSON says no
        ("n=--3", "--3"),
        ("b=true", True),
        ("b=false", False),
        ("b=null", None),
        ("b=True", "True"),
        ("s=", ""),
        ("s=a=b", "a=b"),
    ],
)
def test_a_field_is_typed_only_when_it_is_a_json_integer_or_literal(field: str, value: object) -> None:
    assert _parse_fields((field,)) == {field.partition("=")[0]: value}


@given(st.lists(st.text(max_size=12), max_size=4))
def test_parse_fields_fails_only_with_a_usage_error(fields: list[str]) -> None:
    try:
        parsed = _parse_fields(tuple(fields))
    except click.BadParameter as exc:
        assert "is not key=value" in exc.message
    else:
        json.dumps(parsed, allow_nan=False)  # what requests will send


def test_a_huge_integer_field_stays_text_rather_than_failing() -> None:
    digits = "9" * 5000
    assert _parse_fields((f"n={digits}",)) == {"n": digits}


def test_api_sends_fields_with_their_types_in_the_body(runner, signed_in) -> None:
    fields = ["n=7", "m=-3", "z=007", "to=0044123", "t=true", "f=false", "u=null"]
    with requests_mock.Mocker() as m:
        post = m.post(SERVER + "/restapi/v1.0/account/~/extension/~/sms", json={"ok": True})
        args = ["api", "POST", "/restapi/v1.0/account/~/extension/~/sms"]
        result = runner.invoke(cli, [*args, *(x for f in fields for x in ("-F", f))])
    assert result.exit_code == 0, result.output
    assert post.last_request.json() == {
        "n": 7,
        "m": -3,
        "z": "007",
        "to": "0044123",
        "t": True,
        "f": False,
        "u": None,
    }


def test_api_sends_a_leading_zero_query_value_as_typed(runner, signed_in) -> None:
    with requests_mock.Mocker() as m:
        get = m.get(SERVER + "/restapi/v1.0/account/~/extension", json={"records": []})
        result = runner.invoke(cli, ["api", "GET", "/restapi/v1.0/account/~/extension", "-F", "perPage=007"])
    assert result.exit_code == 0, result.output
    assert urlsplit(get.last_request.url).query == "perPage=007"


# ---------------------------------------------------------------------------------------- --input
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe{}", "not UTF-8 text (invalid start byte)"),
        (b'{"a": NaN}', "not JSON: NaN is not a JSON value"),
        (b'{"a": -Infinity}', "not JSON: -Infinity is not a JSON value"),
        (b'{"a": 1e999}', "not JSON: 1e999 is too large for a JSON number"),
        (b"{", "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ],
)
def test_an_input_body_that_is_not_json_is_a_usage_error_sent_nowhere(
    runner, signed_in, tmp_path: Path, content: bytes, message: str
) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(content)
    with requests_mock.Mocker() as m:
        result = runner.invoke(cli, ["api", "POST", "/restapi/v1.0/x", "--input", str(body)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Error: Invalid value for --input: {message}"
    assert m.call_count == 0


def test_an_input_body_is_read_as_utf8(runner, signed_in, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes('{"text": "Grüße 👋", "n": 1.5}'.encode())
    with requests_mock.Mocker() as m:
        post = m.post(SERVER + "/restapi/v1.0/x", json={})
        result = runner.invoke(cli, ["api", "POST", "/restapi/v1.0/x", "--input", str(body)])
    assert result.exit_code == 0, result.output
    assert json.loads(post.last_request.body) == {"text": "Grüße 👋", "n": 1.5}


# ---------------------------------------------------------------------------------------- config.toml
@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('profiles = "x"', "profiles must be a table ([profiles.NAME] sections), not a string"),
        ("[profiles]\ndev = 3", "profiles.dev must be a table ([profiles.dev]), not an integer"),
        (
            "client_secret = true",
            'client_secret must be a string in quotes (client_secret = "..."), not a boolean',
        ),
        ("server = 42", 'server must be a string in quotes (server = "..."), not an integer'),
        ('client_id = ["a", "b"]', 'client_id must be a string in quotes (client_id = "..."), not an array'),
        (
            "redirect_uri = 1.5",
            'redirect_uri must be a string in quotes (redirect_uri = "..."), not a number',
        ),
        (
            "client_id = 2026-11-30",
            'client_id must be a string in quotes (client_id = "..."), not a date or time',
        ),
        (
            "[client_secret]\nx = 1",
            'client_secret must be a string in quotes (client_secret = "..."), not a table',
        ),
        (
            "[profiles.dev]\nclient_secret = false",
            'profiles.dev.client_secret must be a string in quotes (client_secret = "..."), not a boolean',
        ),
    ],
)
def test_a_setting_of_the_wrong_type_is_a_config_error_naming_file_and_key(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_config_file(path)
    assert str(caught.value) == f"config file {str(path)!r}: {message}"
    assert caught.value.exit_code == 3


def test_a_wrong_type_never_shows_the_value(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("client_secret = 123456789\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        resolve({"client_id": "cid"}, environ={}, config_file=path)
    assert "123456789" not in str(caught.value)


def test_string_settings_still_read_with_the_profile_overriding(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'client_id = "top"\nclient_secret = "s"\nunknown = 3\n[profiles.dev]\nclient_id = "dev-app"\n',
        encoding="utf-8",
    )
    assert read_config_file(path) == {"client_id": "top", "client_secret": "s"}
    assert read_config_file(path, "dev") == {"client_id": "dev-app", "client_secret": "s"}


def test_an_env_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "app.env"
    path.write_bytes(b"RC_APP_CLIENT_ID=caf\xe9\n")
    with pytest.raises(ConfigError) as caught:
        resolve({}, environ={}, env_file=path, config_file=tmp_path / "none")
    assert str(caught.value) == f"env file {str(path)!r} is not UTF-8 text (invalid continuation byte)"


# ---------------------------------------------------------------------------------------- --server
@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["login", "--jwt", "--server", "https://alice:s3cret@platform.ringcentral.com"], {}),
        (["login", "--no-browser"], {"RC_SERVER_URL": "https://alice:s3cret@platform.ringcentral.com"}),
        (["login", "--jwt", "--server", "alice:s3cret@platform.ringcentral.com"], {}),
        (["doctor"], {"RC_SERVER_URL": "https://alice:s3cret@platform.ringcentral.com"}),
    ],
)
def test_a_server_url_with_a_password_is_refused_and_never_shown(runner, args, env) -> None:
    result = runner.invoke(
        cli, args, env={"RC_APP_CLIENT_ID": "cid", "RC_JWT": "header.payload.sig", **env}
    )
    shown = result.stdout + result.stderr
    assert "s3cret" not in shown and "alice" not in shown, shown
    assert "user name or password" in shown
    if args[0] == "login":
        assert result.exit_code == ExitCode.CONFIG and result.stderr.count("\n") == 1, result.stderr
