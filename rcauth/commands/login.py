"""Logging in and out: `login` (browser, paste, JWT) and `logout`."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

import click

from rcauth import config, login_logout, profiles
from rcauth.browser import BrowserOutcome, open_in_background
from rcauth.cli import common_options, state
from rcauth.cli_common import countdown, report_logged_out, warn_if_refresh_ending
from rcauth.errors import ConfigError, LoginFailed
from rcauth.flow import Browser, Jwt, Paste, WayIn
from rcauth.store import refresh_lock
from rcauth.terminal_text import visible


def open_browser(url: str) -> None:
    """The system browser, opened without blocking the login (tests replace this); where none opens,
    the user is pointed at the URL `announce` has already printed."""

    def tell(outcome: BrowserOutcome) -> None:
        if outcome is BrowserOutcome.NO_BROWSER:
            click.echo("No graphical browser here: open the URL above, or use --paste over SSH.", err=True)
        elif not outcome.opened:
            click.echo("Could not open a browser: open the URL above.", err=True)

    open_in_background(url, tell)


def _a_number(value: float, param: click.Parameter) -> float:
    """NaN passes FloatRange (it compares false with either bound): refused here."""
    if value != value:
        raise click.BadParameter("nan is not a number of seconds", param=param)
    return value


# A JWT credential is a few kilobytes; more than this is not one (a wrong file, /dev/zero), and reading
# it whole would only fill memory.
JWT_MAX_CHARS = 65536


def _read_jwt(jwt_file: str | None, env_file: str | None) -> str:
    """The JWT credential: --jwt-file (a path, or - for stdin), else RC_JWT (environment, then the
    --env-file), else standard input when it is not a terminal."""
    if jwt_file == "-":
        return _bounded_jwt(sys.stdin, "standard input")
    if jwt_file:
        try:
            with open(jwt_file, encoding="utf-8") as fh:
                return _bounded_jwt(fh, f"the JWT file {jwt_file!r}")
        except OSError as exc:
            raise ConfigError(f"cannot read the JWT file {jwt_file!r}: {exc.strerror}") from None
    if os.environ.get(config.JWT_VAR.name):
        return os.environ[config.JWT_VAR.name]
    if env_file:
        if value := config.read_env_file(env_file).get(config.JWT_VAR.name):
            return value
    if not sys.stdin.isatty():
        return _bounded_jwt(sys.stdin, "standard input")
    raise ConfigError("no JWT credential: pass --jwt-file PATH (or - for stdin), or set RC_JWT")


def _bounded_jwt(stream: TextIO, source: str) -> str:
    """What `stream` holds, if it can be a JWT: text, and no longer than `JWT_MAX_CHARS`."""
    try:
        text = stream.read(JWT_MAX_CHARS + 1)
    except UnicodeDecodeError:
        raise ConfigError(f"{source} is not text: a JWT credential is base64url text") from None
    if len(text) > JWT_MAX_CHARS:
        raise ConfigError(
            f"{source} holds more than {JWT_MAX_CHARS} characters: that is not a JWT credential"
        )
    return text


@click.command()
@click.option("--client-id", metavar="ID", help="Your RingCentral app's client id.")
@click.option("--client-secret", metavar="SECRET", help="The app's client secret (none for a public app).")
@click.option(
    "--server", metavar="URL", help="RingCentral server.  [default: https://platform.ringcentral.com]"
)
@click.option(
    "--media-server",
    metavar="URL",
    help="The server's media host, where recordings are served; the token may go there too. Known "
    "for https://platform.ringcentral.com (https://media.ringcentral.com); give it for any other server.",
)
@click.option(
    "--redirect-uri",
    metavar="URI",
    help="Loopback redirect URI registered for the app.  [default: http://localhost:5000/oauth2callback]",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    envvar=config.ENV_FILE_VAR.name,
    help="Read RC_* settings from this .env file (as RingCentral's quick start writes it).",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser; print the URL and wait.")
@click.option(
    "--paste",
    is_flag=True,
    help="Over SSH or in a container: open the URL anywhere, then paste back the address "
    "the browser landed on.",
)
@click.option("--jwt", "use_jwt", is_flag=True, help="Sign in with a JWT credential (for scripts and CI).")
@click.option(
    "--jwt-file", metavar="PATH", help="Read the JWT credential from PATH (- for stdin). Implies --jwt."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1, max=86400),  # a day: more is no wait anyone means, and overflows timers
    callback=lambda ctx, param, value: _a_number(value, param),
    default=300,
    show_default=True,
    help="Seconds to wait for the browser sign-in, or for the address --paste asks for.",
)
@common_options
def login(
    client_id: str | None,
    client_secret: str | None,
    server: str | None,
    media_server: str | None,
    redirect_uri: str | None,
    env_file: str | None,
    no_browser: bool,
    paste: bool,
    use_jwt: bool,
    jwt_file: str | None,
    timeout: float,
) -> None:
    """Sign in to RingCentral and store the session in the system keyring.

    By default: starts a one-shot server on the loopback redirect URI, opens RingCentral's sign-in
    page in your browser (authorization code + PKCE) and stores the tokens when you approve.
    Logging in again replaces (and revokes) the profile's previous session.

    \b
    Examples:
      rcauth login --env-file .env
      rcauth login --no-browser            # print the URL, wait for the redirect
      rcauth login --paste                 # over SSH: paste the URL the browser landed on
      rcauth login --jwt --jwt-file cred.jwt --insecure-storage   # CI, no browser, no keyring

    \b
    Environment: RC_APP_CLIENT_ID, RC_APP_CLIENT_SECRET (or RC_CLIENT_ID, RC_CLIENT_SECRET),
    RC_SERVER_URL, RC_MEDIA_URL, RC_REDIRECT_URL, RC_JWT, RCAUTH_ENV_FILE, RCAUTH_PROFILE,
    RCAUTH_INSECURE_STORAGE, BROWSER.
    """
    use_jwt = use_jwt or bool(jwt_file)
    if sum((use_jwt, paste, no_browser)) > 1:
        raise click.UsageError("choose one of --jwt, --paste and --no-browser")
    app = state(strict_config=True)  # its settings come from the config file too
    settings = config.resolve(
        {
            "client_id": client_id,
            "client_secret": client_secret,
            "server": server,
            "media_server": media_server,
            "redirect_uri": redirect_uri,
        },
        env_file=env_file,
        profile=app.profile,
    )
    store = app.open_store()

    def announce(url: str) -> None:
        if paste:
            click.echo("Open this URL in a browser on any machine and sign in:", err=True)
            click.echo(f"  {url}", err=True)
            return
        click.echo("Sign in to RingCentral in your browser. If it does not open, visit:", err=True)
        click.echo(f"  {url}", err=True)
        click.echo(f"Waiting for the redirect to {settings.redirect_uri} ...", err=True)

    def read_redirect() -> str:
        click.echo(
            "The browser then tries to load the redirect URI (it may say it cannot connect: that is fine).",
            err=True,
        )
        with _paste_within(timeout):
            if not sys.stdin.isatty():  # piped in by a script or a test: one line
                click.echo("Paste the full address from the browser's address bar:", err=True)
                return sys.stdin.readline()
            # Hidden: the pasted address carries the authorization code.
            return click.prompt(
                "Paste the full address from the browser's address bar", hide_input=True, err=True
            )

    way: WayIn
    if use_jwt:
        way = Jwt(_read_jwt(jwt_file, env_file))
    elif paste:
        way = Paste(read_redirect)
    else:
        way = Browser(open_browser=None if no_browser else open_browser, timeout=timeout)
    warnings: list[str] = []  # said after the sign-in's own line
    # The same sign-in as `rcauth.login()`: stored under the profile's lock, replacing (and revoking)
    # the session stored before, the profile listed with whom it belongs to.
    logged_in = login_logout.login(
        settings, way, store, announce=announce, on_wait=countdown, warn=warnings.append
    )
    server = logged_in.session.server
    if logged_in.user is not None:
        click.echo(visible(f"Signed in as {logged_in.user} on {server}"))
    else:
        click.echo(visible(f"Signed in to {server} (could not read your profile: {logged_in.user_error})"))
    for line in warnings:
        click.echo(visible(f"Warning: {line}"), err=True)
    warn_if_refresh_ending(logged_in.session)


@click.command()
@click.option(
    "--forget",
    is_flag=True,
    help="Remove the session from this machine even if RingCentral cannot be reached to revoke it "
    "(it then stays valid at RingCentral until it expires).",
)
@common_options
def logout(forget: bool) -> None:
    """Revoke the session at RingCentral and remove it from this machine.

    If RingCentral cannot be reached, the session is kept (exit 5) so that a later `rcauth logout`
    can still end it; `--forget` removes it anyway. Logging out when not signed in does nothing; a
    keyring that is locked or does not answer is an error (exit 6), never taken for "not signed in".
    A session an earlier --insecure-storage sign-in left in rcauth's 0600 file is ended too.

    \b
    Examples:
      rcauth logout
      rcauth --profile dev logout

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE.
    """
    app = state()

    def waiting() -> None:
        click.echo("Waiting for another rcauth to finish refreshing the session...", err=True)

    # Under the refresh lock: a refresh in flight in another process stores its new pair first (and
    # that pair, read inside the lock, is the one revoked here), and none can store one after the
    # session is removed.
    with refresh_lock(app.profile, on_wait=waiting):
        store = app.open_store()
        result = login_logout.logout(store, forget=forget)
        if result.unchecked is None:
            profiles.forget(app.profile)
        report_logged_out(result)
    if result.unchecked is not None:
        raise result.unchecked  # the file's session is gone; the keyring's, if any, could not be reached


class _NothingPasted(Exception):
    pass


@contextlib.contextmanager
def _paste_within(seconds: float) -> Iterator[None]:
    """`--timeout` bounds the wait for the pasted address as it bounds the browser's: a script that
    pipes nothing (or a terminal left alone) ends with one line, not never. An interval timer's
    SIGALRM ends the read (the hidden prompt restores the terminal as it unwinds); POSIX, on the main
    thread only: elsewhere the wait is the reader's."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise _NothingPasted

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _NothingPasted:
        if sys.stdin.isatty():
            click.echo(err=True)  # the hidden prompt left the line open: the error gets its own
        raise LoginFailed(
            f"no address was pasted within {seconds:g} s",
            hint="run `rcauth login --paste` again, and paste the address soon: RingCentral's code in it "
            "is good for a minute",
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
