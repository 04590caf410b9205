"""What the commands share, one layer below them (a command never imports another): the API client
for the current profile, the `--format`/`--json` options, and what they say on stderr about a session
(a rate-limit wait, a refresh token about to end, a sign-out).

Not the root: `rcauth.cli` never imports this module, so `rcauth --help` does not load it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from rcauth.cli import AppState, state
from rcauth.config import DEFAULT_PROFILE

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
