"""What is stored on this machine: `status` of one profile and the list of `profiles`."""

from __future__ import annotations

from typing import Any

import click

from rcauth import profiles as profile_index
from rcauth import resources
from rcauth.cli import AppState, common_options, configured_default, state
from rcauth.cli_common import api_client, format_option, warn_if_refresh_ending
from rcauth.errors import ConfigError, RcauthError
from rcauth.origin import TokenOrigins
from rcauth.output import (
    choose_format,
    console,
    profiles_table,
    status_table,
    write_object,
    write_records,
)
from rcauth.session import NO_REFRESH_TOKEN
from rcauth.store import not_signed_in, session_file_not_read
from rcauth.timeparse import expiry


@click.command()
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
    app = state()
    store = app.open_store()
    session = store.load()
    if session is None:
        raise not_signed_in(store)
    _warn_if_directories_unusable(app.profile, store)
    info: dict[str, Any] = {
        "profile": app.profile,
        "server": session.server,
        # Where the token may also go (recordings' content): configured at login, or the server's pair.
        "media_server": TokenOrigins.of(session.server, session.media_server).media,
        "client_id": session.client_id,
        "owner_id": session.owner_id,
        "user": {"name": (profile_index.known().get(app.profile) or {}).get("user")},
        "scopes": session.scope.split(),
        "access_token_expires_at": session.access_expires_at,
        "refresh_token_expires_at": session.refresh_expires_at,
        "storage": store.location,
    }
    if session.refresh_token is None:
        info["refresh_token_note"] = NO_REFRESH_TOKEN
    if check:
        with api_client(store) as client:
            ext = resources.extension_info(client)
            fresh = client.load_session()
        info["access_token_expires_at"] = fresh.access_expires_at
        info["refresh_token_expires_at"] = fresh.refresh_expires_at
        info["user"] = {
            "name": ext.get("name"),
            "extensionNumber": ext.get("extensionNumber"),
            "email": resources.contact_email(ext),
        }
        info["check"] = "ok"
        session = fresh
    warn_if_refresh_ending(session)
    fmt = choose_format(fmt, as_json, piped_default="json")
    if fmt == "table":
        console().print(status_table(info))
    else:
        write_object(info, fmt)


def _warn_if_directories_unusable(profile: str, store: Any) -> None:
    """Say on stderr what `login` would refuse over (the same check): a state directory that is a
    file or cannot be written fails the next refresh, and `status` is where one looks first."""
    from rcauth.store import check_login_dirs
    from rcauth.terminal_text import visible

    try:
        check_login_dirs(profile, session_file=store.kind == "file")
    except RcauthError as exc:
        hint = f"; {exc.hint}" if exc.hint else ""
        click.echo(visible(f"warning: {exc.message}{hint} (a refresh would fail)"), err=True)


@click.group(invoke_without_command=True)
@format_option
@click.pass_context
def profiles(ctx: click.Context, fmt: str | None, as_json: bool) -> None:
    """List profiles: who is signed in to each, and when its refresh token expires.

    The profile commands use (marked *) is --profile, else RCAUTH_PROFILE, else the default profile
    (marked "default"): `default_profile = "NAME"` if you wrote one in config.toml, else the one
    `rcauth profiles use NAME` chose, else 'default'.

    \b
    Examples:
      rcauth profiles
      rcauth --profile dev login     # add a profile
      rcauth profiles use dev        # make it the default

    \b
    Environment: RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE.
    """
    if ctx.invoked_subcommand is not None:
        return
    app = state()
    default = configured_default()
    read = profile_index.read()
    index = read.entries
    # The profile in use and the default are looked for even if the index lost them (damaged, or
    # written before its lock): a keyring cannot list its entries.
    names = profile_index.names() | {app.profile, default}
    rows: list[dict[str, Any]] = []
    unreadable: list[tuple[str, RcauthError]] = []
    for name in sorted(names):
        app_for_profile = AppState(profile=name, insecure_storage=app.insecure_storage, profile_named=True)
        try:
            store = app_for_profile.open_store()
            session = store.load()
        except RcauthError as exc:
            rows.append({"profile": name, "status": f"unreadable: {exc}"})
            unreadable.append((name, exc))
            continue
        if session is None:
            if session_file_not_read(store) is not None:  # kept, but only read with consent
                rows.append({"profile": name, "status": not_signed_in(store).message})
            continue
        rows.append(
            {
                "profile": name,
                "user": (index.get(name) or {}).get("user") or f"extension id {session.owner_id}",
                "server": session.server,
                "refresh_token_expires_at": session.refresh_expires_at,
                "refresh_token_expires": expiry(session.refresh_expires_at)
                if session.refresh_token
                else NO_REFRESH_TOKEN,
                "storage": store.kind,
                "active": name == app.profile,
                "default": name == default,
            }
        )
    fmt = choose_format(fmt, as_json, piped_default="json")
    if fmt == "table":
        if rows:
            console().print(profiles_table(rows))
        elif read.damage is None:  # with a damaged index, its error below says what is known
            click.echo(
                "No profiles signed in. Run `rcauth login` (or `rcauth --profile NAME login`).", err=True
            )
    else:
        write_records(rows, fmt)
    damaged = read.problem()  # after what could be read is listed: exit 6, damaged stored data
    if damaged is not None and not unreadable:
        raise damaged
    if damaged is not None:
        click.echo(f"warning: {damaged.message}", err=True)
    if unreadable:
        # Listed above, each with why; the exit code says the list may be missing sessions.
        which = ", ".join(repr(name) for name, _ in unreadable)
        first = unreadable[0][1]  # its class, so its exit code: a keyring (6), a setting (3)
        said = f"could not read the stored session of {which}: {first}"
        raise first.restated(message=said, hint=first.hint)


@profiles.command("use")
@click.argument("name")
def use(name: str) -> None:
    """Make NAME the default profile (kept in rcauth's state directory, not in config.toml).

    --profile and RCAUTH_PROFILE still win over it, and so does a `default_profile` line you wrote in
    config.toml: then nothing is changed and the command says so (exit 3).

    \b
    Example:
      rcauth profiles use dev
    """
    import os

    from rcauth.config import PROFILE_VAR, check_profile_name, config_file_path, read_default_profile
    from rcauth.terminal_text import visible

    try:
        check_profile_name(name)
    except RcauthError as exc:
        raise click.BadParameter(exc.message, param_hint="NAME") from None
    known = profile_index.names()
    if name not in known and not _signed_in(name):  # the index may have lost it: its store says
        index = profile_index.read()
        listed = ", ".join(sorted(known)) or ("none yet" if index.damage is None else "none readable")
        if index.damage is not None:
            listed += f"; the profile index {str(index.path)!r} is damaged ({index.damage})"
        raise click.BadParameter(
            f"no profile named {name!r} on this machine (profiles: {listed}); "
            f"sign in first with `rcauth --profile {name} login`",
            param_hint="NAME",
        )
    written, _ = read_default_profile()
    if written is not None and written != name:
        raise ConfigError(
            f"config file {str(config_file_path())!r} sets default_profile = {written!r}, which wins "
            "over `rcauth profiles use`; nothing was changed",
            hint="remove that line (rcauth never edits your config file), then run this again",
        )
    path = profile_index.choose_default(name)
    click.echo(f"Default profile is now {name!r} (kept in {path}).", err=True)
    if named := os.environ.get(PROFILE_VAR.name):
        click.echo(
            visible(f"Note: {PROFILE_VAR.name}={named} is set and wins over the default."),
            err=True,
        )


def _signed_in(name: str) -> bool:
    """Whether NAME's store holds a session: what makes it a profile, whatever the index says. A store
    that cannot be read raises (a locked keyring is not "no such profile"). Not `state()`: it reads the
    default record, which `profiles use` is how to mend."""
    app = click.get_current_context().ensure_object(AppState)
    found = AppState(profile=name, insecure_storage=app.insecure_storage, profile_named=True)
    store = found.open_store()
    return store.load() is not None or session_file_not_read(store) is not None
