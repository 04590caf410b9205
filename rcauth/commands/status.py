"""What is stored on this machine: `status` of one profile and the list of `profiles`."""

from __future__ import annotations

from typing import Any

import click

from rcauth import profiles as profile_index
from rcauth import resources
from rcauth.cli import AppState, api_client, common_options, format_option, state
from rcauth.errors import NotLoggedIn, RcauthError
from rcauth.output import (
    choose_format,
    console,
    human_until,
    profiles_table,
    status_table,
    write_object,
    write_records,
)
from rcauth.session import NO_REFRESH_TOKEN


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
        raise NotLoggedIn("not signed in", hint="run `rcauth login` first")
    info: dict[str, Any] = {
        "profile": app.profile,
        "server": session.server,
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


@click.command()
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
    app = state()
    index = profile_index.known()
    names = profile_index.names()
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
                "refresh_token_expires": human_until(session.refresh_expires_at)
                if session.refresh_token
                else NO_REFRESH_TOKEN,
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
