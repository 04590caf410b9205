"""`demo`: the real commands against a private emulator, with the session in memory."""

from __future__ import annotations

import click

from rcauth.cli import state
from rcauth.commands.rest import call_log, whoami
from rcauth.commands.signin import login, logout
from rcauth.demo import HeadlessApprover, free_loopback_port
from rcauth.store import MemoryStore
from ringcentral_emulator import App, Emulator, EmulatorConfig


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
@click.pass_context
def demo(ctx: click.Context, headless: bool, records: int) -> None:
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
    err = click.get_text_stream("stderr")
    port = free_loopback_port()
    redirect_uri = f"http://127.0.0.1:{port}/oauth2callback"
    emulated_app = App(redirect_uris=(redirect_uri,))
    app = state()
    app.profile = "demo"
    app.store = MemoryStore("demo")

    def auto_approve(url: str) -> None:
        click.echo(
            "No browser opened here: approving the consent page as a browser would "
            "(GET the page, press Approve, follow the redirect).",
            err=True,
        )
        HeadlessApprover("Approve")(url)

    app.browser_fallback = auto_approve
    if headless:
        app.browser = auto_approve

    def step(command: str) -> None:
        click.echo("", err=True)
        click.secho(f"$ {command}", bold=True, err=True)

    config = EmulatorConfig(apps=(emulated_app,), call_records=records)
    with Emulator(config, host="127.0.0.1", port=0) as emu:
        click.echo(
            f"RingCentral emulator listening on {emu.base_url} "
            f"(app {emulated_app.client_id}, {records} call records).",
            file=err,
        )
        click.echo("The session lives in memory for this demo only; your keyring is not touched.", file=err)
        step(f"rcauth login --server {emu.base_url} --redirect-uri {redirect_uri}")
        ctx.invoke(
            login,
            client_id=emulated_app.client_id,
            client_secret=emulated_app.client_secret,
            server=emu.base_url,
            redirect_uri=redirect_uri,
            env_file=None,
            no_browser=False,
            timeout=300.0,
        )
        step("rcauth whoami")
        # Tables even when piped: the demo shows what a person at a terminal sees.
        ctx.invoke(whoami, fmt="table", as_json=False)
        step("rcauth call-log --limit 10")
        ctx.invoke(call_log, limit=10, fmt="table", as_json=False)
        step("rcauth logout")
        ctx.invoke(logout)
        counters = emu.counters()
    click.echo("", err=True)
    click.echo(
        f"Demo done: {sum(counters.get('grants', {}).values())} token grant(s), "
        f"{counters.get('revokes', 0)} revocation(s), {counters.get('api_calls', 0)} API call(s); "
        "emulator stopped, nothing stored.",
        err=True,
    )
