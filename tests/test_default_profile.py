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


# -- issue 20: a config file that cannot be parsed stops only what needs it --------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('default_profile = "dev"\nclient_id = "unterminated\n', "dev"),
        ("default_profile = 'dev'  # mine\n[profiles.dev]\nclient_id = [\n", "dev"),
        ('client_id = "unterminated\n', None),
        (b"client_id = '\xff'\n", None),
    ],
)
def test_a_broken_config_file_still_gives_the_default_it_names_and_the_problem(
    tmp_path: Path, text: str | bytes, expected: str | None
) -> None:
    from rcauth.config import read_default_profile

    path = tmp_path / "config.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    profile, problem = read_default_profile(path)
    assert profile == expected
    assert problem is not None and "is not valid TOML" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        'default_profile = "dev\nclient_id = "x"\n',  # the default's own line is what is broken
        'default_profile = "../x"\n',  # valid TOML, but no profile name
        "default_profile = 3\n",
    ],
)
def test_a_default_that_cannot_be_read_is_an_error_not_a_guess(tmp_path: Path, text: str) -> None:
    """Acting on another profile than the user's default (logging it out) is worse than stopping."""
    from rcauth.config import read_default_profile

    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        read_default_profile(path)


def test_a_config_file_with_a_byte_order_mark_is_read_and_edited(tmp_path: Path) -> None:
    """Windows Notepad saves UTF-8 with a BOM, which TOML does not allow: accepted all the same."""
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + USER_FILE.encode())
    assert read_config_file(path) == {
        "client_id": "abc",
        "server": "https://platform.devtest.ringcentral.com",
    }
    assert read_config_file(path, "dev")["client_id"] == "dev-app"
    set_default_profile("dev", path)
    assert default_profile(path) == "dev"
    assert read_config_file(path)["client_id"] == "abc"


def test_a_config_file_that_cannot_be_written_is_a_config_error_and_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config directory left root-owned by `sudo rcauth ...` (refused at the write here: the suite
    runs as root) is one line, exit 3, not an unexpected error."""
    import tempfile

    path = tmp_path / "config.toml"
    path.write_text(USER_FILE, encoding="utf-8")

    def refused(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(ConfigError) as raised:
        set_default_profile("dev", path)
    assert str(raised.value) == f"cannot write the config file {str(path)!r}: Permission denied"
    assert path.read_text(encoding="utf-8") == USER_FILE
