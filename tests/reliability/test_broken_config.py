"""A config.toml that cannot be parsed (a half-saved edit, a typo in an unrelated setting, a byte-order
mark from Windows Notepad) stops only what needs its settings (issue 20): `login` (exit 3, one line).
`logout`, `status` and the rest need only its `default_profile`, read from what can be read, and say
in one line on stderr what is wrong; `logout` still revokes the session, whose server and app the
session itself records."""

from __future__ import annotations

import json
from pathlib import Path

from reliability_support import FileKeyring

from ringcentral_emulator import DEMO_JWT


def test_logout_and_status_work_past_a_broken_config_file_on_the_profile_it_names(
    emu, rcauth, sign_in, env, keyring_dir
) -> None:
    sign_in("work")
    path = Path(env["RCAUTH_CONFIG_DIR"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('default_profile = "work"\nclient_id = "unterminated\n', encoding="utf-8")
    warning = (
        f"warning: config file {str(path)!r} is not valid TOML: Illegal character '\\n' (at line 2, "
        "column 26) (using profile 'work')"
    )

    status = rcauth.run("status", "--json")
    assert status.code == 0, status
    assert json.loads(status.out)["profile"] == "work"
    assert status.err.splitlines() == [warning]

    ended = emu.counters()["sessions_ended"]
    logout = rcauth.run("logout")
    assert (logout.code, logout.out) == (0, "Signed out: tokens revoked and removed.\n"), logout
    assert logout.err.splitlines() == [warning]
    assert emu.counters()["sessions_ended"] == ended + 1
    assert not FileKeyring.entry("rcauth", "work", keyring_dir).exists()

    login = rcauth.run("login", "--jwt", env={"RC_JWT": DEMO_JWT})  # its settings come from that file
    assert login.code == 3, login
    assert login.err.splitlines() == [
        warning.replace("warning:", "Error:").removesuffix(" (using profile 'work')")
    ]


def test_a_config_file_with_a_byte_order_mark_is_read_by_login(emu, rcauth, env) -> None:
    path = Path(env["RCAUTH_CONFIG_DIR"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    app = emu.config.apps[0]
    settings = (
        f'client_id = "{app.client_id}"\nclient_secret = "{app.client_secret}"\n'
        f'server = "{emu.base_url}"\nredirect_uri = "{env["RC_REDIRECT_URL"]}"\n'
    )
    path.write_bytes(b"\xef\xbb\xbf" + settings.encode())  # as Windows Notepad saves UTF-8
    unset = {
        name: "" for name in ("RC_APP_CLIENT_ID", "RC_APP_CLIENT_SECRET", "RC_SERVER_URL", "RC_REDIRECT_URL")
    }
    login = rcauth.run("login", "--jwt", env={**unset, "RC_JWT": DEMO_JWT})
    assert (login.code, login.err) == (0, ""), login
    assert login.out.startswith("Signed in as Alex Morgan")
