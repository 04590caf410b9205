"""The media origin: a recording's content, as RingCentral's media entry point serves it.

RingCentral serves binary content from a host of its own (`https://media.ringcentral.com`, the spec's
second server; readCallRecordingContent is `x-media-api: true`: "This API must be called via media API
entry point"), so the emulator listens on a second port and serves there only
`GET|HEAD /restapi/v1.0/account/{accountId}/recording/{recordingId}/content`; anything else is 404 CMN-120,
and the API origin does not serve content paths (404 CMN-120, as any unknown URI). The same tokens work
on both.

Each request is checked as the API's are (`api.authenticate`: the Authorization header, or the
`access_token` query parameter the spec allows for content; then the Heavy group, counted with the API's
Heavy requests for the same user and app; then the account and the app's ReadCallRecording permission;
then the recording). The answer: `Content-Type` audio/mpeg or audio/wav (the spec's two), `Accept-Ranges:
bytes`, one byte range honoured (RFC 9110 §14), `contentDisposition`/`contentDispositionFilename` as a
`Content-Disposition` header (RFC 6266).
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

from ringcentral_emulator.api import (
    CONTENT_ROUTE,
    ApiContext,
    authenticate,
    check_access,
    find_recording,
    invalid_parameter,
    recording_not_found,
)
from ringcentral_emulator.ratelimit import too_many
from ringcentral_emulator.wire import Request, Response, rest_error

DISPOSITIONS = ("Inline", "Attachment")  # the spec's ContentDisposition
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_FILENAME_MAX = 255


class MediaEndpoints:
    def __init__(self, app: ApiContext) -> None:
        self.app = app

    def handle(self, req: Request) -> Response:
        match = CONTENT_ROUTE.pattern.fullmatch(req.path)
        if match is None or req.method not in ("GET", "HEAD"):
            return rest_error(404, "CMN-120", "Invalid URI")
        session = authenticate(self.app, req, query_token=True)
        if isinstance(session, Response):
            return session
        verdict = self.app.limit(("user", session.extension_id, session.client_id), CONTENT_ROUTE.group)
        if verdict is not None and not verdict.allowed:
            return too_many(verdict)
        limits = verdict.headers() if verdict else []
        ids = match.groupdict()
        refused = check_access(self.app, ids, CONTENT_ROUTE.permission, session)
        if refused is not None:
            return refused.with_headers(limits)
        disposition = content_disposition(
            req.param("contentDisposition"), req.param("contentDispositionFilename")
        )
        if isinstance(disposition, Response):
            return disposition.with_headers(limits)
        audio = find_recording(self.app, ids["recording"])
        if audio is None:
            return recording_not_found().with_headers(limits)
        headers = [*limits, ("Accept-Ranges", "bytes")]
        if disposition is not None:
            headers.append(("Content-Disposition", disposition))
        wanted = byte_range(req.headers.get("Range"), audio.length)
        if wanted is None:
            return Response(200, b"", audio.media_type, headers, stream=audio.part(0, audio.length))
        if wanted == "unsatisfiable":
            # RFC 9110 §15.5.17: 416 with the current length. RingCentral's body for it is undocumented.
            return Response(416, b"", None, [*headers, ("Content-Range", f"bytes */{audio.length}")])
        start, stop = wanted
        headers.append(("Content-Range", f"bytes {start}-{stop - 1}/{audio.length}"))
        return Response(206, b"", audio.media_type, headers, stream=audio.part(start, stop))


def byte_range(header: str | None, length: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """The one range of a `Range` header as (start, stop), "unsatisfiable", or None for the whole body.

    RFC 9110 §14.2: a server may ignore Range, so a header it does not read (another unit, bad syntax,
    `b < a`) and a multi-range request get the whole body with 200; answering a multi-range request with
    one of its ranges would be a 206 the client did not ask for, and multipart/byteranges buys a client
    of recordings nothing. `a-b` (b clamped to the end), `a-` and `-n` (the last n bytes) are honoured;
    a first byte past the end, or `-0`, cannot be satisfied (416)."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        n = int(last)
        return (max(0, length - n), length) if n > 0 and length > 0 else "unsatisfiable"
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= length:
        return "unsatisfiable"
    return start, min(length, int(last) + 1) if last else length


def content_disposition(disposition: str | None, filename: str | None) -> str | Response | None:
    """The Content-Disposition header for the spec's `contentDisposition` and `contentDispositionFilename`
    (None when neither is given; 400 CMN-101 for a disposition outside the spec's enum).

    The filename is the caller's text: it goes out as an ASCII `filename` with every character that is
    not printable ASCII, a quote or a backslash replaced by "_", and in full as RFC 8187's `filename*`
    (UTF-8, percent-encoded), so no CR, LF or quote can end the header or start another. A filename
    without a disposition is a download (attachment): what RingCentral does then is undocumented."""
    if disposition is not None and disposition not in DISPOSITIONS:
        return invalid_parameter("contentDisposition", disposition)
    if disposition is None and not filename:
        return None
    value = (disposition or "Attachment").lower()
    if not filename:
        return value
    name = filename[:_FILENAME_MAX]
    plain = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    return f"{value}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
