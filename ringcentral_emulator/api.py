"""RingCentral's REST API (the part rcauth uses): account, extensions, call logs, a recording's metadata
(docs/ringcentral.md, "REST resources"); its content is on the media origin (`media`).

Every request is authenticated first (401 AGW-401 without an Authorization header, AGW-402 for a header that
is not Bearer, OAU-129 for a token that is not one of ours, OAU-213 for one we never issued or forgot,
OAU-128 once expired, OAU-211 once revoked or rotated away), then counted against its rate-limit group
for (user, app), then checked for the app's and the user's permissions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

from ringcentral_emulator.audio import Audio, recording_audio
from ringcentral_emulator.data import CALL_TYPES, DAY_MS, DIRECTIONS, RecordFilter, iso_ms
from ringcentral_emulator.ratelimit import too_many
from ringcentral_emulator.state import AccessProblem, EmulatorCore, SessionInfo
from ringcentral_emulator.wire import Request, Response, json_response, rest_error

if TYPE_CHECKING:
    from ringcentral_emulator.data import CallLog, Directory

API_PREFIX = "/restapi/v1.0"
MAX_PER_PAGE = 1000
# The spec's EnumeratedPagingModel: `paging.page` has `maximum: 1000`. What RingCentral does past page 1000
# is not documented; the emulator refuses such a page (400 CMN-101) and never links past it (docs/
# ringcentral.md, "Paging"), so no answer carries a page number the contract does not allow.
MAX_PAGE = 1000
DEFAULT_PER_PAGE = 100
RECORDING_TYPES = ("Automatic", "OnDemand", "All")  # the spec's recordingType
TRANSPORTS = ("PSTN", "VoIP")  # CallTransportEnum
# ExtensionStatusEnumFull, AllExtensionTypesEnum
EXTENSION_STATUSES = ("Enabled", "Disabled", "Frozen", "NotActivated", "Unassigned")
EXTENSION_TYPES = (
    "User Department Announcement Voicemail DigitalUser VirtualUser FaxUser PagingOnly SharedLinesGroup "
    "DelegatedLinesGroup GroupCallPickup IvrMenu ApplicationExtension ProxyAdmin RoomConnector ParkLocation "
    "Limited Bot Site Room FlexibleUser TieLine Unknown"
).split()

_ACCESS_ERRORS = {
    AccessProblem.CORRUPTED: ("OAU-129", "Access token corrupted"),
    AccessProblem.UNKNOWN: ("OAU-213", "Token not found"),
    AccessProblem.EXPIRED: ("OAU-128", "Access token expired"),
    AccessProblem.REVOKED: ("OAU-211", "Token is revoked"),
}


class ApiContext(EmulatorCore, Protocol):
    """What the REST resources, and the media origin that shares their checks, need of the emulator that
    serves them beyond `EmulatorCore`: its data, its media origin, its clock. `app.EmulatorApp` is one;
    this module does not import it (the app composes the endpoints, so it imports them)."""

    @property
    def directory(self) -> Directory: ...

    @property
    def call_log(self) -> CallLog: ...

    @property
    def media_url(self) -> str | None:
        """The media origin, once bound: where records' `contentUri` point (None: the API's own)."""
        ...

    def clock_ms(self) -> int: ...


@dataclass(frozen=True)
class _Route:
    pattern: re.Pattern[str]
    group: str  # rate-limit group
    permission: str  # app permission (scope) required
    handler: str


def _route(path: str, group: str, permission: str, handler: str) -> _Route:
    regex = path.replace("{account}", "(?P<account>[^/]+)").replace("{extension}", "(?P<extension>[^/]+)")
    regex = regex.replace("{record}", "(?P<record>[^/]+)").replace("{recording}", "(?P<recording>[^/]+)")
    return _Route(re.compile(f"{re.escape(API_PREFIX)}{regex}"), group, permission, handler)


_ROUTES = (
    _route("/account/{account}", "Light", "ReadAccounts", "account"),
    _route("/account/{account}/extension", "Medium", "ReadAccounts", "extension_list"),
    _route("/account/{account}/extension/{extension}", "Light", "ReadAccounts", "extension"),
    _route("/account/{account}/extension/{extension}/call-log", "Heavy", "ReadCallLog", "call_log"),
    _route(
        "/account/{account}/extension/{extension}/call-log/{record}", "Heavy", "ReadCallLog", "call_record"
    ),
    _route("/account/{account}/call-log", "Heavy", "ReadCallLog", "call_log"),
    _route("/account/{account}/call-log/{record}", "Heavy", "ReadCallLog", "call_record"),
    # The spec's readCallRecording (x-throttling-group Heavy, x-app-permission ReadCallRecording).
    _route("/account/{account}/recording/{recording}", "Heavy", "ReadCallRecording", "recording"),
)
CONTENT_ROUTE = _route(
    "/account/{account}/recording/{recording}/content", "Heavy", "ReadCallRecording", "recording_content"
)


def authenticate(app: ApiContext, req: Request, *, query_token: bool = False) -> SessionInfo | Response:
    """Who the request's bearer token speaks for, or the 401 answer. With `query_token`, a request with no
    Authorization header may name its token in an `access_token` query parameter, as the spec's
    CallLogRecordingInfo.contentUri allows for content ("access token must be passed via `Authorization`
    header or query parameter")."""
    header = req.headers.get("Authorization")
    if header is None and query_token and req.param("access_token"):
        header = f"Bearer {req.param('access_token')}"
    if header is None:
        return _unauthorized(app, "AGW-401", "Authorization header is not specified")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _unauthorized(app, "AGW-402", "Invalid Authorization header")
    result = app.auth.authenticate(token)
    if isinstance(result, AccessProblem):
        return _unauthorized(app, *_ACCESS_ERRORS[result])
    return result


def _unauthorized(app: ApiContext, code: str, message: str) -> Response:
    app.counters.incr("unauthorized")
    return rest_error(401, code, message)


def check_access(
    app: ApiContext, ids: dict[str, str], permission: str, session: SessionInfo
) -> Response | None:
    """The account's 404 or the app's missing permission's 403 (InsufficientPermissions, CMN-401, with the
    permission's name), or None when the request may go on."""
    if ids["account"] not in ("~", app.directory.account_id):
        return not_found("Resource for parameter [accountId] is not found", "accountId")
    if permission not in session.scope.split():
        return rest_error(
            403,
            "CMN-401",
            f"In order to call this API endpoint, application needs to have [{permission}] permission",
            top="InsufficientPermissions",
            permissionName=permission,
        )
    return None


def find_recording(app: ApiContext, recording_id: str) -> Audio | None:
    """The audio of a recording of the account's call log, or None (no such recording): as long as its
    call, or `recording_seconds` when that switch is set."""
    log = app.call_log
    j = log.find_recording(recording_id)
    if j is None:
        return None
    seconds = app.config.recording_seconds
    duration_ms = (
        int(seconds * 1000)
        if seconds is not None
        else log.record("account", j, base="", detailed=False)["durationMs"]
    )
    return recording_audio(f"{log.seed}:{recording_id}", duration_ms)


def recording_not_found() -> Response:
    return not_found("Resource for parameter [recordingId] is not found", "recordingId")


class ApiEndpoints:
    def __init__(self, app: ApiContext) -> None:
        self.app = app

    def handle(self, req: Request) -> Response:
        session = authenticate(self.app, req)
        if isinstance(session, Response):
            return session
        match = None
        route = None
        for candidate in _ROUTES:
            match = candidate.pattern.fullmatch(req.path)
            if match:
                route = candidate
                break
        if route is None or match is None or req.method not in ("GET", "HEAD"):
            # RingCentral's docs (basics/errors.md): an unknown URI is 404 CMN-120 "Invalid URI".
            return rest_error(404, "CMN-120", "Invalid URI")
        verdict = self.app.limit(("user", session.extension_id, session.client_id), route.group)
        if verdict is not None and not verdict.allowed:
            return too_many(verdict)
        headers = verdict.headers() if verdict else []
        return self._serve(req, route, match.groupdict(), session).with_headers(headers)

    def _serve(self, req: Request, route: _Route, ids: dict[str, str], session: SessionInfo) -> Response:
        directory = self.app.directory
        refused = check_access(self.app, ids, route.permission, session)
        if refused is not None:
            return refused
        extension_id = ids.get("extension")
        if extension_id is not None and directory.extension(extension_id) is None:
            return not_found("Resource for parameter [extensionId] is not found", "extensionId")
        scope = "extension" if extension_id is not None else "account"
        if route.handler.startswith("call_"):
            if extension_id is not None and directory.extension(extension_id) is not directory.me:
                # Reading a colleague's log needs admin rights this emulator does not model.
                return not_found("Resource for parameter [extensionId] is not found", "extensionId")
            if scope == "account" and not self.app.config.admin:
                return rest_error(
                    403,
                    "CMN-408",
                    "In order to call this API endpoint, user needs to have "
                    "[FullCompanyCallLog] permission for requested resource.",
                    top="InsufficientPermissions",
                    permissionName="FullCompanyCallLog",
                )
        handler: Callable[[Request, dict[str, str], str], Response] = getattr(self, "_" + route.handler)
        return handler(req, ids, scope)

    def _canonical_path(self, ids: dict[str, str], suffix: str) -> str:
        """The resource path with real ids for "~": RingCentral's record and navigation uris name the
        account and extension by id, whatever the request said."""
        directory = self.app.directory
        path = f"{API_PREFIX}/account/{directory.account_id}"
        extension = ids.get("extension")
        if extension is not None:
            ext = directory.extension(extension)
            path += f"/extension/{ext.id if ext is not None else extension}"
        return path + suffix

    # -- resources ---------------------------------------------------------------------------------------

    def _account(self, req: Request, ids: dict[str, str], scope: str) -> Response:
        return json_response(200, self.app.directory.account_resource(req.base_url))

    def _extension(self, req: Request, ids: dict[str, str], scope: str) -> Response:
        directory = self.app.directory
        ext = directory.extension(ids["extension"])
        if ext is None:
            return not_found("Resource for parameter [extensionId] is not found", "extensionId")
        return json_response(200, directory.extension_resource(ext, req.base_url, self.app.config.admin))

    def _extension_list(self, req: Request, ids: dict[str, str], scope: str) -> Response:
        directory = self.app.directory
        paging = _paging_params(req)
        if isinstance(paging, Response):
            return paging
        page, per_page = paging
        wanted = _extension_filter(req)
        if isinstance(wanted, Response):
            return wanted
        everyone = [
            resource
            for resource in (
                directory.extension_resource(e, req.base_url, self.app.config.admin, item=True)
                for e in directory.extensions
            )
            if wanted(resource)
        ]
        start = (page - 1) * per_page
        records = everyone[start : start + per_page]
        path = f"{req.base_url}{self._canonical_path(ids, '/extension')}"
        # Navigation links keep the filters, so following them pages through the filtered list.
        fixed = [(k, v) for k, values in req.query.items() if k not in ("page", "perPage") for v in values]
        body = _page_body(path, fixed, records, page, per_page, start, len(everyone))
        return json_response(200, body)

    def _recording(self, req: Request, ids: dict[str, str], scope: str) -> Response:
        """The spec's GetCallRecordingResponse: the content's URI (on the media origin), type, seconds."""
        audio = find_recording(self.app, ids["recording"])
        if audio is None:
            return recording_not_found()
        media = self.app.media_url or req.base_url
        content = self._canonical_path(ids, f"/recording/{ids['recording']}/content")
        body = {
            "id": ids["recording"],
            "contentUri": f"{media}{content}",
            "contentType": audio.media_type,
            "duration": (audio.duration_ms + 500) // 1000,
        }
        return json_response(200, body)

    def _call_record(self, req: Request, ids: dict[str, str], scope: str) -> Response:
        log = self.app.call_log
        j = log.find(ids["record"])
        # A deleted record is listed (with `deleted: true`) only by showDeleted=true; by its id it is gone,
        # as any deleted resource (the spec's readUserCallRecord/readCompanyCallRecord take no showDeleted).
        if j is None or log.is_deleted(j) or (scope == "extension" and not log.owned_by_user(j)):
            return not_found("Resource for parameter [callRecordId] is not found", "callRecordId")
        detailed = req.param("view") == "Detailed"
        record = log.record(scope, j, base=req.base_url, detailed=detailed, media_base=self.app.media_url)
        return json_response(200, record)

    def _call_log(self, req: Request, ids: dict[str, str], scope: str) -> Response:
        query = _call_log_query(req, self.app.clock_ms(), scope)
        if isinstance(query, Response):
            return query
        log = self.app.call_log
        selection = log.select(
            scope,
            date_from_ms=query.date_from_ms,
            date_to_ms=query.date_to_ms,
            types=query.types,
            directions=query.directions,
            show_deleted=query.show_deleted,
            where=query.where,
        )
        start = selection.lo + (query.page - 1) * query.per_page
        stop = min(start + query.per_page, selection.hi)
        records = [
            log.record(
                scope,
                log.entry_index(scope, selection.entry(p)),
                base=req.base_url,
                detailed=query.detailed,
                media_base=self.app.media_url,
            )
            for p in range(start, stop)
        ]
        # Navigation URIs repeat the resolved date range, so following nextPage walks one fixed set of
        # records even when the client let dateTo default to "now".
        fixed = [(k, v) for k, v in query.passthrough]
        fixed += [("dateFrom", iso_ms(query.date_from_ms)), ("dateTo", iso_ms(query.date_to_ms))]
        body = _page_body(
            f"{req.base_url}{self._canonical_path(ids, '/call-log')}",
            fixed,
            records,
            query.page,
            query.per_page,
            (query.page - 1) * query.per_page,
            selection.total,
        )
        return json_response(200, body)


@dataclass(frozen=True)
class _CallLogQuery:
    date_from_ms: int
    date_to_ms: int
    types: frozenset[str]
    directions: frozenset[str]
    detailed: bool
    page: int
    per_page: int
    passthrough: tuple[tuple[str, str], ...]  # other parameters, echoed in navigation URIs
    show_deleted: bool
    where: RecordFilter


_PAGING_AND_DATES = {"page", "perPage", "dateFrom", "dateTo"}


def _call_log_query(req: Request, now_ms: int, scope: str) -> _CallLogQuery | Response:
    date_to = _parse_time(req, "dateTo", now_ms)
    if isinstance(date_to, Response):
        return date_to
    date_from = _parse_time(req, "dateFrom", date_to - DAY_MS)
    if isinstance(date_from, Response):
        return date_from
    types = frozenset(req.params("type"))
    if not types <= set(CALL_TYPES):
        return invalid_parameter("type", ",".join(sorted(types - set(CALL_TYPES))))
    directions = frozenset(req.params("direction"))
    if not directions <= set(DIRECTIONS):
        return invalid_parameter("direction", ",".join(sorted(directions - set(DIRECTIONS))))
    view = req.param("view") or "Simple"
    if view not in ("Simple", "Detailed"):
        return invalid_parameter("view", view)
    paging = _paging_params(req)
    if isinstance(paging, Response):
        return paging
    show_deleted = _boolean(req, "showDeleted", False)
    if isinstance(show_deleted, Response):
        return show_deleted
    where = _record_filter(req, scope)
    if isinstance(where, Response):
        return where
    passthrough = tuple(
        (k, v) for k, values in req.query.items() if k not in _PAGING_AND_DATES for v in values
    )
    return _CallLogQuery(
        date_from,
        date_to,
        types,
        directions,
        view == "Detailed",
        paging[0],
        paging[1],
        passthrough,
        show_deleted,
        where,
    )


def _record_filter(req: Request, scope: str) -> RecordFilter | Response:
    """The content filters of the call-log operation in `scope`, as the spec lists them: `showBlocked`
    (default true) and `transport` only for the user's log (readUserCallLog), the rest for both; a
    parameter the operation does not list is ignored, as any unknown parameter."""
    phone = req.param("phoneNumber")
    if phone is not None:
        phone = phone.removeprefix("+")  # the spec says without "+"; "%2B" is forgiven, a raw "+" is a space
        if not re.fullmatch(r"[0-9]{1,15}", phone):
            return invalid_parameter("phoneNumber", req.param("phoneNumber") or "")
    extension_number = req.param("extensionNumber")
    if phone is not None and extension_number is not None:
        # The spec: extensionNumber "cannot be combined with phoneNumber filter".
        return rest_error(
            400,
            "CMN-101",
            "Parameter [extensionNumber] cannot be combined with [phoneNumber]",
            parameterName="extensionNumber",
            parameterValue=extension_number,
        )
    with_recording = _boolean(req, "withRecording", False)
    if isinstance(with_recording, Response):
        return with_recording
    recording_type = req.param("recordingType")
    if recording_type is not None and recording_type not in RECORDING_TYPES:
        return invalid_parameter("recordingType", recording_type)
    recordings: frozenset[str] | None = None
    any_recording = frozenset(RECORDING_TYPES) - {"All"}
    if recording_type is not None:  # the spec: with both, withRecording is ignored
        recordings = any_recording if recording_type == "All" else frozenset({recording_type})
    elif with_recording:
        recordings = any_recording
    hide_blocked = False
    transports: frozenset[str] = frozenset()
    if scope == "extension":
        show_blocked = _boolean(req, "showBlocked", True)
        if isinstance(show_blocked, Response):
            return show_blocked
        hide_blocked = not show_blocked
        transports = frozenset(req.params("transport"))
        if not transports <= set(TRANSPORTS):
            return invalid_parameter("transport", ",".join(sorted(transports - set(TRANSPORTS))))
    return RecordFilter(
        phone_number=phone,
        extension_number=extension_number,
        hide_blocked=hide_blocked,
        recording_types=recordings,
        transports=frozenset() if transports >= set(TRANSPORTS) else transports,
        session_id=req.param("sessionId"),
        telephony_session_id=req.param("telephonySessionId"),
    )


def _extension_filter(req: Request) -> Callable[[dict[str, Any]], bool] | Response:
    """listExtensions' filters: `extensionNumber` (at most 8 characters), `email`, `status` and `type`
    (each repeatable, any of the values); `status` may be empty (allowEmptyValue), which filters nothing."""
    number = req.param("extensionNumber")
    if number is not None and len(number) > 8:
        return invalid_parameter("extensionNumber", number)
    for address in req.params("email"):
        if len(address) > 254:
            return invalid_parameter("email", address)
    emails = {e.casefold() for e in req.params("email")}  # addresses compare without regard to case
    statuses = {s for s in req.params("status") if s}
    if not statuses <= set(EXTENSION_STATUSES):
        return invalid_parameter("status", ",".join(sorted(statuses - set(EXTENSION_STATUSES))))
    types = set(req.params("type"))
    if not types <= set(EXTENSION_TYPES):
        return invalid_parameter("type", ",".join(sorted(types - set(EXTENSION_TYPES))))

    def wanted(item: dict[str, Any]) -> bool:
        return (
            (number is None or item.get("extensionNumber") == number)
            and (not emails or str(item["contact"].get("email", "")).casefold() in emails)
            # The spec: "Unassigned" also selects the extensions without an extensionNumber.
            and (
                not statuses
                or item["status"] in statuses
                or ("Unassigned" in statuses and "extensionNumber" not in item)
            )
            and (not types or item["type"] in types)
        )

    return wanted


def _boolean(req: Request, name: str, default: bool) -> bool | Response:
    """An OpenAPI boolean query parameter: "true" or "false" (any case)."""
    raw = req.param(name)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        return invalid_parameter(name, raw)
    return raw.lower() == "true"


def _paging_params(req: Request) -> tuple[int, int] | Response:
    """page (1..1000: the spec's EnumeratedPagingModel caps `page` at 1000) and perPage: the spec's
    PerPageWithMax takes 1..1000 or "max" (1000), and clamps an integer above 1000 to 1000."""
    values = []
    for name, default in (("page", 1), ("perPage", DEFAULT_PER_PAGE)):
        raw = req.param(name)
        if raw is None:
            values.append(default)
            continue
        if name == "perPage" and raw == "max":
            values.append(MAX_PER_PAGE)
            continue
        if not raw.isdigit() or int(raw) < 1 or (name == "page" and int(raw) > MAX_PAGE):
            return invalid_parameter(name, raw)
        values.append(min(int(raw), MAX_PER_PAGE) if name == "perPage" else int(raw))
    return values[0], values[1]


def _parse_time(req: Request, name: str, default_ms: int) -> int | Response:
    raw = req.param(name)
    if raw is None or raw == "":
        return default_ms
    try:
        text = raw.strip()
        # Python 3.10's fromisoformat does not read the "Z" suffix RingCentral's timestamps use.
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        return invalid_parameter(name, raw)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def _page_body(
    path: str,
    fixed: list[tuple[str, str]],
    records: list[dict[str, Any]],
    page: int,
    per_page: int,
    offset: int,
    total: int,
) -> dict[str, Any]:
    total_pages = -(-total // per_page)

    def uri(n: int) -> dict[str, str]:
        return {"uri": f"{path}?{urlencode([*fixed, ('page', str(n)), ('perPage', str(per_page))])}"}

    # The spec's EnumeratedPagingModel: `page` (at most 1000) is omitted when the page is empty.
    paging: dict[str, Any] = {"page": page} if records else {}
    paging.update(totalPages=total_pages, perPage=per_page, totalElements=total)
    if records:
        paging["pageStart"] = offset
        paging["pageEnd"] = offset + len(records) - 1
    # Links stop at MAX_PAGE, the last page a client may ask for: page 1000 has no nextPage even when
    # records remain, while totalPages and totalElements (no maximum in the spec) still count them all.
    last_page = min(max(total_pages, 1), MAX_PAGE)
    navigation = {"firstPage": uri(1)}
    if page < last_page:
        navigation["nextPage"] = uri(page + 1)
    if page > 1:
        navigation["previousPage"] = uri(min(page - 1, last_page))
    navigation["lastPage"] = uri(last_page)
    return {"uri": uri(page)["uri"], "records": records, "paging": paging, "navigation": navigation}


def invalid_parameter(name: str, value: str) -> Response:
    return rest_error(
        400, "CMN-101", f"Parameter [{name}] value is invalid", parameterName=name, parameterValue=value
    )


def not_found(message: str, parameter: str | None = None) -> Response:
    extra = {"parameterName": parameter} if parameter else {}
    return rest_error(404, "CMN-102", message, **extra)
