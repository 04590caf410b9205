"""`recordings list` and `recordings download`: the calls that were recorded, and their audio saved to
a directory (`rcauth.recordings`: resumable, under safe names, paced with the call log's pages)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rcauth.cli import CliError, common_options
from rcauth.cli_common import (
    NARROW_PERIOD,
    Listing,
    api_client,
    call_filter_options,
    call_log_period,
    format_option,
    print_listing,
)
from rcauth.errors import ExitCode, OutputFailed, RcauthError

if TYPE_CHECKING:
    from rcauth.call_log_query import CallLogQuery
    from rcauth.recordings import Saved


@click.group()
@common_options
def recordings() -> None:
    """List and download call recordings.

    Recordings are read from the call log (`withRecording=true`) and their audio from RingCentral's
    media host. The app needs the ReadCallRecording permission ("Read Call Recording" in the
    developer console) besides ReadCallLog.

    \b
    Examples:
      rcauth recordings list --from 7d
      rcauth recordings download --from 7d --dir ~/calls
      rcauth recordings download --from 2026-11-01 --to 2026-12-01 --json > manifest.json

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE, NO_COLOR.
    """


def _query(
    date_from: str | None, date_to: str | None, directions: tuple[str, ...], account: bool
) -> CallLogQuery:
    from rcauth.call_log_query import CallLogQuery

    start, end = call_log_period(date_from, date_to)
    return CallLogQuery(start, end, types=("Voice",), directions=directions, account=account)


@recordings.command("list")
@click.option(
    "--limit", type=click.IntRange(min=1), default=25, show_default=True, help="How many recordings to list."
)
@click.option("--all", "fetch_all", is_flag=True, help="Every recording in the period (all pages), streamed.")
@call_filter_options
@format_option
@common_options
def list_recordings(
    limit: int,
    fetch_all: bool,
    date_from: str | None,
    date_to: str | None,
    directions: tuple[str, ...],
    account: bool,
    fmt: str | None,
    as_json: bool,
) -> None:
    """List recorded calls, newest first: when, who, how long, and the recording's id and type.

    The call log with withRecording=true (the same --from/--to/--direction/--account as
    `rcauth call-log`); RingCentral keeps no recording of a call shorter than 30 s. JSON, NDJSON and
    CSV carry each record whole, its recording's contentUri included.

    \b
    Examples:
      rcauth recordings list
      rcauth recordings list --from 30d --direction inbound
      rcauth recordings list --all --from 2026-01-01 --format csv > recordings.csv

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE, NO_COLOR.
    """
    from rcauth.output import RECORDINGS_CSV_FIELDS, recordings_table
    from rcauth.recordings import recordings as recorded_calls

    query = _query(date_from, date_to, directions, account)
    print_listing(
        lambda client, limit, on_page: recorded_calls(client, query, limit=limit, on_page=on_page),
        fmt=fmt,
        as_json=as_json,
        limit=limit,
        fetch_all=fetch_all,
        period_given=bool(date_from or date_to),
        table=recordings_table,
        csv_fields=RECORDINGS_CSV_FIELDS,
        empty="recorded calls",
        counted="recordings",
        progress_label="recordings",
    )


@recordings.command("download")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Where the recordings are saved (made if missing).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="At most this many recordings, newest first.  [default: every one in the period]",
)
@call_filter_options
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Write the manifest to stdout: a JSON array, one object a recording.",
)
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the manifest (as --json's) to FILE.",
)
@common_options
def download(
    directory: Path,
    limit: int | None,
    date_from: str | None,
    date_to: str | None,
    directions: tuple[str, ...],
    account: bool,
    as_json: bool,
    manifest: Path | None,
) -> None:
    """Save the recordings of a period's calls in a directory, resumably.

    Each recording is streamed to NAME.part in DIR, checked against the lengths the server sent, and
    renamed NAME when whole: no half file ever has a final name. A run that was cut off (network,
    Ctrl-C) is continued by the next one where it stopped (HTTP Range); recordings already saved are
    skipped without a request. NAME is made from the call, never taken from the server as is:
    START_DIRECTION_FROM_to_TO_rRECORDINGID.mp3 (or .wav), START in UTC, e.g.
    20261207T101500Z_Inbound_+16505550123_to_ext101_r4012.mp3; safe on Linux, macOS and Windows.
    An existing file is never replaced.

    Downloads share RingCentral's Heavy rate limit (10 requests a minute) with the call log's pages:
    rcauth paces itself. The token goes only to the session's server and media server: a recording
    elsewhere fails, alone. At the end: one line (saved, already there, failed) on stderr, one more
    line for each failure, and exit 5 if any failed. The manifest (--json, --manifest) has for each:
    record_id, recording_id, file, bytes, content_type, sha256, status (saved, exists, failed),
    resumed_from, reason.

    \b
    Examples:
      rcauth recordings download --from 7d --dir ~/calls
      rcauth recordings download --from 2026-11-01 --direction inbound --manifest ~/calls/manifest.json
      rcauth recordings download --from 24h --limit 5 --json | jq -r '.[].file'

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE, NO_COLOR.
    """
    from rcauth.recordings import download_recordings
    from rcauth.recordings import recordings as recorded_calls

    query = _query(date_from, date_to, directions, account)
    results: list[Saved] = []
    progress = _Progress()
    stopped: RcauthError | None = None  # what ended the run early (a 429, a full disk, a busy DIR)
    manifest_failed: OutputFailed | None = None
    with api_client() as client, progress:
        client.load_session()  # not signed in: said before DIR is made
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise click.BadParameter(
                f"cannot make {str(directory)!r}: {exc.strerror or exc}", param_hint="--dir"
            ) from None
        if progress.live:
            client.on_wait = progress.wait
        listing = Listing(recorded_calls(client, query, limit=limit))  # signals: as anywhere, at once
        # The SHA-256s are for the manifest: without one, saved files are not read again.
        checksums = as_json or manifest is not None
        saved = download_recordings(
            client, listing, directory, on_chunk=progress.advance, checksums=checksums
        )
        try:
            stream = _collected(saved, results, progress)
            if as_json:
                from rcauth.output import write_records

                write_records(stream, "json")
            else:
                for _ in stream:
                    pass
        except RcauthError as exc:
            stopped = exc
        finally:
            # Nothing listed and the run stopped (the first page refused, a busy DIR): no manifest, as
            # --json writes nothing then, rather than an empty one that would pass for an empty period.
            if manifest is not None and (results or stopped is None):
                try:
                    _write_manifest(manifest, results)
                except OutputFailed as exc:  # said after what the run did, not instead of it
                    manifest_failed = exc
    if results or stopped is None:
        _report(results, directory)
    if stopped is not None:
        raise stopped
    if manifest_failed is not None:
        raise manifest_failed
    listing.raise_error(
        narrow=NARROW_PERIOD, stopped="the listing stopped after {count} recordings (those are handled above)"
    )
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise CliError(f"{len(failed)} of {len(results)} recordings not saved", int(ExitCode.API))


def _collected(saved: Iterator[Saved], results: list[Saved], progress: _Progress) -> Iterator[dict[str, Any]]:
    for item in saved:
        results.append(item)
        progress.done(item)
        yield item.to_json()


def _write_manifest(path: Path, results: list[Saved]) -> None:
    """The manifest to FILE: written whole and renamed over it (a regular file is replaced: a daily run
    keeps one manifest up to date), or written into a device, a FIFO or `/dev/stdout` as they are, and
    through a symbolic link (`files.output_target`): never a node or a link replaced by a file."""
    from rcauth.files import output_target, write_atomically, write_into
    from rcauth.output import json_text

    text = json_text([r.to_json() for r in results], indent=2) + "\n"
    try:
        target, into = output_target(path)
        if into:
            write_into(target, [text.encode("utf-8")])
        else:
            write_atomically(target, text)
    except OSError as exc:
        raise OutputFailed(f"cannot write the manifest {str(path)!r}: {exc.strerror or exc}") from None


def _report(results: list[Saved], directory: Path) -> None:
    """The one line a run ends with, and one line for each recording not saved (on stderr: stdout
    carries the manifest)."""
    from rcauth.terminal_text import visible

    saved = [r for r in results if r.status == "saved"]
    there = sum(1 for r in results if r.status == "exists")
    failed = [r for r in results if r.status == "failed"]
    for item in failed:
        what = item.file or f"recording {item.recording_id} of call {item.record_id}"
        click.echo(visible(f"failed: {what}: {item.reason}"), err=True)
    if not results:
        click.echo("No recorded calls in that period.", err=True)
        return
    size = _size(sum(r.bytes for r in saved))
    noun = "recording" if len(saved) == 1 else "recordings"
    line = f"saved {len(saved)} {noun} ({size}) to {directory}"
    if there:
        line += f"; {there} already there"
    if failed:
        line += f"; {len(failed)} failed"
    click.echo(visible(line), err=True)


def _size(count: int) -> str:
    """Bytes as people read them: 34.5 MB (decimal units, as file managers show)."""
    value = float(count)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover - the loop returns


class _Progress:
    """Recordings and bytes on stderr while a terminal shows it (nothing otherwise); rate-limit waits
    are said in it, as one live display is all rich allows."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None
        self._count = 0

    def __enter__(self) -> _Progress:
        if self.live:
            from rich.progress import (
                DownloadColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TransferSpeedColumn,
            )

            from rcauth.output import console

            self._progress = Progress(
                TextColumn("{task.description}"),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeElapsedColumn(),
                console=console(stderr=True),
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("recordings: 0 done", total=None)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc_info)

    def advance(self, size: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, size)

    def done(self, item: Saved) -> None:
        self._count += 1
        if self._progress is not None:
            self._progress.update(self._task, description=f"recordings: {self._count} done")

    def wait(self, seconds: float, reason: str) -> None:
        import time

        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._progress.update(
                self._task, description=f"recordings: {self._count} done; {reason}: {left:.0f} s"
            )
            time.sleep(min(0.2, left))
        self._progress.update(self._task, description=f"recordings: {self._count} done")
