"""Commands that use the stored session with the REST API: `whoami`, `call-log`, `api`, and `token`
(a valid access token for other programs: scripts call it often, so it loads no more than whoami)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sys
from typing import TYPE_CHECKING, Any

import click

from rcauth import resources
from rcauth.cli import CliError, common_options
from rcauth.cli_common import (
    NARROW_PERIOD,
    Listing,
    api_client,
    call_filter_options,
    call_log_period,
    format_option,
    print_listing,
    with_progress,
)
from rcauth.errors import ExitCode, ForeignOrigin, OutputFailed
from rcauth.output import (
    CALL_LOG_CSV_FIELDS,
    call_log_table,
    choose_format,
    console,
    extension_table,
    write_json,
    write_object,
    write_records,
)
from rcauth.session import NO_REFRESH_TOKEN, SDK_HANDOFF_VALID_FOR, sdk_token_data

if TYPE_CHECKING:
    from rcauth.call_log_query import CallLogQuery


@click.command()
@format_option
@common_options
def whoami(fmt: str | None, as_json: bool) -> None:
    """Show who the stored session belongs to.

    Calls GET /restapi/v1.0/account/~/extension/~ (refreshing the session if due).

    \b
    Examples:
      rcauth whoami
      rcauth whoami --json | jq -r .contact.email
      rcauth --profile dev whoami --format csv

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE, NO_COLOR.
    """
    with api_client() as client:
        ext = resources.extension_info(client)
        server = client.load_session().server
    fmt = choose_format(fmt, as_json, piped_default="json")
    if fmt == "table":
        console().print(extension_table(ext, server))
    else:
        write_object(ext, fmt)


@click.command("call-log")
@click.option(
    "--limit", type=click.IntRange(min=1), default=25, show_default=True, help="How many calls to list."
)
@click.option("--all", "fetch_all", is_flag=True, help="Every call in the period (all pages), streamed.")
@call_filter_options
@click.option(
    "--type",
    "types",
    type=click.Choice(["voice", "fax"], case_sensitive=False),
    multiple=True,
    help="Only this type (repeatable).",
)
@click.option(
    "--view",
    type=click.Choice(["simple", "detailed"], case_sensitive=False),
    default=None,
    help="Detailed adds call legs.  [default: simple]",
)
@click.option(
    "--summary",
    is_flag=True,
    help="Totals by day, direction/result and hour (as a chart, or data with --format json) "
    "over every call in the period, instead of the calls.",
)
@format_option
@common_options
def call_log(
    limit: int,
    fetch_all: bool,
    date_from: str | None,
    date_to: str | None,
    types: tuple[str, ...],
    directions: tuple[str, ...],
    view: str | None,
    account: bool,
    summary: bool,
    fmt: str | None,
    as_json: bool,
) -> None:
    """List calls, newest first, following RingCentral's paging.

    Reads GET /restapi/v1.0/account/~/extension/~/call-log (or, with --account, the whole
    account's /restapi/v1.0/account/~/call-log). Records are written as they arrive, so
    `--all --format ndjson` streams any number of calls in constant memory.

    \b
    Examples:
      rcauth call-log --limit 10
      rcauth call-log --from 7d --direction inbound --type voice
      rcauth call-log --all --from 2026-01-01 --format ndjson > calls.ndjson
      rcauth call-log --from 30d --limit 500 --format csv > calls.csv
      rcauth call-log --summary --from 7d                  # the week at a glance
      rcauth call-log --summary --from 30d --format json | jq .busiest_hours

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE, NO_COLOR.
    """
    from rcauth.call_log_query import CallLogQuery, call_log

    start, end = call_log_period(date_from, date_to)
    query = CallLogQuery(start, end, types=types, directions=directions, view=view, account=account)
    if summary:
        _summarize(query, fmt, as_json)
        return
    print_listing(
        lambda client, limit, on_page: call_log(client, query, limit=limit, on_page=on_page),
        fmt=fmt,
        as_json=as_json,
        limit=limit,
        fetch_all=fetch_all,
        period_given=bool(date_from or date_to),
        table=call_log_table,
        csv_fields=CALL_LOG_CSV_FIELDS,
        empty="calls",
        counted="calls",
        progress_label="call log",
    )


def _summarize(query: CallLogQuery, fmt: str | None, as_json: bool) -> None:
    """call-log --summary: every page of the period streamed into counters (constant memory)."""
    from rcauth.call_log_query import call_log
    from rcauth.call_summary import summarize
    from rcauth.output import call_summary_view

    fmt = choose_format(fmt, as_json, piped_default="json")
    if fmt not in ("table", "json"):
        raise click.UsageError("--summary is shown as a chart (--format table) or data (--format json)")
    pages: list[dict[str, Any]] = []

    def keep_latest(page: dict[str, Any]) -> None:
        pages[:] = [page]

    with api_client() as client:
        listed = call_log(client, query, limit=None, on_page=keep_latest)
        with Listing(listed) as listing:
            result = summarize(with_progress(iter(listing), pages)).to_json()
            result["complete"] = listing.error is None  # else it counts what was listed before the error
            if fmt == "json":
                write_json(result)
            elif not result["total"]:
                click.echo("No calls in that period.", err=True)
            else:
                console().print(call_summary_view(result))
    listing.raise_error(narrow=NARROW_PERIOD, stopped="the summary counts the {count} calls listed before it")


# JSON's own spelling of an integer: no leading zero, no `+`, ASCII digits only. `007` and
# `0044123` (a phone number) are text, as is anything else that is not exactly this (`-0` too:
# typed, it would be sent as `0`).
_JSON_INTEGER = re.compile(r"0|-?[1-9][0-9]*")
_JSON_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


def _field_value(raw: str) -> Any:
    """-F's value: true/false/null and JSON integers are typed (as `gh api -F` does), the rest text."""
    if raw in _JSON_LITERALS:
        return _JSON_LITERALS[raw]
    if _JSON_INTEGER.fullmatch(raw):
        with contextlib.suppress(ValueError):  # over 4300 digits Python refuses: it stays text
            return int(raw)
    return raw


def _parse_fields(fields: tuple[str, ...]) -> dict[str, Any]:
    """-F key=value, typed by `_field_value`; a repeated key collects its values in a list."""
    parsed: dict[str, Any] = {}
    for item in fields:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not key=value", param_hint="-F/--field")
        value = _field_value(raw)
        if key in parsed:  # repeated keys become lists (RingCentral's repeatable query parameters)
            previous = parsed[key]
            parsed[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            parsed[key] = value
    return parsed


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is too large for a JSON number")
    return value


# A request body RingCentral's API takes is kilobytes (an SMS, a rule, a contact); more than this is a
# wrong file or an endless one (/dev/zero), and reading it whole would only fill memory.
INPUT_MAX_CHARS = 16 * 2**20


def _read_json_body(input_file: Any) -> Any:
    """--input's JSON, strictly: RFC 8259 has no NaN or Infinity, and requests refuses to send a
    body holding one, so they are the user's error here, not a transport failure later."""
    try:
        text = input_file.read(INPUT_MAX_CHARS + 1)
        if len(text) > INPUT_MAX_CHARS:
            raise click.BadParameter(
                f"more than {INPUT_MAX_CHARS // 2**20} MiB: not a request body", param_hint="--input"
            )
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except UnicodeDecodeError as exc:
        raise click.BadParameter(f"not UTF-8 text ({exc.reason})", param_hint="--input") from None
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--input") from None
    except RecursionError:
        raise click.BadParameter("JSON nested deeper than it can be read", param_hint="--input") from None


@click.command()
@click.argument("method", type=click.Choice(["GET", "POST", "PUT", "PATCH", "DELETE"], case_sensitive=False))
@click.argument("path")
@click.option(
    "-F",
    "--field",
    "fields",
    multiple=True,
    metavar="KEY=VALUE",
    help="A query parameter (GET, DELETE) or JSON body field (POST, PUT, PATCH). Repeatable. "
    "true, false, null and integers are typed; anything else is text (007 stays 007).",
)
@click.option(
    "--input",
    "input_file",
    type=click.File("r", encoding="utf-8"),  # RFC 8259 §8.1: JSON exchanged between systems is UTF-8
    metavar="FILE",
    help="JSON request body from FILE (- for stdin).",
)
@click.option("--paginate", is_flag=True, help="Follow navigation.nextPage and stream every record.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "ndjson", "csv"]),
    help="With --paginate: how records are written. Default: JSON array on a terminal, ndjson piped.",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the answer's body to FILE as it arrives (- for stdout, even a terminal): for "
    "content such as a recording. FILE appears only once the body is whole; an existing FILE is "
    "not replaced unless --force.",
)
@click.option("--force", is_flag=True, help="With --output: replace FILE if it exists.")
@common_options
def api(
    method: str,
    path: str,
    fields: tuple[str, ...],
    input_file: Any,
    paginate: bool,
    fmt: str | None,
    output: str | None,
    force: bool,
) -> None:
    """Call any RingCentral REST endpoint with the stored session (refreshed as needed).

    PATH is relative to the server (e.g. /restapi/v1.0/account/~), or a full URL on the session's
    own server or its media server (a recording's contentUri); the token is never sent anywhere
    else. The answer's JSON is printed: indented on a terminal, compact when piped. Other text is
    printed as text; binary content (audio, a fax) goes to a pipe as it is, never to a terminal: use
    --output FILE.

    --output FILE streams the body to FILE (never held whole in memory), written beside it under a
    temporary name and renamed when complete, so an answer cut off leaves no FILE; the file is
    readable by you only. Unlike curl -o, an existing FILE is kept unless --force (curl's
    --no-clobber is rcauth's default: a recording is not overwritten by mistake).

    \b
    Examples:
      rcauth api GET /restapi/v1.0/account/~
      rcauth api GET /restapi/v1.0/account/~/extension -F perPage=100 --paginate --format ndjson
      rcauth api POST /restapi/v1.0/account/~/extension/~/sms --input message.json
      rcauth api GET /restapi/v1.0/account/~/extension/~/call-log -F type=Voice -F type=Fax
      rcauth api GET https://media.ringcentral.com/restapi/v1.0/account/~/recording/ID/content -o call.mp3

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE.
    """
    method = method.upper()
    if output is not None and paginate:
        raise click.UsageError("--output writes one answer's body: it cannot be used with --paginate")
    if force and output is None:
        raise click.UsageError("--force replaces the file --output names: give --output FILE")
    values = _parse_fields(fields)
    query = values if method in ("GET", "DELETE") else None
    body: Any = None
    if input_file is not None:
        body = _read_json_body(input_file)
    if method not in ("GET", "DELETE") and values:
        if body is not None and not isinstance(body, dict):
            raise click.UsageError("-F fields need a JSON object body")
        body = {**(body or {}), **values}
    with api_client() as client:
        try:
            path = client.url_for(path)
        except ForeignOrigin as exc:
            no_media = ""
            if client.origins.media is None and "/recording/" in path:
                # A recording's contentUri on a server with no media server known (the sandbox, a
                # partner brand): the fix is at sign-in, never a guess from the URL.
                no_media = (
                    "; this session has no media server for recordings: sign in again with "
                    "`rcauth login --media-server URL` (or RC_MEDIA_URL)"
                )
            raise click.BadParameter(
                f"must be a path such as /restapi/v1.0/account/~ or a URL on "
                f"{client.origins.named()}; {exc.message}{no_media}",
                param_hint="PATH",
            ) from None
        if output is not None:
            _save_body(client, method, path, query, body, output, replace=force)
            return
        if paginate:
            if method != "GET":
                raise click.UsageError("--paginate works with GET only")
            fmt = fmt or ("json" if sys.stdout.isatty() else "ndjson")
            with Listing(client.paginate(path, query, limit=None)) as listing:
                write_records(listing, fmt)
            listing.raise_error(
                narrow="narrow the query (a call log's dateFrom/dateTo)",
                stopped="the listing stopped after {count} records",
            )
            return
        with client.streamed(method, path, params=query, json=body) as response:
            if _media_type(response) and not _textual(response):
                # Declared binary (a recording, a fax): streamed to a pipe as it arrives, never held
                # whole (a long WAV passes the size cap of answers read whole); never to a terminal.
                _stream_binary(response)
                return
            from rcauth import transport

            transport.read_within(response, client.answer_within, path)
    if not response.content:
        return
    if not _textual(response):  # audio, a fax: not parsed (requests would guess a charset over it all)
        _write_not_json(response)
        return
    try:
        data = response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python parses
        _write_not_json(response)
        return
    write_json(data)


def _stream_binary(response: Any) -> None:
    """A binary answer without --output: to a pipe byte for byte, in chunks; a terminal gets one line
    instead, and the body is not read (its size is the answer's Content-Length)."""
    if sys.stdout.isatty():
        raise CliError(_binary_refused(response, read=False), int(ExitCode.USAGE))
    _copy_body(response, _stdout_bytes())


def _stdout_bytes() -> Any:
    """stdout's byte stream, text written so far flushed ahead of it; `OutputFailed` when stdout was
    closed at start (`>&-`), said as every command says it."""
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        raise OutputFailed("cannot write the output: standard output is closed")
    sys.stdout.flush()
    return out


def _copy_body(response: Any, out: Any) -> None:
    """A streamed answer's body written to `out` as it arrives, never held whole."""
    from rcauth.client import body_chunks

    for chunk in body_chunks(response):
        out.write(chunk)
    out.flush()


def _write_not_json(response: Any) -> None:
    """An answer that is not JSON: a terminal is shown text, never its control sequences, and no
    binary at all (curl refuses it too: a usage error); a pipe gets the exact bytes."""
    if sys.stdout.isatty():
        from rcauth.terminal_text import visible_lines

        if _binary(response):
            # One line, as curl's warning is (click's UsageError would print the usage first).
            raise CliError(_binary_refused(response), int(ExitCode.USAGE))
        sys.stdout.write(visible_lines(response.text))
    elif (raw := getattr(sys.stdout, "buffer", None)) is not None:
        sys.stdout.flush()
        raw.write(response.content)
    else:
        sys.stdout.write(response.text)


def _save_body(
    client: Any, method: str, url: str, query: Any, body: Any, output: str, *, replace: bool
) -> None:
    """`--output`: the answer's body, in chunks, to stdout (`-`) or to the file (`ApiClient.download`:
    a temp file renamed once whole; a device, a FIFO or `/dev/stdout` written into, a symbolic link
    kept and its file written). A content URL answers in its own type (audio/mpeg, audio/wav):
    `Accept: */*`, as curl sends."""
    from pathlib import Path

    sent: dict[str, Any] = {"params": query, "json": body, "headers": {"Accept": "*/*"}}
    if output == "-":
        from rcauth.client import refuse_encoded

        out = _stdout_bytes()  # before the request: a closed stdout spends none
        # As sent, as a file would get it: never a compressed body inflated without bound.
        sent["headers"]["Accept-Encoding"] = "identity"
        with client.streamed(method, url, **sent) as response:
            refuse_encoded(response)
            _copy_body(response, out)
        return
    if output.endswith(("/", os.sep)) and not os.path.isdir(output):
        raise click.BadParameter(f"{output!r} is not a directory", param_hint="--output")
    try:
        client.download(url, Path(output), replace=replace, method=method, **sent)
    except FileExistsError:
        raise click.BadParameter(
            f"{output!r} exists: pass --force to replace it", param_hint="--output"
        ) from None
    except IsADirectoryError:
        raise click.BadParameter(f"{output!r} is a directory: name a file", param_hint="--output") from None
    except OSError as exc:
        raise OutputFailed(f"cannot write {output!r}: {exc.strerror or exc}") from None


# Media types whose body is text a terminal can show (with its controls escaped): the rest is binary.
_TEXT_TYPES = (
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
)


def _media_type(response: Any) -> str:
    return str(response.headers.get("Content-Type", "")).split(";")[0].strip().lower()


def _textual(response: Any) -> bool:
    """The answer's media type is text, JSON or XML (or it names none)."""
    kind = _media_type(response)
    return not kind or kind.startswith("text/") or kind.endswith(("+json", "+xml")) or kind in _TEXT_TYPES


def _binary(response: Any) -> bool:
    """Content no terminal should be sent: a media type that is not text (audio/mpeg, a PDF fax), or,
    with no type named, a NUL among the first bytes (curl's own test). Text whatever it holds is shown
    with its controls escaped (`visible_lines`), a NUL too."""
    if _media_type(response):
        return not _textual(response)
    return b"\0" in response.content[:8192]


def _binary_refused(response: Any, read: bool = True) -> str:
    """The one line for binary content a terminal is not sent; `read=False`: the body was left unread,
    so its size is what Content-Length says."""
    kind = _media_type(response) or "binary content"
    length = str(len(response.content)) if read else response.headers.get("Content-Length", "")
    size = f"{int(length)} bytes" if length.isdigit() else "size unknown"
    return (
        f"the answer is {kind} ({size}), not text: not written to the terminal; "
        "use --output FILE (or --output - to write it here anyway)"
    )


@click.command()
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the token as RingCentral's SDKs take it (Python set_data(), JavaScript setData(), "
    "ringcentral-extensible's rc.token): access_token, token_type, expires_in, scope, owner_id. "
    "Never the refresh token.",
)
@common_options
def token(as_json: bool) -> None:
    """Print a valid access token (refreshed if due) and nothing else.

    For scripts: the token goes to stdout with a newline, everything else to stderr.

    With --json, a JSON object that RingCentral's SDKs accept as it is, in any language: Python
    `platform.auth().set_data(json.loads(...))`, JavaScript
    `await platform.auth().setData(JSON.parse(...))`, ringcentral-extensible `rc.token = ...`. It
    has no expire_time (the Python SDK counts it in seconds, the JavaScript SDK in milliseconds):
    each SDK works it out from expires_in when it is handed the object, so hand it over at once
    (never save it to a file). The token has at least 5 minutes left (refreshed first if not,
    unless the app issues no refresh token). It never holds the refresh token: a refresh made by
    the SDK would rotate the pair behind rcauth's back (RingCentral's refresh tokens are
    single-use) and end the session rcauth keeps. So the SDK cannot refresh it: ask again before the
    last minute of expires_in, when any rcauth command may refresh the session and so end it.
    Beware that the SDKs' error messages may quote the token.

    \b
    Examples:
      curl -H "Authorization: Bearer $(rcauth token)" \\
        https://platform.ringcentral.com/restapi/v1.0/account/~/extension/~
      rcauth token --json | jq -r .expires_in   # the SDK hand-off's shape (see the Python guide)

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE.
    """
    with api_client() as client:  # a fresh token needs no request, so no HTTP stack is loaded
        if not as_json:
            click.echo(client.fresh_session().access_token)
            return
        session = client.fresh_session(valid_for=SDK_HANDOFF_VALID_FOR)
        data = sdk_token_data(session)
    if session.refresh_token is None and data["expires_in"] < SDK_HANDOFF_VALID_FOR:
        click.echo(
            f"warning: this token expires in {data['expires_in']} s and {NO_REFRESH_TOKEN} (RingCentral's "
            "JavaScript SDK stops using a token a minute before it expires); `rcauth login` for a new one",
            err=True,
        )
    write_json(data)
