"""What the commands share, one layer below them (a command never imports another): the API client
for the current profile, the `--format`/`--json` options, the call log's period and filter options
(`call-log` and `recordings`), how a listing ends (`Listing`), and what they say on stderr about a
session (a rate-limit wait, a refresh token about to end, a sign-out).

Not the root: `rcauth.cli` never imports this module, so `rcauth --help` does not load it.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any

import click

from rcauth.cli import AppState, state
from rcauth.config import DEFAULT_PROFILE
from rcauth.errors import ListingIncomplete, RcauthError, Terminated

if TYPE_CHECKING:
    from rcauth.client import ApiClient
    from rcauth.login_logout import LoggedOut
    from rcauth.store import SessionStore


def api_client(store: SessionStore | None = None) -> ApiClient:
    """The API client for the current profile's stored session (or `store`), with a countdown on
    long rate-limit waits: what every command that calls the REST API starts from.

    The HTTP stack is imported by the first request, on this thread, after the session is read. It
    was once imported on a thread of its own during the keyring read, to overlap the D-Bus waits:
    bench/ measured that slower (whoami 5 % with the Secret Service; two threads importing contend
    for the GIL, and each D-Bus reply waited for it), so it no longer is."""
    from rcauth.client import ApiClient

    app = state()
    client = ApiClient(store or app.open_store(), profile=app.profile, on_wait=countdown)
    # Checked when the command is done with it: a refresh during the command renews the token.
    click.get_current_context().call_on_close(lambda: warn_if_refresh_ending(client.loaded_session))
    return client


def report_logged_out(result: LoggedOut) -> None:
    """What `logout` (and the demo's sign-out) tells the user about `rcauth.login_logout.logout`."""
    from rcauth.terminal_text import visible

    if result.damaged and not result.kept:
        revoked = f"; the session it still named was revoked at {result.server}" if result.revoked else ""
        click.echo(visible(f"Removed a damaged stored session{revoked}."), err=True)
        if result.revoke_error is not None:
            click.echo(
                visible(
                    f"Warning: could not revoke the session it named at {result.server} "
                    f"({result.revoke_error}); it will expire on its own."
                ),
                err=True,
            )
        return
    if result.kept:
        from rcauth.errors import TransportError

        raise TransportError(
            f"could not revoke the session at {result.server} ({result.revoke_error}); it is still "
            "stored here",
            hint="run `rcauth logout` again once RingCentral can be reached, or `rcauth logout --forget` "
            "to remove it from this machine anyway (it then stays valid at RingCentral until it expires)",
        )
    if not result.removed:
        click.echo("Not signed in; nothing to do.", err=True)
        return
    if result.revoke_error is not None:
        click.echo(
            visible(
                f"Warning: could not revoke the session at {result.server} ({result.revoke_error}); "
                "it is removed from this machine and will expire on its own."
            ),
            err=True,
        )
    click.echo(
        "Signed out: "
        + ("tokens revoked and removed." if result.revoked else "tokens removed from this machine.")
    )


def countdown(seconds: float, reason: str) -> None:
    """Wait, showing a countdown on a terminal (stderr) and a single line otherwise."""
    import time

    if not sys.stderr.isatty():
        click.echo(f"{reason}: waiting {seconds:.0f} s", err=True)
        time.sleep(seconds)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from rcauth.output import console

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeRemainingColumn(),
        console=console(True),
        transient=True,
    ) as progress:
        task = progress.add_task(f"{reason}: waiting", total=seconds)
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(0.2, left))
            progress.update(task, completed=seconds - max(left, 0))


def warn_if_refresh_ending(session: Any) -> None:
    """Say once on stderr that the session's refresh token ends within a day: RingCentral's refresh
    tokens last 7 days from the last refresh, so a session left idle ends silently. stderr only:
    stdout carries data (`token`, `--json`)."""
    from rcauth.session import REFRESH_ENDING_NOTICE

    app = click.get_current_context().ensure_object(AppState)
    if session is None or app.expiry_warned or not session.refresh_ends_within(REFRESH_ENDING_NOTICE):
        return
    from rcauth.timeparse import expiry

    app.expiry_warned = True
    login = "rcauth login" if app.profile == DEFAULT_PROFILE else f"rcauth --profile {app.profile} login"
    click.echo(
        f"warning: the session's refresh token {expiry(session.refresh_expires_at)}; "
        f"after that `{login}` is needed (RingCentral renews it at each refresh, about hourly in use)",
        err=True,
    )


def format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--format and its --json shortcut."""
    func = click.option("--json", "as_json", is_flag=True, help="Shortcut for --format json.")(func)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json", "ndjson", "csv"]),
        help="Output format. Default: table on a terminal, JSON when piped.",
    )(func)


def call_filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The call log's period and filters, as `call-log` and `recordings` both take them: --from, --to
    (read by `call_log_period`), --direction, --account."""
    options = [
        click.option(
            "--from",
            "date_from",
            metavar="WHEN",
            help="Oldest call: ISO date/time or relative (7d, 12h, 30m); not later than --to (or now). "
            "RingCentral's default: 24 h before --to.",
        ),
        click.option(
            "--to", "date_to", metavar="WHEN", help="Newest call: ISO date/time or relative. Default: now."
        ),
        click.option(
            "--direction",
            "directions",
            type=click.Choice(["inbound", "outbound"], case_sensitive=False),
            multiple=True,
            help="Only this direction (repeatable).",
        ),
        click.option(
            "--account", is_flag=True, help="The whole account's calls, not only yours (needs admin rights)."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _parse_when(value: str | None, param: str, now: datetime) -> datetime | None:
    from rcauth.timeparse import parse_instant

    if value is None:
        return None
    try:
        return parse_instant(value, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=param) from None


def call_log_period(date_from: str | None, date_to: str | None) -> tuple[datetime | None, datetime | None]:
    """--from/--to read against one "now"; a period no call can match is a usage error, not an empty
    list (`call_log_query.check_period`, the check `rcauth.Client().call_log()` makes too)."""
    from rcauth.call_log_query import check_period

    now = datetime.now(timezone.utc)
    start, end = _parse_when(date_from, "--from", now), _parse_when(date_to, "--to", now)
    try:
        check_period(start, end, now, names=(repr(date_from), f"--to {date_to!r}"))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--from") from None
    return start, end


def with_progress(records: Any, pages: list[dict[str, Any]], label: str = "call log") -> Any:
    """Wrap a record stream with a progress bar on stderr (a terminal only): records, not pages;
    `label` names them."""
    if not sys.stderr.isatty():
        yield from records
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rcauth.output import console

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("fetch", total=None)
        count = 0
        for record in records:
            count += 1
            if pages and progress.tasks[0].total is None:
                paging = pages[-1].get("paging")
                total = paging.get("totalElements") if isinstance(paging, dict) else None
                if isinstance(total, int) and not isinstance(total, bool):
                    progress.update(task, total=total)
            if count % 100 == 0:
                progress.update(task, completed=count)
            yield record
        progress.update(task, completed=count)


NARROW_PERIOD = "use --from/--to to narrow the period"
# The signals a listing stops for: Ctrl-C, a service manager's stop, a closed terminal.
_STOP_SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _stop(signum: int) -> BaseException:
    """What a signal that stops a listing raises: KeyboardInterrupt for Ctrl-C (exit 130), `Terminated`
    for SIGTERM and SIGHUP (exit 128 + its number), as everywhere else in rcauth."""
    if signum == signal.SIGINT:
        return KeyboardInterrupt()
    return Terminated(signum, signal.Signals(signum).name)


class Listing:
    """One listing's records as a command writes them, ended the same way whatever ends it.

    A page that fails, a next-page link elsewhere, RingCentral's 1000-page cap, Ctrl-C, SIGTERM or
    SIGHUP: once a record was listed, the error ends the records as their last page would, and is kept
    (`error`) instead of raised, so what was fetched is written in full first (a closed JSON array,
    whole NDJSON lines and CSV rows, the table, the summary). `raise_error` then raises it: one line on
    stderr, and an exit code that tells a script the output is incomplete (5 for RingCentral or the
    network, 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP). An error before the first record is
    raised as it comes: nothing was listed, so nothing is written (not an empty array or a CSV header
    that would pass for an empty period).

    Inside the `with`, those signals stop the listing only where it waits for its next record (a page
    in flight, a rate-limit wait), never in the middle of writing one: a signal that arrives while a
    record is being written is held until the record is out, then stops the listing; one that arrives
    after the last record (while a table is drawn) is raised when the `with` ends. A signal the process
    ignores (`nohup`) stays ignored. A token refresh inside the listing still holds them until the new
    pair is stored (`rcauth.interrupts.deferred`, which hands a held signal back to this handler).
    """

    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        self._records = records
        self.count = 0
        self.error: BaseException | None = None
        self._waiting = False  # the next record is awaited: a signal stops the listing at once
        self._signal: int | None = None  # a signal that came while it was not
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Listing:
        if threading.current_thread() is threading.main_thread():
            for signum in _STOP_SIGNALS:
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous.clear()
        held, self._signal = self._signal, None
        if held is not None and exc is None:
            raise _stop(held)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self._waiting:
            raise _stop(signum)
        if self._signal is None:
            self._signal = signum

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            records = iter(self._records)
            while True:
                self._waiting = True  # from here a signal raises; one that came before is looked at here
                try:
                    if self._signal is not None:  # held while the last record was being written
                        held, self._signal = self._signal, None
                        raise _stop(held)
                    record = next(records)
                except StopIteration:
                    return
                finally:
                    self._waiting = False
                self.count += 1
                yield record
        except GeneratorExit:
            raise
        except BaseException as exc:
            if not self.count:  # nothing was listed: there is nothing to show, only the error
                raise
            self.error = exc  # raised by `raise_error`, once what was listed is written

    def raise_error(self, *, narrow: str, stopped: str) -> None:
        """Raise what ended the listing, if anything did. RingCentral's page cap is told `narrow`
        (how to ask for less); any other error, once records were written, is told `stopped` (what was
        written: formatted with `count`), so the line says the output is incomplete."""
        error = self.error
        if error is None:
            return
        if isinstance(error, ListingIncomplete):
            raise error.restated(hint=narrow) from error
        if isinstance(error, RcauthError) and self.count:
            note = stopped.format(count=self.count)
            raise error.restated(hint=f"{error.hint}; {note}" if error.hint else note) from error
        raise error


def print_listing(
    fetch: Callable[[ApiClient, int | None, Callable[[dict[str, Any]], None]], Iterator[dict[str, Any]]],
    *,
    fmt: str | None,
    as_json: bool,
    limit: int | None,
    fetch_all: bool,
    period_given: bool,
    table: Callable[..., Any],
    csv_fields: Any,
    empty: str,
    counted: str,
    progress_label: str,
) -> None:
    """The listing commands' one shape (`call-log`, `recordings list`): `fetch(client, limit, on_page)`'s
    records (`limit` None with --all) as a table or streamed JSON/NDJSON/CSV (piped: NDJSON with --all,
    else JSON), a progress bar with --all, what was listed kept when the listing breaks (`Listing`),
    then its error raised. `empty` names the records when there are none ("No calls ..."), `counted`
    when the listing stopped, `progress_label` in the bar."""
    from rcauth.output import choose_format, console, write_records

    fmt = choose_format(fmt, as_json, piped_default="ndjson" if fetch_all else "json")

    pages: list[dict[str, Any]] = []  # the latest page, for the progress bar's total

    def keep_latest(page: dict[str, Any]) -> None:
        pages[:] = [page]

    with api_client() as client, Listing(fetch(client, None if fetch_all else limit, keep_latest)) as listing:
        records: Any = iter(listing)
        if fetch_all:
            records = with_progress(records, pages, progress_label)
        if fmt != "table":
            write_records(records, fmt, csv_fields=csv_fields)
        elif rows := list(records):
            caption = f"incomplete: the listing stopped after {len(rows)} calls" if listing.error else None
            console().print(table(rows, caption=caption))
        else:
            span = "in that period" if period_given else "in the last 24 hours (try --from 7d)"
            click.echo(f"No {empty} {span}.", err=True)
    listing.raise_error(narrow=NARROW_PERIOD, stopped=f"the listing stopped after {{count}} {counted}")

