"""`rcauth emulator` and `python -m ringcentral_emulator`: run the RingCentral emulator in the foreground.

stdout carries two lines, `listening on http://HOST:PORT` (the API origin, first, so a script that reads
one line has the server URL) and `media on http://HOST:PORT` (the media origin, where recordings' content
is), so scripts and tests can read the addresses; everything else (the credentials to use, verbose request
logs) goes to stderr.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import click

from ringcentral_emulator.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    MAX_CALL_RECORDS,
    App,
    EmulatorConfig,
    is_loopback_host,
)
from ringcentral_emulator.server import Emulator


@click.command(name="emulator")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Loopback address to bind (127.0.0.1, ::1 or localhost); other addresses are refused.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to listen on; 0 picks a free one (printed on stdout).",
)
@click.option(
    "--media-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port of the media origin (recordings' content); 0 picks a free one (printed on stdout).",
)
@click.option("--client-id", default=DEFAULT_CLIENT_ID, show_default=True, help="The app's client id.")
@click.option(
    "--client-secret", default=DEFAULT_CLIENT_SECRET, show_default=True, help="The app's client secret."
)
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    default=(DEFAULT_REDIRECT_URI,),
    show_default=True,
    help="A registered redirect URI (exact match). Repeat to register several.",
)
@click.option(
    "--records",
    type=click.IntRange(0, MAX_CALL_RECORDS),
    default=1000,
    show_default=True,
    help="Records in the user's call log (the company log holds twice as many).",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Seed for the generated data and faults."
)
@click.option(
    "--strict-rotation",
    is_flag=True,
    help="Refuse a spent refresh token at once (default: RingCentral's grace period).",
)
@click.option(
    "--no-rate-limits",
    is_flag=True,
    help="Turn off rate limits (default: RingCentral's, e.g. 5 Auth requests a minute).",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of API requests that get a 503 or a dropped connection.",
)
@click.option(
    "--access-token-ttl",
    type=click.IntRange(1, None),
    default=3600,
    show_default=True,
    help="Access token lifetime in seconds (and the most a client may ask for).",
)
@click.option(
    "--no-admin",
    is_flag=True,
    help="The user lacks FullCompanyCallLog: the company call log answers 403 CMN-408.",
)
@click.option(
    "--auto-approve", is_flag=True, help="Approve authorize requests without showing the consent page."
)
@click.option("--verbose", "-v", is_flag=True, help="Log each request (method, path, status) to stderr.")
def emulator_command(
    host: str,
    port: int,
    media_port: int,
    client_id: str,
    client_secret: str,
    redirect_uris: tuple[str, ...],
    records: int,
    seed: int,
    strict_rotation: bool,
    no_rate_limits: bool,
    fault_rate: float,
    access_token_ttl: int,
    no_admin: bool,
    auto_approve: bool,
    verbose: bool,
) -> None:
    """Run a RingCentral emulator on loopback until Ctrl-C.

    It speaks RingCentral's OAuth (authorize page, token, revoke) and the account, extension and call-log
    APIs, with fake tokens and seeded data, and serves call recordings on a second origin (RingCentral's
    media server). Point a client's server URL at the first printed address, its media server at the
    second.

    Example (`python -m ringcentral_emulator` takes the same options):

        rcauth emulator --port 8080 --no-rate-limits --records 5000
    """
    if not is_loopback_host(host):
        raise click.BadParameter(
            f"{host!r} is not a loopback address; the emulator only listens on 127.0.0.1, ::1 or localhost",
            param_hint="--host",
        )
    app = App(client_id=client_id, client_secret=client_secret, redirect_uris=tuple(redirect_uris))
    try:
        config = EmulatorConfig(
            apps=(app,),
            call_records=records,
            seed=seed,
            strict_rotation=strict_rotation,
            rate_limits_enabled=not no_rate_limits,
            fault_rate=fault_rate,
            access_token_ttl=access_token_ttl,
            admin=not no_admin,
            auto_approve=auto_approve,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc

    try:
        emulator = Emulator(config, host=host, port=port, media_port=media_port, verbose=verbose).start()
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} and {host}:{media_port}: {exc.strerror or exc}"
        ) from exc

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Ctrl-C and SIGTERM end the wait below, so shutdown is orderly and exits 0 without a traceback.
    # Handlers can only be installed from the main thread (not, say, from CliRunner in a worker thread).
    previous: dict[int, Any] = {}
    try:
        if threading.current_thread() is threading.main_thread():
            previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        click.echo(f"RingCentral emulator at {emulator.base_url} (fake tokens and data)", err=True)
        click.echo(f"  media server:  {emulator.media_url} (recordings' content)", err=True)
        click.echo(f"  client id:     {app.client_id}", err=True)
        click.echo(f"  client secret: {app.client_secret}", err=True)
        for uri in app.redirect_uris:
            click.echo(f"  redirect URI:  {uri}", err=True)
        click.echo(f"  JWT:           {app.jwt_credentials[0]}", err=True)
        click.echo("Press Ctrl-C to stop.", err=True)
        click.echo(f"listening on {emulator.base_url}")  # click.echo flushes
        click.echo(f"media on {emulator.media_url}")
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
