"""`rcauth profiles use NAME` writes `default_profile` into config.toml (issue 14, point 2) by editing
one line: the user's comments, other settings and their order stay as they were."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rcauth.config import default_profile, read_config_file, set_default_profile
from rcauth.errors import ConfigError

USER_FILE = """\
# my RingCentral settings
client_id = "abc"   # the sandbox app
server = "https://platform.devtest.ringcentral.com"

[profiles.dev]
# dev uses another app
client_id = "dev-app"
"""


def test_setting_the_default_keeps_comments_and_settings_and_adds_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(USER_FILE, encoding="utf-8")
    os.chmod(path, 0o640)
    set_default_profile("dev", path)
    assert path.read_text(encoding="utf-8") == 'default_profile = "dev"\n' + USER_FILE
    assert default_profile(path) == "dev"
    assert read_config_file(path, "dev")["client_id"] == "dev-app"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the user's mode is kept


def test_setting_it_again_replaces_the_value_and_keeps_the_lines_comment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# top\ndefault_profile = 'dev'  # chosen by rcauth\n" + USER_FILE, encoding="utf-8")
    set_default_profile("prod", path)
    assert (
        path.read_text(encoding="utf-8")
        == '# top\ndefault_profile = "prod"  # chosen by rcauth\n' + USER_FILE
    )
    assert default_profile(path) == "prod"


def test_a_new_config_file_is_private_and_holds_only_the_default(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    set_default_profile("dev", path)
    assert path.read_text(encoding="utf-8") == 'default_profile = "dev"\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_default_it_cannot_edit_safely_is_refused_and_the_file_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = "default_profile = 3\n" + USER_FILE
    path.write_text(original, encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot set the default profile") as caught:
        set_default_profile("dev", path)
    assert caught.value.hint == 'add default_profile = "dev" at its top by hand'
    assert path.read_text(encoding="utf-8") == original


def test_a_default_profile_that_is_not_a_profile_name_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('default_profile = "../x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="default_profile: '../x' is not a valid profile name"):
        default_profile(path)
