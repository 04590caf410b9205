"""`rcauth doctor`: check this machine, the configuration, the server and the stored session."""

from __future__ import annotations

import click

from rcauth.cli import AppState, common_options, configured_default, state
from rcauth.config import ENV_FILE_VAR
from rcauth.errors import RcauthError


@click.command()
@click.option("--client-id", metavar="ID", help="Check this client id instead of the configured one.")
@click.option("--server", metavar="URL", help="Check this server instead of the configured one.")
@click.option("--redirect-uri", metavar="URI", help="Check this redirect URI instead of the configured one.")
@click.option(
    "--media-server",
    metavar="URL",
    help="Check this media server (where recordings come from) instead of the configured one.",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    envvar=ENV_FILE_VAR.name,
    help="Read RC_* settings from this .env file, as login would.",
)
@click.option("--all", "all_profiles", is_flag=True, help="Check the stored session of every profile.")
@click.option("--json", "as_json", is_flag=True, help="The checks as JSON, for scripts.")
@common_options
def doctor(
    client_id: str | None,
    server: str | None,
    redirect_uri: str | None,
    media_server: str | None,
    env_file: str | None,
    all_profiles: bool,
    as_json: bool,
) -> None:
    """Check what sign-in and the commands need: settings, port, server, clock, keyring, session, browser.

    Needs no sign-in and changes nothing (the keyring probe writes and deletes its own test entry;
    the state directory and its empty lock file are made if missing, as any command makes them).
    Each problem comes with one line saying what to do. Exits 0 when there is no problem (warnings
    allowed), 1 otherwise.

    \b
    Examples:
      rcauth doctor
      rcauth doctor --env-file .env --all
      rcauth doctor --json | jq '.checks[] | select(.status != "ok")'

    \b
    Environment: RC_APP_CLIENT_ID, RC_APP_CLIENT_SECRET, RC_SERVER_URL, RC_REDIRECT_URL,
    RC_MEDIA_URL, RCAUTH_ENV_FILE, RCAUTH_PROFILE, RCAUTH_INSECURE_STORAGE, HTTPS_PROXY, BROWSER.
    """
    from rcauth import diagnose
    from rcauth import profiles as profile_index
    from rcauth.output import console, doctor_checklist, write_json

    try:
        app = state()
    except RcauthError:  # a config file that cannot be read: reported by the configuration check
        app = click.get_current_context().ensure_object(AppState)
    names = [app.profile]
    if all_profiles:  # the default too, even if the index lost it (as `rcauth profiles` looks for it)
        names = sorted(profile_index.names() | {app.profile, configured_default()})
    checks = diagnose.diagnose(
        {
            "client_id": client_id,
            "server": server,
            "redirect_uri": redirect_uri,
            "media_server": media_server,
        },
        env_file=env_file,
        profile=app.profile,
        profiles=names,
        insecure_storage=app.insecure_storage,
    )
    healthy = diagnose.healthy(checks)
    if as_json:
        write_json({"ok": healthy, "checks": [c.to_json() for c in checks]})
    else:
        console().print(doctor_checklist(c.to_json() for c in checks))
        problems = sum(c.status is diagnose.Status.PROBLEM for c in checks)
        warnings = sum(c.status is diagnose.Status.WARNING for c in checks)
        click.echo(f"{problems} problem(s), {warnings} warning(s).", err=True)
    if not healthy:
        raise click.exceptions.Exit(1)
