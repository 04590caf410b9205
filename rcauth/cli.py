"""The root of the command line: shared options, the error-to-exit-code mapping, and the table of
commands, each loaded from `rcauth.commands` only when it runs.

Heavy libraries (requests, oauthlib, keyring, rich) are imported inside the commands that use them,
so `rcauth --help` and `rcauth --version` start as fast as click allows, and `rcauth whoami` pays
for whoami alone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from rcauth.config import DEFAULT_PROFILE, PROFILE_VAR, check_profile_name
from rcauth.errors import ExitCode, RcauthError, Terminated
from rcauth.stdio import guard_std_streams
from rcauth.version import __version__

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from rcauth.store import SessionStore

# name -> (where the command lives, the one line `rcauth --help` shows for it). A test checks each
# line against the command's own docstring, so the two cannot drift apart.
COMMANDS: dict[str, tuple[str, str]] = {
    "api": (
        "rcauth.commands.rest:api",
        "Call any RingCentral REST endpoint with the stored session (refreshed as needed).",
    ),
    "call-log": (
        "rcauth.commands.rest:call_log",
        "List calls, newest first, following RingCentral's paging.",
    ),
    "completion": ("rcauth.commands.shell:completion", "Print the shell completion script for SHELL."),
    "demo": ("rcauth.commands.demo:demo", "Try rcauth end to end with no account and no network."),
    "doctor": (
        "rcauth.commands.doctor:doctor",
        "Check what sign-in and the commands need: settings, port, server, clock, keyring, session, browser.",
    ),
    "emulator": (
        "ringcentral_emulator.cli:emulator_command",
        "Run a RingCentral emulator on loopback until Ctrl-C.",
    ),
    "login": (
        "rcauth.commands.login:login",
        "Sign in to RingCentral and store the session in the system keyring.",
    ),
    "logout": (
        "rcauth.commands.login:logout",
        "Revoke the session at RingCentral and remove it from this machine.",
    ),
    "profiles": (
        "rcauth.commands.status:profiles",
        "List profiles: who is signed in to each, and when its refresh token expires.",
    ),
    "recordings": ("rcauth.commands.recordings:recordings", "List and download call recordings."),
    "status": (
        "rcauth.commands.status:status",
        "Show the stored session: server, app, user, scopes, expiry, and where it is stored.",
    ),
    "token": (
        "rcauth.commands.rest:token",
        "Print a valid access token (refreshed if due) and nothing else.",
    ),
    "whoami": ("rcauth.commands.rest:whoami", "Show who the stored session belongs to."),
}


@dataclass
class AppState:
    """Options shared by every command."""

    debug: bool = False
    profile: str = DEFAULT_PROFILE
    insecure_storage: bool = False
    # --profile or RCAUTH_PROFILE named the profile; else the default (`configured_default`), read once.
    profile_named: bool = False
    # The group and the command both read --profile and RCAUTH_PROFILE. One given on the command line,
    # before or after the command name, wins over the environment's, whichever is parsed first; the
    # environment's is held here until `state()` knows no command-line one came.
    profile_from_command_line: bool = False
    profile_from_env: str | None = None
    default_read: bool = False
    # A config file that cannot be parsed is mentioned once per run (`configured_default`).
    config_warned: bool = False
    # The refresh token's "expires soon" warning is given once per run, whatever the command loads.
    expiry_warned: bool = False

    def open_store(self) -> SessionStore:
        from rcauth.store import open_store

        return open_store(self.profile, insecure_storage=self.insecure_storage)


def state(*, strict_config: bool = False) -> AppState:
    """The shared options; the profile is `--profile`, else `RCAUTH_PROFILE`, else the default
    (`configured_default`). `strict_config`: a config file that cannot be parsed is an error (for
    `login`, which reads its settings from it), not a warning."""
    ctx = click.get_current_context()
    app = ctx.ensure_object(AppState)
    if app.profile_from_env is not None:
        value, app.profile_from_env = app.profile_from_env, None
        try:
            check_profile_name(value)
        except RcauthError as exc:
            message = f"{exc.message} (from RCAUTH_PROFILE)"
            raise click.BadParameter(message, ctx, param_hint="'--profile'") from None
        app.profile, app.profile_named = value, True
    if not app.profile_named and not app.default_read:
        app.default_read = True
        app.profile = configured_default(strict=strict_config)
    return app


def configured_default(*, strict: bool = False) -> str:
    """The profile commands use when neither `--profile` nor `RCAUTH_PROFILE` names one:
    `default_profile` in config.toml (what the user wrote wins), else the profile `rcauth profiles use`
    chose (`rcauth.profiles.chosen_default`, rcauth's own state), else 'default'.

    A config file that cannot be parsed stops only `login` (`strict`): every other command works on
    what can be read of it (`config.read_default_profile`) and says what is wrong, once, in one line
    on stderr."""
    from rcauth import config, profiles

    written, problem = (config.default_profile(), None) if strict else config.read_default_profile()
    profile = written or profiles.chosen_default() or DEFAULT_PROFILE
    app = click.get_current_context().ensure_object(AppState)
    if problem is not None and not app.config_warned:
        from rcauth.terminal_text import visible

        app.config_warned = True
        click.echo(
            visible(f"warning: {' '.join(problem.message.split())} (using profile {profile!r})"), err=True
        )
    return profile


class CliError(click.ClickException):
    """An `RcauthError` on its way out: one line on stderr, the error's exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        # click's `main` exits with `exit_code` read from the instance, so this one carries the code of the
        # RcauthError it reports. Through setattr: click 8.5's stubs type `exit_code` as a class constant
        # and 8.1's as an attribute, so a plain assignment needs a `type: ignore` on one and not the other.
        setattr(self, "exit_code", exit_code)  # noqa: B010

    def show(self, file: Any = None) -> None:
        # Messages carry server text (RingCentral's error message, a proxy's reason): shown, not obeyed.
        from rcauth.terminal_text import visible

        click.echo(f"Error: {visible(self.message)}", err=True)


def _interrupted() -> CliError:
    return CliError("interrupted", int(ExitCode.INTERRUPTED))


def _terminated(exc: Terminated) -> CliError:
    return CliError(f"terminated ({exc.name})", exc.exit_code)


def _one_line(exc: RcauthError) -> str:
    from rcauth.redact import redact

    text = str(exc)
    if exc.hint:
        text = f"{text}; {exc.hint}"
    return redact(" ".join(text.split()))


class RcauthGroup(click.Group):
    """Loads each command from `COMMANDS` when it is run (listing them needs only the table), and maps
    every failure to one line and an exit code, in one place; no traceback unless --debug."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            import importlib

            module, _, attr = COMMANDS[cmd_name][0].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's command list, with each command's one line taken from `COMMANDS`, not its module."""
        names = [name for name in self.list_commands(ctx) if name in COMMANDS]
        limit = formatter.width - 6 - max(map(len, names), default=0)
        # click's own shortening, through a stand-in command (`click.utils.make_default_short_help` is
        # deprecated: click 8.5 warns that it goes in 9.0).
        rows = [(n, click.Command(n, help=COMMANDS[n][1]).get_short_help_str(limit)) for n in names]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names (with their one line of help, for zsh and fish) from `COMMANDS`, as `--help`
        lists them: pressing Tab after `rcauth ` must not import every command's module."""
        from click.shell_completion import CompletionItem

        names = [name for name in self.list_commands(ctx) if name.startswith(incomplete)]
        items = [CompletionItem(name, help=COMMANDS[name][1]) for name in names if name in COMMANDS]
        return items + click.Command.shell_complete(self, ctx, incomplete)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        # Click turns a Ctrl-C while it parses the options into "Aborted!" and exit 1; rcauth's
        # answer to Ctrl-C is the same everywhere.
        try:
            return super().make_context(info_name, args, parent, **extra)
        except KeyboardInterrupt:
            raise _interrupted() from None
        except Terminated as exc:
            raise _terminated(exc) from None
        except RcauthError as exc:  # --help or --version could not be written (OutputFailed)
            raise CliError(_one_line(exc), int(exc.exit_code)) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # output still buffered can fail too; here it is mapped like the rest
            return result
        except RcauthError as exc:
            _debug_traceback("failed")
            raise CliError(_one_line(exc), int(exc.exit_code)) from None
        except KeyboardInterrupt:
            raise _interrupted() from None
        except Terminated as exc:  # SIGTERM/SIGHUP (held while a grant is made or a pair rotated)
            raise _terminated(exc) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            # Click's own, and a reader that went away (`rcauth call-log --all | head`): click ends
            # that quietly with exit 1, and keeps the final flush of stdout from failing too.
            raise
        except MemoryError:
            # An answer or an input far larger than any RingCentral sends (a decompression bomb,
            # `--input /dev/zero`): one line, not a bug report. What was stored stays as it was.
            raise CliError(
                "ran out of memory: an answer or an input was far larger than RingCentral's ever are",
                int(ExitCode.GENERIC),
            ) from None
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
    from rcauth.terminal_text import VisibleFormatter

    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_rcauth", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._rcauth = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        VisibleFormatter("debug: %(name)s: %(message)s" if debug else "warning: %(message)s")
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


class _SourceRecordingOption(click.Option):
    """An option that notes where its value came from before its callback runs.

    click records a value's source (`ctx.get_parameter_source`) before the callback in 8.1 to 8.3 and
    8.5, and after it in 8.4; `consume_value` is where every allowed version finds it, so the callback
    can say "(from RCAUTH_PROFILE)" on all of them."""

    def consume_value(self, ctx: click.Context, opts: Any) -> Any:
        value, source = super().consume_value(ctx, opts)
        ctx.meta[f"rcauth.source.{self.name}"] = source
        return value, source


def _profile_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    app = ctx.ensure_object(AppState)
    if ctx.meta.get(f"rcauth.source.{param.name}") == click.core.ParameterSource.ENVIRONMENT:
        # An empty RCAUTH_PROFILE is no choice (as if unset); an empty --profile= is a bad name.
        if value and not app.profile_from_command_line:
            app.profile_from_env = value  # checked by `state()`, unless the command line names one
        return
    try:
        check_profile_name(value)
    except RcauthError as exc:
        raise click.BadParameter(exc.message) from None
    app.profile, app.profile_named = value, True
    app.profile_from_command_line, app.profile_from_env = True, None


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
            cls=_SourceRecordingOption,
            metavar="NAME",
            envvar=PROFILE_VAR.name,
            expose_value=False,
            callback=_profile_callback,
            help="Keep an independent session under this name. Default: RCAUTH_PROFILE, else the "
            "default profile (see `rcauth profiles --help`), else 'default'.",
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
    if _as_the_program:
        from rcauth.interrupts import exit_on_termination

        # The program's own handlers, once a command is to run (`--help` and `--version` need none):
        # SIGTERM and SIGHUP end it in one line, as Ctrl-C does. Never for a caller of `cli`.
        exit_on_termination()




# True when `main` runs: rcauth is the program, and may install its signal handlers.
_as_the_program = False


def main(argv: list[str] | None = None) -> None:
    global _as_the_program
    _as_the_program = True
    stdout_guard = guard_std_streams()
    try:
        cli.main(args=argv, prog_name="rcauth")
    except Terminated as exc:  # outside a command (parsing done, closing up): the same line and code
        error = _terminated(exc)
        error.show()
        sys.exit(error.exit_code)
    finally:
        if stdout_guard is not None and stdout_guard.failed:  # reported already: the rest goes nowhere
            stdout_guard.discard = True
