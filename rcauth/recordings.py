"""Call recordings: which calls have one (the call log asked `withRecording=true`), and saving their
content to a directory, resumably, under names made safe (`rcauth.filenames`).

Shared by `rcauth recordings` and `rcauth.Client().recordings()`/`download_recordings()`, so both send
the same requests. What RingCentral documents (docs/ringcentral.md, "Media"): a recorded call's record
carries `recording{id, uri, type, contentUri}`; the content is on the media host, in the Heavy
rate-limit group (10 requests a minute by default, with the call log's pages), and needs the app's
ReadCallRecording permission; byte ranges are served (206).

Each recording is one file in the directory: streamed into `NAME.EXT.part`, continued with a byte range
when an earlier run was cut off, checked against the answer's lengths, then given its final name, which
never replaces a file (`files.place`). A final name that exists is a recording saved before (only a
complete, checked file ever gets one): it is skipped without a request, which would spend the Heavy
allowance for nothing.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rcauth.errors import ApiError, DownloadBusy, ForeignOrigin, OutputFailed, RcauthError, SessionExpired
from rcauth.filenames import ALL_EXTENSIONS, extension_for, recording_stem

if TYPE_CHECKING:
    from rcauth.call_log_query import CallLogQuery
    from rcauth.client import ApiClient

PERMISSION = "ReadCallRecording"
# Write errors that are the folder's, not one recording's: the run stops at the first.
_DIRECTORY_WIDE = frozenset(
    {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR}
)

PERMISSION_HINT = (
    'add "Read Call Recording" to the app in RingCentral\'s developer console, then sign in again '
    "(`rcauth login`)"
)
PART_SUFFIX = ".part"


def recordings(
    client: ApiClient,
    query: CallLogQuery,
    *,
    limit: int | None = None,
    on_page: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """The call-log records of `query` that have a recording, newest first (`withRecording=true`,
    RingCentral's filter; a record without a `recording` object is left out all the same)."""
    params = {**query.params(), "withRecording": "true"}
    records = client.paginate(query.path, params, limit=limit, on_page=on_page)
    return (r for r in records if isinstance(r, dict) and isinstance(r.get("recording"), dict))


@dataclass(frozen=True)
class Saved:
    """What became of one recording. `status`: "saved" (this run fetched it, or finished fetching it:
    `resumed_from` bytes came from an earlier run), "exists" (saved before: skipped, no request), or
    "failed" (`reason` says why in one line; nothing under a final name)."""

    record_id: str | None
    recording_id: str | None
    file: str | None  # the name in the directory (a `.part` for a failure that left one), or None
    bytes: int
    content_type: str | None
    sha256: str | None
    status: str
    resumed_from: int = 0
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


RecordingSaved = Saved  # its name in `rcauth`, where `Saved` alone would say little


def download_recordings(
    client: ApiClient,
    records: Iterable[dict[str, Any]],
    directory: Path,
    *,
    on_chunk: Callable[[int], object] | None = None,
    checksums: bool = True,
) -> Iterator[Saved]:
    """Save each record's recording in `directory` (which must exist), yielding what became of it as it
    is done. One recording failing (its content elsewhere than the session's origins, an error answer,
    a body cut off, a file in the way) is a "failed" `Saved` and the rest go on; what stops them all is
    raised: the app lacking ReadCallRecording (an `ApiError` telling what to do), the session ending,
    a 429, Ctrl-C. `on_chunk` is told each piece of body written.

    `checksums=False` leaves `Saved.sha256` None: a SHA-256 is a read of the whole file, and for an
    archive saved before that is the whole archive read again on every run, for a manifest nobody
    asked for."""
    folder = directory.resolve(strict=True)
    if not folder.is_dir():
        raise NotADirectoryError(f"{directory} is not a directory")
    with _only_download_into(folder, directory):
        yield from _save_each(client, records, folder, directory, on_chunk, checksums)


@contextlib.contextmanager
def _only_download_into(folder: Path, directory: Path) -> Iterator[None]:
    """One download at a time into a folder: two would resume the same `.part` at once, one appending
    after the other has already given it its final name (a recording saved with its tail twice).

    The lock is on the folder itself (`flock` on the directory, POSIX): it holds whatever path, bind
    mount or state directory each run reached the folder by, leaves no file among the recordings, and
    goes with the process if rcauth is killed. Where there is no `flock` (Windows), a lock file in
    rcauth's state directory named by the folder's path stands in."""
    try:
        import fcntl
    except ImportError:
        with _lock_by_path(folder, directory):
            yield
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(directory) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _busy(directory: Path) -> DownloadBusy:
    return DownloadBusy(
        f"another rcauth is downloading recordings into {directory}",
        hint="wait for it to finish, or give another --dir",
    )


@contextlib.contextmanager
def _lock_by_path(folder: Path, directory: Path) -> Iterator[None]:
    import hashlib

    from filelock import FileLock, Timeout

    from rcauth.config import state_dir
    from rcauth.store import state_lock_problem

    locks = state_dir() / "downloads"
    name = hashlib.sha256(os.fsencode(folder)).hexdigest()[:32]
    try:
        locks.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = FileLock(str(locks / f"{name}.lock"), timeout=0)
        lock.acquire()
    except Timeout:
        raise _busy(directory) from None
    except OSError as exc:
        raise state_lock_problem(locks / f"{name}.lock", exc) from None
    try:
        yield
    finally:
        lock.release()


def _save_each(
    client: ApiClient,
    records: Iterable[dict[str, Any]],
    folder: Path,
    directory: Path,
    on_chunk: Callable[[int], object] | None,
    checksums: bool,
) -> Iterator[Saved]:
    from rcauth.files import check_writable_directory, sha256_of

    def digest(path: Path) -> str | None:
        return sha256_of(path) if checksums else None

    try:  # before the listing's first page: a folder nothing can be written in spends no request
        check_writable_directory(folder / PART_SUFFIX)
    except OSError as exc:
        raise OutputFailed(f"cannot write in {directory}: {exc.strerror or exc}") from None

    used: set[str] = set()
    for record in records:
        recording: dict[str, Any] = record["recording"] if isinstance(record.get("recording"), dict) else {}
        ids = (_text(record.get("id")), _text(recording.get("id")))
        stem = _unique(recording_stem(record), used)
        existing = _existing(folder, stem)
        if existing is not None:
            if existing.is_symlink() or not existing.is_file():
                yield _failed(ids, existing.name, f"{existing.name} is in the way (not a regular file)")
                continue
            kind = _type_of(existing.name)
            yield Saved(*ids, existing.name, existing.stat().st_size, kind, digest(existing), "exists")
            continue
        uri = recording.get("contentUri")
        if not isinstance(uri, str) or not uri:
            yield _failed(ids, None, "the record names no content URL for its recording")
            continue
        try:
            url = client.url_for(uri)
        except ForeignOrigin:
            host = urlsplit(uri).netloc or uri[:80]
            reason = f"not downloaded: its content URL is on {host!r}, where the token does not go"
            yield _failed(ids, None, reason)
            continue
        part = _existing(folder, stem, suffix=PART_SUFFIX)
        if part is not None and (part.is_symlink() or not part.is_file()):
            yield _failed(ids, part.name, f"{part.name} is in the way (not a regular file)")
            continue
        try:
            fetched = client.fetch_part(
                url,
                part,
                _part_namer(folder, stem),
                on_chunk=on_chunk,
            )
        except SessionExpired:
            raise
        except ApiError as exc:
            if exc.status == 403 and _lacks_permission(exc):
                raise exc.restated(hint=PERMISSION_HINT) from exc
            if exc.status == 429:
                # Every request made during RingCentral's penalty starts it again, so the rest are not
                # asked for; the run stops with what it saved, and a later run resumes.
                raise exc.restated(hint=_rate_limit_hint(exc)) from exc
            if exc.status == 401:
                raise
            left = _existing(folder, stem, suffix=PART_SUFFIX)
            yield _failed(ids, left.name if left else None, _one_line(exc))
            continue
        except OSError as exc:
            folder_gone = exc.errno in (errno.ENOENT, errno.ENOTDIR) and not folder.is_dir()
            wide = exc.errno in _DIRECTORY_WIDE - {errno.ENOENT, errno.ENOTDIR} or folder_gone
            if wide:  # the next recordings would only fail the same way (not a .part removed meanwhile)
                raise OutputFailed(f"cannot write in {directory}: {exc.strerror or exc}") from None
            left = _existing(folder, stem, suffix=PART_SUFFIX)
            if exc.errno == errno.ENOENT:  # the folder is there (`wide` above): its part is not
                reason = "its partial file was removed while it was written: the next run fetches it"
            else:
                reason = f"cannot write in {directory}: {exc.strerror or exc}"
            yield _failed(ids, left.name if left else None, reason)
            continue
        media_type = (fetched.content_type or "").split(";")[0].strip().lower()
        if media_type.startswith("text/") or media_type.endswith(("json", "xml")):
            # A page, not audio (a contentUri pointing at the API, a proxy's page): never kept as a recording.
            os.unlink(fetched.part)
            yield _failed(ids, None, f"the answer is {media_type[:60]}, not a recording: not kept")
            continue
        if fetched.size == 0:  # kept, it would be skipped as saved by every later run
            os.unlink(fetched.part)
            yield _failed(ids, None, "the server sent an empty recording: not kept")
            continue
        name = fetched.part.name[: -len(PART_SUFFIX)]
        kind = fetched.content_type or _type_of(name)
        final = _inside(folder, name)
        from rcauth.files import place

        try:
            place(fetched.part, final)
        except FileExistsError:
            # Made while this one was fetched: kept, as is the download, unless the two are the same.
            there = sha256_of(final) if final.is_file() and not final.is_symlink() else None
            if there is not None and there == sha256_of(fetched.part):
                os.unlink(fetched.part)
                yield Saved(*ids, name, fetched.size, kind, there, "exists")
            else:
                yield _failed(ids, fetched.part.name, f"{name} exists with other content: kept as it is")
            continue
        yield Saved(*ids, name, fetched.size, kind, digest(final), "saved", fetched.resumed_from)


def _part_namer(folder: Path, stem: str) -> Callable[[str], Path]:
    """Where a fresh body goes: the final name for the answer's type, and `.part`."""
    return lambda content_type: _inside(folder, f"{stem}.{extension_for(content_type)}{PART_SUFFIX}")


def _rate_limit_hint(exc: ApiError) -> str:
    """What a 429 that stopped the run means: the Heavy allowance is the app's for this user, shared by
    every program signed in with it (a second `rcauth recordings download`, a script), which rcauth's
    pacing cannot see coming; and what to do."""
    waited = f"; {exc.hint}" if exc.hint else ""
    return (
        "RingCentral's limit on recording downloads (10 a minute) is spent, and it is shared by every "
        f"program using this app as this user{waited}. Run the same command again later: saved "
        "recordings are skipped and partial ones resumed"
    )


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def _failed(ids: tuple[str | None, str | None], file: str | None, reason: str) -> Saved:
    return Saved(*ids, file, 0, None, None, "failed", reason=reason)


def _one_line(exc: RcauthError) -> str:
    text = f"{exc}; {exc.hint}" if exc.hint else str(exc)
    return " ".join(text.split())


def _lacks_permission(exc: ApiError) -> bool:
    """RingCentral's 403 for an app without the permission: `InsufficientPermissions` or CMN-401 with
    `permissionName: ReadCallRecording` in its `errors`."""
    named = {d.get("permissionName") for d in exc.details if isinstance(d, dict)} - {None}
    if named:  # another permission missing (ReadCompanyCallRecordings...) is that recording's failure
        return PERMISSION in named
    return exc.error_code in ("InsufficientPermissions", "CMN-401")


def _unique(stem: str, used: set[str]) -> str:
    """The recording id makes a stem unique; two records that name the same recording (RingCentral lists a
    call once per party on the account's log) still get two names, so neither is taken for the other."""
    candidate, n = stem, 1
    while candidate.casefold() in used:  # case-insensitive file systems (macOS, Windows)
        n += 1
        candidate = f"{stem}-{n}"
    used.add(candidate.casefold())
    return candidate


def _existing(folder: Path, stem: str, *, suffix: str = "") -> Path | None:
    """The file `stem.EXT` + `suffix` (any extension a recording can have) in `folder`, if there is one."""
    for extension in ALL_EXTENSIONS:
        path = folder / f"{stem}.{extension}{suffix}"
        if os.path.lexists(path):
            return path
    return None


def _type_of(name: str) -> str | None:
    return {"mp3": "audio/mpeg", "wav": "audio/wav"}.get(name.rsplit(".", 1)[-1])


def _inside(folder: Path, name: str) -> Path:
    """`folder / name`, checked to be a file directly in `folder` (the names are built safe: a guard)."""
    path = folder / name
    if name in ("", ".", "..") or os.path.basename(name) != name or path.parent != folder:
        raise ValueError(f"{name!r} is not a file name")
    return path
