"""`demo`: the library's sign-in, API calls and renderers against a private emulator; session in memory."""

from __future__ import annotations

import click

from rcauth import login_logout, resources
from rcauth.browser import BrowserOutcome, open_in_background
from rcauth.call_log_query import call_log
from rcauth.cli_common import countdown, report_logged_out
from rcauth.client import ApiClient
from rcauth.config import Settings
from rcauth.demo import HeadlessApprover, free_loopback_port
from rcauth.flow import LoginFlow
from rcauth.output import call_log_table, console, extension_table
from rcauth.resources import describe_user
from rcauth.store import MemoryStore
from rcauth.terminal_text import visible
from ringcentral_emulator import App, Emulator, EmulatorConfig

PROFILE = "demo"


# -- demo, emulator ------------------------------------------------------------------------------
@click.command()
@click.option("--headless", is_flag=True, help="Open no browser: approve the consent page automatically.")
@click.option(
    "--records",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="How many call records the emulator holds.",
)
def demo(headless: bool, records: int) -> None:
    """Try rcauth end to end with no account and no network.

    Starts a private RingCentral emulator on a free loopback port, then runs the real
    `login` (in your browser if one opens; otherwise it approves the consent page itself, as a
    browser would), `whoami`, `call-log --limit 10` and `logout` against it, and stops it.
    The demo's session is kept in memory: your real sessions and keyring are never touched.

    \b
    Example:
      rcauth demo
      rcauth demo --headless
    """
    port = free_loopback_port()
    redirect_uri = f"http://127.0.0.1:{port}/oauth2callback"
    emulated_app = App(redirect_uris=(redirect_uri,))
    store = MemoryStore(PROFILE)

    config = EmulatorConfig(apps=(emulated_app,), call_records=records)
    with Emulator(config, host="127.0.0.1", port=0) as emu:
        click.echo(
            f"RingCentral emulator listening on {emu.base_url} "
            f"(app {emulated_app.client_id}, {records} call records).",
            err=True,
        )
        click.echo("The session lives in memory for this demo only; your keyring is not touched.", err=True)
        settings = Settings(
            client_id=emulated_app.client_id,
            client_secret=emulated_app.client_secret,
            server=emu.base_url,
            redirect_uri=redirect_uri,
        )
        _step(f"rcauth login --server {emu.base_url} --redirect-uri {redirect_uri}")

        def announce(url: str) -> None:
            click.echo("Sign in to RingCentral in your browser. If it does not open, visit:", err=True)
            click.echo(f"  {url}", err=True)
            click.echo(f"Waiting for the redirect to {redirect_uri} ...", err=True)

        session = LoginFlow(settings, save=store.save).run_local_server(
            announce=announce, open_browser=_auto_approve if headless else _open_browser
        )
        with ApiClient(store, profile=PROFILE, on_wait=countdown) as client:
            ext = resources.extension_info(client)
            click.echo(visible(f"Signed in as {describe_user(ext)} on {session.server}"))
            # Tables even when piped: the demo shows what a person at a terminal sees.
            _step("rcauth whoami")
            console().print(extension_table(resources.extension_info(client), client.load_session().server))
            _step("rcauth call-log --limit 10")
            rows = list(call_log(client, limit=10))
        if rows:
            console().print(call_log_table(rows))
        else:
            click.echo("No calls in the last 24 hours (try --from 7d).", err=True)
        _step("rcauth logout")
        report_logged_out(login_logout.logout(store))
        counters = emu.counters()
    click.echo("", err=True)
    click.echo(
        f"Demo done: {sum(counters.get('grants', {}).values())} token grant(s), "
        f"{counters.get('revokes', 0)} revocation(s), {counters.get('api_calls', 0)} API call(s); "
        "emulator stopped, nothing stored.",
        err=True,
    )


def _step(command: str) -> None:
    click.echo("", err=True)
    click.secho(f"$ {command}", bold=True, err=True)


def _auto_approve(url: str) -> None:
    click.echo(
        "No browser opened here: approving the consent page as a browser would "
        "(GET the page, press Approve, follow the redirect).",
        err=True,
    )
    HeadlessApprover("Approve")(url)


def _open_browser(url: str) -> None:
    def on_outcome(outcome: BrowserOutcome) -> None:
        if not outcome.opened:
            _auto_approve(url)

    open_in_background(url, on_outcome)
