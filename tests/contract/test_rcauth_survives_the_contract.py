"""rcauth survives every answer RingCentral's contract allows.

Records and extensions are generated from the vendored spec's own schemas (hypothesis-jsonschema over
`CallLogRecord` and `GetExtensionInfoResponse`), then roughened the way a later RingCentral may answer:
enum values the spec does not list yet, optional fields missing, `null` where a value was expected, extra
fields (the schemas allow additional properties). Each goes through every output path: the call-log
table, JSON, NDJSON and CSV; whoami's table and `write_object` formats; status's table. Error bodies
generated from the spec's error shapes go through rcauth's three error readers and the CLI's one-line
report.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from typing import Any

import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from rcauth import output, resources
from rcauth.cli import _one_line
from rcauth.client import api_error
from rcauth.errors import parse_error_body
from rcauth.oauth import error_from_response
from rcauth.terminal_text import visible
from tests.contract import contract

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
URI = "https://platform.ringcentral.com/restapi/v1.0/account/1/extension/2/call-log/X"
_SKIP = ("example", "description", "discriminator", "x-enum-descriptions", "deprecated")


def _inline(node: Any, seen: tuple[str, ...] = ()) -> Any:
    """The schema with every `$ref` replaced by its target (a cycle ends in `{}`), OpenAPI-only keywords
    dropped: what hypothesis-jsonschema reads."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            return {} if name in seen else _inline(contract.resolve(node), (*seen, name))
        return {k: _inline(v, seen) for k, v in node.items() if k not in _SKIP}
    if isinstance(node, list):
        return [_inline(v, seen) for v in node]
    return node


def _no_surrogates(text: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def spec_values(name: str) -> st.SearchStrategy[Any]:
    """Instances of a component schema: valid JSON a UTF-8 answer can carry (no lone surrogates)."""
    # A fixed uri: hypothesis-jsonschema's own (any domain name) is slow and tests nothing rcauth reads.
    formats = {"int32": st.text(max_size=3), "int64": st.text(max_size=3), "uri": st.just(URI)}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Overriding standard format 'uri'")
        values = from_schema(_inline({"$ref": f"#/components/schemas/{name}"}), custom_formats=formats)
    return values.filter(lambda value: _no_surrogates(json.dumps(value, ensure_ascii=False)))


@st.composite
def roughened(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """A spec-valid instance, then: some fields set to null, some enum strings replaced by ones the
    spec may add later, some fields removed (required ones too: a partial answer must not crash)."""
    value = dict(draw(spec_values(name)))
    for key in list(value):
        change = draw(st.sampled_from(["keep", "keep", "keep", "null", "unknown", "drop"]))
        if change == "null":
            value[key] = None
        elif change == "unknown" and isinstance(value[key], str):
            value[key] = "Some Future Value"
        elif change == "drop":
            del value[key]
    return value


def _rich_text(renderable: Any) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=250, color_system=None).print(renderable)
    return buffer.getvalue()


# -- call-log records ---------------------------------------------------------------------------------


EDGE_RECORD = {
    "uri": URI,
    "id": "a",
    "sessionId": "1",
    "type": "Voice",
    "direction": "Inbound",
    "action": "Phone Call",
}


@SETTINGS
@given(st.lists(st.one_of(spec_values("CallLogRecord"), roughened("CallLogRecord")), max_size=4))
@example(
    [
        {**EDGE_RECORD, "startTime": "0001-01-01T00:00:00+01:00"},
        {**EDGE_RECORD, "startTime": "9999-12-31T23:59:59-12:00"},
    ]
)
def test_call_log_records_from_the_spec_render_in_every_format(records):
    table = _rich_text(output.call_log_table(records))
    for record in records:
        if (
            isinstance(record.get("result"), str)
            and record["result"].isprintable()
            and record["result"].strip()
        ):
            assert record["result"].strip()[:8] in table  # an unknown result is shown as given

    as_json = io.StringIO()
    assert output.write_records(records, "json", as_json) == len(records)
    assert json.loads(as_json.getvalue()) == records  # nothing lost, nothing changed

    as_ndjson = io.StringIO()
    output.write_records(records, "ndjson", as_ndjson)
    # NDJSON lines end at "\n" only (U+2028 and friends may sit raw inside a string).
    assert [json.loads(line) for line in as_ndjson.getvalue().split("\n")[:-1]] == records

    as_csv = io.StringIO()
    output.write_records(records, "csv", as_csv, csv_fields=output.CALL_LOG_CSV_FIELDS)
    rows = list(csv.DictReader(io.StringIO(as_csv.getvalue(), newline="")))
    assert len(rows) == len(records)
    for record, row in zip(records, rows, strict=True):
        if isinstance(record.get("id"), str):
            text = record["id"].replace("\x00", "\ufffd")  # a NUL is written as U+FFFD (output.csv_cell)
            assert row["id"] in (text, "'" + text)


# -- whoami and status --------------------------------------------------------------------------------


@SETTINGS
@given(st.one_of(spec_values("GetExtensionInfoResponse"), roughened("GetExtensionInfoResponse")))
def test_extension_info_from_the_spec_renders_in_whoami_and_status(ext):
    shown = _rich_text(output.extension_table(ext, "https://platform.ringcentral.com"))
    if isinstance(ext.get("extensionNumber"), str) and ext["extensionNumber"].strip().isprintable():
        assert ext["extensionNumber"].strip() in shown
    line = resources.describe_user(ext)
    assert isinstance(line, str) and line

    for fmt in ("json", "ndjson"):
        buffer = io.StringIO()
        output.write_object(ext, fmt, buffer)
        assert json.loads(buffer.getvalue()) == ext
    buffer = io.StringIO()
    output.write_object(ext, "csv", buffer)
    assert len(list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))) == 2

    contact = ext.get("contact") if isinstance(ext.get("contact"), dict) else {}
    info = {
        "profile": "default",
        "server": "https://platform.ringcentral.com",
        "client_id": "app",
        "owner_id": ext.get("id"),
        "user": {
            "name": ext.get("name"),
            "extensionNumber": ext.get("extensionNumber"),
            "email": contact.get("email"),
        },
        "scopes": ["ReadAccounts"],
        "access_token_expires_at": None,
        "refresh_token_expires_at": None,
        "storage": "keyring",
    }
    assert "Profile" in _rich_text(output.status_table(info))
    info["user"] = {"name": line}
    assert "Profile" in _rich_text(output.status_table(info))


# -- error bodies -------------------------------------------------------------------------------------


def _answer(status: int, body: Any) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body, ensure_ascii=False).encode("utf-8")
    response.headers["Content-Type"] = "application/json"
    response.url = "https://platform.ringcentral.com/restapi/v1.0/account/~/extension/~/call-log"
    response.reason = "Bad Request"
    return response


def _oauth_error_schema() -> dict[str, Any]:
    response = contract.spec()["components"]["responses"]["OauthInvalidRequest"]
    return response["content"]["application/json"]["schema"]


@st.composite
def rest_error_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """`errors[]` (ApiErrorResponseModel, or with parameterName: ParameterizedErrorResponseModel), with
    and without the top-level errorCode and message RingCentral's docs show, sometimes a permissionName."""
    body = dict(
        draw(st.one_of(spec_values("ApiErrorResponseModel"), spec_values("ParameterizedErrorResponseModel")))
    )
    first = body["errors"][0] if body["errors"] else None
    if first is not None and draw(st.booleans()):
        first["permissionName"] = draw(st.sampled_from(["ReadCallLog", "FullCompanyCallLog"]))
    if draw(st.booleans()):
        body["errorCode"] = draw(st.sampled_from(["InsufficientPermissions", "CMN-102", "CMN-120"]))
        body["message"] = draw(st.text(min_size=1, max_size=40).filter(_no_surrogates))
    return body


def _expected_code(body: dict[str, Any]) -> str | None:
    first = body["errors"][0] if body.get("errors") else {}
    for value in (body.get("errorCode"), first.get("errorCode"), body.get("error")):
        if isinstance(value, str) and value:
            return value
    return None


def _cli_line(error: Exception) -> str:
    return f"Error: {visible(_one_line(error))}"


def _assert_one_clear_line(line: str, code: str | None) -> None:
    assert "\n" not in line and "\r" not in line
    if code is not None and code.split():
        assert visible(" ".join(code.split())) in line


@SETTINGS
@given(rest_error_bodies(), st.sampled_from([400, 401, 403, 404, 429, 503]))
def test_every_documented_rest_error_shape_gives_one_line_with_its_error_code(body, status):
    parsed = parse_error_body(_answer(status, body))
    assert parsed.error_code == _expected_code(body)
    error = api_error(_answer(status, body))
    assert error.error_code == _expected_code(body)
    _assert_one_clear_line(_cli_line(error), error.error_code)
    if status == 403 and body["errors"] and body["errors"][0].get("permissionName"):
        assert body["errors"][0]["permissionName"] in _cli_line(error)


@SETTINGS
@given(
    from_schema(_inline(_oauth_error_schema())).filter(
        lambda b: _no_surrogates(json.dumps(b, ensure_ascii=False))
    ),
    st.sampled_from([400, 401, 403, 415]),
)
def test_every_documented_oauth_error_shape_gives_one_line_with_its_error_code(body, status):
    error = error_from_response(_answer(status, body), "the token endpoint")
    assert error.error_code == _expected_code(body)
    _assert_one_clear_line(_cli_line(error), error.error_code)
