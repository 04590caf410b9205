"""The command line: each command parses options, calls the library and renders. Nothing else.

Heavy libraries (requests, oauthlib, keyring, rich) are imported inside the commands that use them,
so `rcauth --help` and `rcauth --version` start as fast as click allows.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from rcauth import __version__
from rcauth.config import DEFAULT_PROFILE
from rcauth.errors import ExitCode, RcauthError

if TYPE_CHECKING:
    from rcauth.client import ApiClient
    from rcauth.store import SessionStore

EXTENSION_PATH = "/restapi/v1.0/account/~/extension/~"
CALL_LOG_PATH = "/restapi/v1.0/account/~/extension/~/call-log"
ACCOUNT_CALL_LOG_PATH = "/restapi/v1.0/account/~/call-log"


@dataclass
class AppState:
    """Options shared by every command, and the store override the demo uses."""

    debug: bool = False
    profile: str = DEFAULT_PROFILE
    insecure_storage: bool = False
    store: SessionStore | None = None
    # The demo's stand-ins for the user's browser: `browser` replaces it outright (--headless);
    # `browser_fallback` takes over when no graphical browser opens.
    browser: Callable[[str], None] | None = None
    browser_fallback: Callable[[str], None] | None = None

    def open_store(self) -> SessionStore:
        if self.store is not None:
            return self.store
        from rcauth.store import open_store

        return open_store(self.profile, insecure_storage=self.insecure_storage)

    def client(self, store: SessionStore | None = None) -> ApiClient:
        from rcauth.client import ApiClient

        return ApiClient(store or self.open_store(), profile=self.profile, on_wait=_countdown)


def state() -> AppState:
    return click.get_current_context().ensure_object(AppState)


class CliError(click.ClickException):
    """An `RcauthError` on its way out: one line on stderr, the error's exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.message}", err=True)


def _one_line(exc: RcauthError) -> str:
    from rcauth.redact import redact

    text = str(exc)
    if exc.hint:
        text = f"{text}; {exc.hint}"
    return redact(" ".join(text.split()))


class RcauthGroup(click.Group):
    """Maps every failure to one line and an exit code, in one place; no traceback unless --debug.

    Commands in `lazy` are imported only when run; `--help` lists them by the short help kept here,
    so start-up does not pay for them (the emulator alone costs more than click).
    """

    lazy: dict[str, tuple[str, str]] = {
        "emulator": (
            "rcauth.emulator.cli:emulator_command",
            "Run a RingCentral emulator on loopback until Ctrl-C.",
        ),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            import importlib

            module, _, attr = self.lazy[cmd_name][0].partition(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's command list, with each lazy command's short help taken from `lazy`, not its module."""
        entries: list[tuple[str, click.Command | str]] = []
        for name in self.list_commands(ctx):
            command = self.lazy[name][1] if name in self.lazy else self.get_command(ctx, name)
            if command is not None and not getattr(command, "hidden", False):
                entries.append((name, command))
        if not entries:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in entries)
        rows = [(n, c if isinstance(c, str) else c.get_short_help_str(limit)) for n, c in entries]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RcauthError as exc:
            _debug_traceback("failed")
            raise CliError(_one_line(exc), int(exc.exit_code)) from None
        except KeyboardInterrupt:
            raise CliError("interrupted", int(ExitCode.INTERRUPTED)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # a bug: say so in one line; --debug shows the (redacted) traceback
            from rcauth.redact import redact

            _debug_traceback("unexpected error")
            message = redact(" ".join(str(exc).split()))[:300]
            raise CliError(
                f"unexpected error: {type(exc).__name__}: {message} (run with --debug for details)",
                int(ExitCode.GENERIC),
            ) from None


def _debug_traceback(message: str) -> None:
    """Log the exception being handled (shown with --debug only, redacted)."""
    import logging

    logging.getLogger("rcauth").debug(message, exc_info=True)


def _configure_logging(debug: bool) -> None:
    # logging is imported here, not at the top: `--help` and `--version` never configure it.
    import logging

    from rcauth.redact import RedactingFilter

    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_rcauth", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._rcauth = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        logging.Formatter("debug: %(name)s: %(message)s" if debug else "warning: %(message)s")
    )
    handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    # urllib3 logs request lines; its and requests-oauthlib's records pass the redacting filter.
    # Without --debug its "Retrying (...)" warnings stay quiet: a transient fault that a retry
    # absorbed is not the user's business, and one that was not absorbed ends in rcauth's own error.
    logging.getLogger("urllib3").setLevel(logging.DEBUG if debug else logging.ERROR)


def _debug_callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    app = ctx.ensure_object(AppState)
    if value:
        app.debug = True
    _configure_logging(app.debug)


def _profile_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(AppState).profile = value


def _insecure_callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(AppState).insecure_storage = True


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--debug, --profile and --insecure-storage, accepted before or after the command name."""
    options = [
        click.option(
            "--debug",
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_debug_callback,
            help="Log HTTP traffic and tracebacks to stderr (tokens and secrets are masked).",
        ),
        click.option(
            "--profile",
            metavar="NAME",
            envvar="RCAUTH_PROFILE",
            expose_value=False,
            callback=_profile_callback,
            help="Keep an independent session under this name (default: 'default').",
        ),
        click.option(
            "--insecure-storage",
            is_flag=True,
            expose_value=False,
            callback=_insecure_callback,
            help="If no system keyring works, keep the session in a 0600 file. "
            "Env: RCAUTH_INSECURE_STORAGE=1.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _countdown(seconds: float, reason: str) -> None:
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


@click.group(cls=RcauthGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="rcauth", message="%(prog)s %(version)s")
@common_options
def cli() -> None:
    """Sign in to RingCentral from a terminal and call its API.

    \b
    rcauth login                 sign in with your browser (OAuth 2.0 + PKCE)
    rcauth whoami                show who you are signed in as
    rcauth call-log --limit 10   list your recent calls
    rcauth logout                revoke the tokens and forget them
    rcauth demo                  try it all against a built-in RingCentral emulator

    Settings come from flags, else the environment (RC_APP_CLIENT_ID, RC_APP_CLIENT_SECRET,
    RC_SERVER_URL, RC_REDIRECT_URL), else --env-file, else the config file.
    """
    click.get_current_context().ensure_object(AppState)


# -- login -------------------------------------------------------------------------------------
def graphical_browser_likely() -> bool:
    """False on a Linux box with no display and no `$BROWSER`, where Python's webbrowser would fall
    back to a console browser (lynx, w3m) that takes over the terminal."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("BROWSER") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def is_wsl() -> bool:
    """Windows Subsystem for Linux: the browser lives on the Windows side."""
    if os.environ.get("WSL_DISTRO_NAME") or os.environ.get("WSL_INTEROP"):
        return True
    try:
        return "microsoft" in os.uname().release.lower()
    except AttributeError:  # pragma: no cover - not POSIX
        return False


def open_windows_browser(url: str) -> bool:
    """On WSL, hand the URL to Windows: `wslview` (wslu) if present, else PowerShell's Start-Process."""
    import shutil
    import subprocess

    candidates: list[list[str]] = []
    if shutil.which("wslview"):
        candidates.append(["wslview", url])
    if shutil.which("powershell.exe"):
        # The URL is passed as an argument, never spliced into the command text.
        candidates.append(
            ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command", "Start-Process $args[0]", url]
        )
    for command in candidates:
        try:
            completed = subprocess.run(command, timeout=20, capture_output=True, check=False)  # noqa: S603
        except (OSError, subprocess.SubprocessError):
            continue
        if completed.returncode == 0:
            return True
    return False


def _open_in_background(url: str) -> None:
    """Open the system browser on a daemon thread: with `$BROWSER` set to a program that blocks
    until it is done (Python's webbrowser waits for it), the login must keep serving meanwhile."""
    import webbrowser

    fallback = state().browser_fallback
    wsl = is_wsl()
    if not graphical_browser_likely() and not wsl:
        if fallback is not None:
            fallback(url)
        else:
            click.echo("No graphical browser here: open the URL above, or use --paste over SSH.", err=True)
        return

    def run() -> None:
        opened = False
        if graphical_browser_likely():
            try:
                opened = webbrowser.open(url, new=1, autoraise=True)
            except Exception:  # noqa: BLE001 - any browser failure leaves the printed URL to the user
                opened = False
        if not opened and wsl:
            opened = open_windows_browser(url)
        if opened:
            return
        if fallback is not None:
            fallback(url)
        else:
            click.echo("Could not open a browser: open the URL above.", err=True)

    threading.Thread(target=run, name="rcauth-browser", daemon=True).start()


def _read_jwt(jwt_file: str | None, env_file: str | None) -> str:
    """The JWT credential: --jwt-file (a path, or - for stdin), else RC_JWT (environment, then the
    --env-file), else standard input when it is not a terminal."""
    from rcauth.errors import ConfigError

    if jwt_file == "-":
        return sys.stdin.read()
    if jwt_file:
        try:
            with open(jwt_file, encoding="utf-8") as fh:
                return fh.read()
        except OSError as exc:
            raise ConfigError(f"cannot read the JWT file {jwt_file!r}: {exc.strerror}") from None
    if os.environ.get("RC_JWT"):
        return os.environ["RC_JWT"]
    if env_file:
        from rcauth.config import read_env_file

        if value := read_env_file(env_file).get("RC_JWT"):
            return value
    if not sys.stdin.isatty():
        return sys.stdin.read()
    raise ConfigError("no JWT credential: pass --jwt-file PATH (or - for stdin), or set RC_JWT")


@cli.command()
@click.option("--client-id", metavar="ID", help="Your RingCentral app's client id.")
@click.option("--client-secret", metavar="SECRET", help="The app's client secret (none for a public app).")
@click.option(
    "--server", metavar="URL", help="RingCentral server.  [default: https://platform.ringcentral.com]"
)
@click.option(
    "--redirect-uri",
    metavar="URI",
    help="Loopback redirect URI registered for the app.  [default: http://localhost:5000/oauth2callback]",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    envvar="RCAUTH_ENV_FILE",
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
    type=click.FloatRange(min=1),
    default=300,
    show_default=True,
    help="Seconds to wait for the browser sign-in.",
)
@common_options
def login(
    client_id: str | None,
    client_secret: str | None,
    server: str | None,
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
    RC_SERVER_URL, RC_REDIRECT_URL, RC_JWT, RCAUTH_ENV_FILE, RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE,
    BROWSER.
    """
    from rcauth import config, flow
    from rcauth.errors import StoredSessionDamaged

    use_jwt = use_jwt or bool(jwt_file)
    if sum((use_jwt, paste, no_browser)) > 1:
        raise click.UsageError("choose one of --jwt, --paste and --no-browser")
    app = state()
    settings = config.resolve(
        {
            "client_id": client_id,
            "client_secret": client_secret,
            "server": server,
            "redirect_uri": redirect_uri,
        },
        env_file=env_file,
        profile=app.profile,
    )
    store = app.open_store()
    try:
        previous = store.load()
    except StoredSessionDamaged:
        previous = None  # overwritten below

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
        if not sys.stdin.isatty():  # piped in by a script or a test: one line
            click.echo("Paste the full address from the browser's address bar:", err=True)
            return sys.stdin.readline()
        # Hidden: the pasted address carries the authorization code.
        return click.prompt(
            "Paste the full address from the browser's address bar", hide_input=True, err=True
        )

    if use_jwt:
        session = flow.login_with_jwt(settings, _read_jwt(jwt_file, env_file), save=store.save)
    elif paste:
        session = flow.login_by_paste(
            settings, save=store.save, announce=announce, read_redirect=read_redirect
        )
    else:
        session = flow.login(
            settings,
            save=store.save,
            announce=announce,
            open_browser=None if no_browser else (app.browser or _open_in_background),
            timeout=timeout,
        )
    if previous is not None and previous.refresh_token != session.refresh_token:
        _revoke_quietly(previous)
    _announce_signed_in(app, store, session)


def _announce_signed_in(app: AppState, store: SessionStore, session: Any) -> None:
    from rcauth import profiles
    from rcauth.output import describe_user

    with app.client(store) as client:
        try:
            ext = client.get_json(EXTENSION_PATH)
        except RcauthError as exc:
            click.echo(f"Signed in to {session.server} (could not read your profile: {exc})")
            return
    user = describe_user(ext)
    if app.store is None:
        profiles.remember(app.profile, user)
    click.echo(f"Signed in as {user} on {session.server}")


def _revoke_quietly(session: Any) -> bool:
    """Best effort: RingCentral limits parallel sessions, so a replaced session is ended, not orphaned."""
    from rcauth.oauth import RingCentralOAuth

    try:
        RingCentralOAuth(session.server, session.client_id, session.client_secret).revoke(
            session.refresh_token or session.access_token
        )
    except RcauthError:
        return False
    return True


# -- whoami, call-log, api -----------------------------------------------------------------------
def format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--format and its --json shortcut."""
    func = click.option("--json", "as_json", is_flag=True, help="Shortcut for --format json.")(func)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json", "ndjson", "csv"]),
        help="Output format. Default: table on a terminal, JSON when piped.",
    )(func)


@cli.command()
@format_option
@common_options
def whoami(fmt: str | None, as_json: bool) -> None:
    """Show who the stored session belongs to.

    Calls GET /restapi/v1.0/account/~/extension/~ (refreshing the session if due).

    \b
    Examples:
      rcauth whoami
      rcauth whoami --json | jq -r .contact.email
      rcauth --profile dev whoami --format csv

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE, NO_COLOR.
    """
    from rcauth.output import choose_format, console, extension_table, write_object

    with state().client() as client:
        ext = client.get_json(EXTENSION_PATH)
        server = client.session.server
    fmt = choose_format(fmt, as_json, piped_default="json")
    if fmt == "table":
        console().print(extension_table(ext, server))
    else:
        write_object(ext, fmt)


def _parse_when(value: str | None, param: str) -> str | None:
    from rcauth.timeparse import parse_when

    if value is None:
        return None
    try:
        return parse_when(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=param) from None


def _with_progress(records: Any, pages: list[dict[str, Any]]) -> Any:
    """Wrap a record stream with a progress bar on stderr (a terminal only): records, not pages."""
    if not sys.stderr.isatty():
        yield from records
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rcauth.output import console

    with Progress(
        TextColumn("call log"),
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
                total = (pages[-1].get("paging") or {}).get("totalElements")
                if isinstance(total, int):
                    progress.update(task, total=total)
            if count % 100 == 0:
                progress.update(task, completed=count)
            yield record
        progress.update(task, completed=count)


@cli.command("call-log")
@click.option(
    "--limit", type=click.IntRange(min=1), default=25, show_default=True, help="How many calls to list."
)
@click.option("--all", "fetch_all", is_flag=True, help="Every call in the period (all pages), streamed.")
@click.option(
    "--from",
    "date_from",
    metavar="WHEN",
    help="Oldest call: ISO date/time or relative (7d, 12h, 30m). RingCentral's default: 24 h ago.",
)
@click.option("--to", "date_to", metavar="WHEN", help="Newest call: ISO date/time or relative. Default: now.")
@click.option(
    "--type",
    "types",
    type=click.Choice(["voice", "fax"], case_sensitive=False),
    multiple=True,
    help="Only this type (repeatable).",
)
@click.option(
    "--direction",
    "directions",
    type=click.Choice(["inbound", "outbound"], case_sensitive=False),
    multiple=True,
    help="Only this direction (repeatable).",
)
@click.option(
    "--view",
    type=click.Choice(["simple", "detailed"], case_sensitive=False),
    default=None,
    help="Detailed adds call legs.  [default: simple]",
)
@click.option("--account", is_flag=True, help="The whole account's call log (needs admin rights).")
@format_option
@common_options
def call_log(
    limit: int,
    fetch_all: bool,
    date_from: str | None,
    date_to: str | None,
    types: tuple[str, ...],
    directions: tuple[str, ...],
    view: str | None,
    account: bool,
    fmt: str | None,
    as_json: bool,
) -> None:
    """List calls, newest first, following RingCentral's paging.

    Reads GET /restapi/v1.0/account/~/extension/~/call-log (or, with --account, the whole
    account's /restapi/v1.0/account/~/call-log). Records are written as they arrive, so
    `--all --format ndjson` streams any number of calls in constant memory.

    \b
    Examples:
      rcauth call-log --limit 10
      rcauth call-log --from 7d --direction inbound --type voice
      rcauth call-log --all --from 2026-01-01 --format ndjson > calls.ndjson
      rcauth call-log --from 30d --limit 500 --format csv > calls.csv

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE, NO_COLOR.
    """
    from rcauth.output import CALL_LOG_CSV_FIELDS, call_log_table, choose_format, console, write_records

    params: dict[str, Any] = {}
    if (iso_from := _parse_when(date_from, "--from")) is not None:
        params["dateFrom"] = iso_from
    if (iso_to := _parse_when(date_to, "--to")) is not None:
        params["dateTo"] = iso_to
    if types:
        params["type"] = [t.capitalize() for t in types]
    if directions:
        params["direction"] = [d.capitalize() for d in directions]
    if view:
        params["view"] = view.capitalize()
    path = ACCOUNT_CALL_LOG_PATH if account else CALL_LOG_PATH
    fmt = choose_format(fmt, as_json, piped_default="ndjson" if fetch_all else "json")
    pages: list[dict[str, Any]] = []  # the latest page, for the progress bar's total

    def keep_latest(page: dict[str, Any]) -> None:
        pages[:] = [page]

    with state().client() as client:
        records = client.paginate(path, params, limit=None if fetch_all else limit, on_page=keep_latest)
        if fetch_all:
            records = _with_progress(records, pages)
        if fmt != "table":
            write_records(records, fmt, csv_fields=CALL_LOG_CSV_FIELDS)
            return
        rows = list(records)
    if not rows:
        span = "in that period" if date_from or date_to else "in the last 24 hours (try --from 7d)"
        click.echo(f"No calls {span}.", err=True)
        return
    console().print(call_log_table(rows))


def _parse_fields(fields: tuple[str, ...]) -> dict[str, Any]:
    """-F key=value: true/false/null and integers are typed (as `gh api -F` does), the rest are text."""
    import json

    parsed: dict[str, Any] = {}
    for item in fields:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not key=value", param_hint="-F/--field")
        value: Any = raw
        if raw in ("true", "false", "null") or raw.lstrip("-").isdigit():
            value = json.loads(raw)
        if key in parsed:  # repeated keys become lists (RingCentral's repeatable query parameters)
            previous = parsed[key]
            parsed[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            parsed[key] = value
    return parsed


@cli.command()
@click.argument("method", type=click.Choice(["GET", "POST", "PUT", "PATCH", "DELETE"], case_sensitive=False))
@click.argument("path")
@click.option(
    "-F",
    "--field",
    "fields",
    multiple=True,
    metavar="KEY=VALUE",
    help="A query parameter (GET, DELETE) or JSON body field (POST, PUT, PATCH). Repeatable.",
)
@click.option(
    "--input",
    "input_file",
    type=click.File("r"),
    metavar="FILE",
    help="JSON request body from FILE (- for stdin).",
)
@click.option("--paginate", is_flag=True, help="Follow navigation.nextPage and stream every record.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "ndjson", "csv"]),
    help="With --paginate: how records are written. Default: JSON array on a terminal, ndjson piped.",
)
@common_options
def api(
    method: str, path: str, fields: tuple[str, ...], input_file: Any, paginate: bool, fmt: str | None
) -> None:
    """Call any RingCentral REST endpoint with the stored session (refreshed as needed).

    PATH is relative to the server (e.g. /restapi/v1.0/account/~). The answer's JSON is printed:
    indented on a terminal, compact when piped.

    \b
    Examples:
      rcauth api GET /restapi/v1.0/account/~
      rcauth api GET /restapi/v1.0/account/~/extension -F perPage=100 --paginate --format ndjson
      rcauth api POST /restapi/v1.0/account/~/extension/~/sms --input message.json
      rcauth api GET /restapi/v1.0/account/~/extension/~/call-log -F type=Voice -F type=Fax

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE.
    """
    import json

    from rcauth.output import write_json, write_records

    method = method.upper()
    values = _parse_fields(fields)
    query = values if method in ("GET", "DELETE") else None
    body: Any = None
    if input_file is not None:
        try:
            body = json.load(input_file)
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--input") from None
    if method not in ("GET", "DELETE") and values:
        if body is not None and not isinstance(body, dict):
            raise click.UsageError("-F fields need a JSON object body")
        body = {**(body or {}), **values}
    if not path.startswith("/"):
        path = "/" + path
    with state().client() as client:
        if paginate:
            if method != "GET":
                raise click.UsageError("--paginate works with GET only")
            fmt = fmt or ("json" if sys.stdout.isatty() else "ndjson")
            write_records(client.paginate(path, query, limit=None), fmt)
            return
        response = client.request(method, path, params=query, json=body)
    if not response.content:
        return
    try:
        data = response.json()
    except ValueError:
        sys.stdout.write(response.text)
        return
    write_json(data)


# -- status, token, logout ----------------------------------------------------------------------
@cli.command()
@click.option("--check", is_flag=True, help="Call the API to prove the session works (refreshing if due).")
@format_option
@common_options
def status(check: bool, fmt: str | None, as_json: bool) -> None:
    """Show the stored session: server, app, user, scopes, expiry, and where it is stored.

    Exits 4 when not signed in. Never prints a token or the client secret.

    \b
    Example:
      rcauth status
      rcauth status --check --json | jq .check

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE, NO_COLOR.
    """
    from rcauth import profiles
    from rcauth.errors import NotLoggedIn
    from rcauth.output import choose_format, console, status_table, write_object

    app = state()
    store = app.open_store()
    session = store.load()
    if session is None:
        raise NotLoggedIn("not signed in", hint="run `rcauth login` first")
    info: dict[str, Any] = {
        "profile": app.profile,
        "server": session.server,
        "client_id": session.client_id,
        "owner_id": session.owner_id,
        "user": {"name": (profiles.known().get(app.profile) or {}).get("user")},
        "scopes": session.scope.split(),
        "access_token_expires_at": session.access_expires_at,
        "refresh_token_expires_at": session.refresh_expires_at,
        "storage": store.location,
    }
    if check:
        with app.client(store) as client:
            ext = client.get_json(EXTENSION_PATH)
            fresh = client.session
        info["access_token_expires_at"] = fresh.access_expires_at
        info["refresh_token_expires_at"] = fresh.refresh_expires_at
        info["user"] = {
            "name": ext.get("name"),
            "extensionNumber": ext.get("extensionNumber"),
            "email": (ext.get("contact") or {}).get("email"),
        }
        info["check"] = "ok"
    fmt = choose_format(fmt, as_json, piped_default="json")
    if fmt == "table":
        console().print(status_table(info))
    else:
        write_object(info, fmt)


@cli.command()
@format_option
def profiles(fmt: str | None, as_json: bool) -> None:
    """List profiles: who is signed in to each, and when its refresh token expires.

    \b
    Examples:
      rcauth profiles
      rcauth --profile dev login     # add a profile

    \b
    Environment: RCAUTH_INSECURE_STORAGE.
    """
    from rcauth import profiles as profile_index
    from rcauth.config import data_dir
    from rcauth.output import choose_format, console, human_until, profiles_table, write_records

    app = state()
    index = profile_index.known()
    names = set(index) | {p.name.removesuffix(".session.json") for p in data_dir().glob("*.session.json")}
    rows: list[dict[str, Any]] = []
    for name in sorted(names):
        app_for_profile = AppState(profile=name, insecure_storage=app.insecure_storage)
        try:
            store = app_for_profile.open_store()
            session = store.load()
        except RcauthError as exc:
            rows.append({"profile": name, "status": f"unreadable: {exc}"})
            continue
        if session is None:
            continue
        rows.append(
            {
                "profile": name,
                "user": (index.get(name) or {}).get("user") or f"extension id {session.owner_id}",
                "server": session.server,
                "refresh_token_expires_at": session.refresh_expires_at,
                "refresh_token_expires": human_until(session.refresh_expires_at),
                "storage": store.kind,
                "active": name == app.profile,
            }
        )
    fmt = choose_format(fmt, as_json, piped_default="json")
    if fmt == "table":
        if not rows:
            click.echo(
                "No profiles signed in. Run `rcauth login` (or `rcauth --profile NAME login`).", err=True
            )
            return
        console().print(profiles_table(rows))
    else:
        write_records(rows, fmt)


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    Examples:
      eval "$(rcauth completion bash)"             # in ~/.bashrc
      eval "$(rcauth completion zsh)"              # in ~/.zshrc
      rcauth completion fish > ~/.config/fish/completions/rcauth.fish
    """
    from click.shell_completion import get_completion_class

    completion_class = get_completion_class(shell)
    if completion_class is None:  # pragma: no cover - click ships all three
        raise click.UsageError(f"no completion for {shell}")
    click.echo(completion_class(cli, {}, "rcauth", "_RCAUTH_COMPLETE").source())


# -- token, logout -----------------------------------------------------------------------------
@cli.command()
@common_options
def token() -> None:
    """Print a valid access token (refreshed if due) and nothing else.

    For scripts: the token goes to stdout with a newline, everything else to stderr.

    \b
    Example:
      curl -H "Authorization: Bearer $(rcauth token)" \\
        https://platform.ringcentral.com/restapi/v1.0/account/~/extension/~

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE.
    """
    with state().client() as client:
        session = client.fresh_session()
    click.echo(session.access_token)


@cli.command()
@common_options
def logout() -> None:
    """Revoke the session at RingCentral and remove it from this machine.

    If RingCentral cannot be reached, the session is still removed here, and you are told the
    revocation failed. Logging out when not signed in does nothing.

    \b
    Examples:
      rcauth logout
      rcauth --profile dev logout

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE.
    """
    from rcauth import profiles
    from rcauth.errors import StoredSessionDamaged
    from rcauth.oauth import RingCentralOAuth

    app = state()
    store = app.open_store()
    if app.store is None:
        profiles.forget(app.profile)
    try:
        session = store.load()
    except StoredSessionDamaged:
        store.delete()
        click.echo("Removed a damaged stored session.", err=True)
        return
    if session is None:
        click.echo("Not signed in; nothing to do.", err=True)
        return
    try:
        RingCentralOAuth(session.server, session.client_id, session.client_secret).revoke(
            session.refresh_token or session.access_token
        )
        revoked = True
    except RcauthError as exc:
        revoked = False
        click.echo(
            f"Warning: could not revoke the session at {session.server} ({exc}); it will expire on its own.",
            err=True,
        )
    store.delete()
    click.echo(
        "Signed out: " + ("tokens revoked and removed." if revoked else "tokens removed from this machine.")
    )


# -- demo, emulator ------------------------------------------------------------------------------
@cli.command()
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
    from rcauth.demo import HeadlessApprover, free_loopback_port
    from rcauth.emulator import App, Emulator, EmulatorConfig
    from rcauth.store import MemoryStore

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


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="rcauth")
