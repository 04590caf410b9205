from __future__ import annotations

from pathlib import Path

import pytest

from rcauth.config import DEFAULT_REDIRECT_URI, DEFAULT_SERVER, config_dir, resolve
from rcauth.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    env_file = write(
        tmp_path / ".env",
        "RC_SERVER_URL=https://dotenv.example.com\nRC_APP_CLIENT_ID=from-dotenv\n"
        "RC_APP_CLIENT_SECRET=dotenv-secret\nRC_REDIRECT_URL=http://localhost:5001/dotenv\n",
    )
    toml = write(
        tmp_path / "config.toml",
        'client_id = "from-toml"\nclient_secret = "toml-secret"\nserver = "https://toml.example.com"\n'
        'redirect_uri = "http://localhost:5002/toml"\n',
    )
    return {"env_file": env_file, "toml": toml}


def test_flags_beat_environment_beat_env_file_beat_config_file(sources: dict[str, Path]) -> None:
    environ = {"RC_APP_CLIENT_ID": "from-env", "RC_SERVER_URL": "https://env.example.com"}
    settings = resolve(
        {"client_id": "from-flag"}, environ=environ, env_file=sources["env_file"], config_file=sources["toml"]
    )
    assert settings.client_id == "from-flag"
    assert settings.server == "https://env.example.com"
    assert settings.client_secret == "dotenv-secret"
    assert settings.redirect_uri == "http://localhost:5001/dotenv"
    assert settings.sources["client_id"] == "--client-id"
    assert settings.sources["server"] == "$RC_SERVER_URL"


def test_config_file_is_the_last_source(sources: dict[str, Path]) -> None:
    settings = resolve({}, environ={}, config_file=sources["toml"])
    assert (settings.client_id, settings.client_secret) == ("from-toml", "toml-secret")
    assert settings.server == "https://toml.example.com"


def test_config_file_profile_table_overrides_top_level(tmp_path: Path) -> None:
    toml = write(tmp_path / "c.toml", 'client_id = "top"\n[profiles.dev]\nclient_id = "dev-app"\n')
    assert resolve({}, environ={}, config_file=toml, profile="dev").client_id == "dev-app"
    assert resolve({}, environ={}, config_file=toml).client_id == "top"


def test_older_ringcentral_env_names_are_accepted(tmp_path: Path) -> None:
    settings = resolve(
        {},
        environ={"RC_CLIENT_ID": "old-id", "RC_CLIENT_SECRET": "old-secret"},
        config_file=tmp_path / "none",
    )
    assert (settings.client_id, settings.client_secret) == ("old-id", "old-secret")


def test_current_env_name_wins_over_older_one(tmp_path: Path) -> None:
    settings = resolve(
        {}, environ={"RC_CLIENT_ID": "old", "RC_APP_CLIENT_ID": "new"}, config_file=tmp_path / "none"
    )
    assert settings.client_id == "new"


def test_defaults_are_production_and_quick_start_redirect(tmp_path: Path) -> None:
    settings = resolve({"client_id": "x"}, environ={}, config_file=tmp_path / "none")
    assert settings.server == DEFAULT_SERVER == "https://platform.ringcentral.com"
    assert settings.redirect_uri == DEFAULT_REDIRECT_URI == "http://localhost:5000/oauth2callback"
    assert settings.client_secret is None


def test_missing_client_id_names_every_way_to_give_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve({}, environ={}, config_file=tmp_path / "config.toml")
    message = str(caught.value)
    for way in ("--client-id", "RC_APP_CLIENT_ID", "--env-file", str(tmp_path / "config.toml")):
        assert way in message


@pytest.mark.parametrize(
    "server", ["http://platform.ringcentral.com", "ftp://x.example.com", "https://", "http://10.0.0.5:8080"]
)
def test_server_must_be_https_unless_loopback(server: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        resolve({"client_id": "x", "server": server}, environ={}, config_file=tmp_path / "none")


@pytest.mark.parametrize(
    "server",
    [
        "https://alice:s3cret@platform.ringcentral.com",
        "https://s3cret@platform.ringcentral.com",
        "http://alice:s3cret@127.0.0.1:8080",
        "https://alice:s3cret@platform.ringcentral.com/restapi",
        "alice:s3cret@platform.ringcentral.com",
        "//alice:s3cret@platform.ringcentral.com",
        "https://alice:s3cret@@platform.ringcentral.com:bad",
        "https://alice:s3/cret@platform.ringcentral.com",
        "https://alice:s3cret#x?y/z:w@platform.ringcentral.com",
        "https:/alice:s3cret@platform.ringcentral.com",
        "https://alice:s3cret\uff20platform.ringcentral.com",
        " https://alice:s3cret@platform.ringcentral.com",
    ],
)
def test_a_server_url_with_a_user_or_password_is_refused_without_showing_them(
    server: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve({"client_id": "x", "server": server}, environ={}, config_file=tmp_path / "none")
    message = str(caught.value)
    assert "s3cret" not in message and "alice" not in message
    assert "user name or password" in message
    assert "platform.ringcentral.com" in message or "127.0.0.1" in message


@pytest.mark.parametrize(
    "server",
    ["https://platform.ringcentral.com:99999", "https://x.example.com:port", "https://a..b", "https://ho st",
     "https://.example.com", "https://x.example.com\u3002", "https://a.com:0", "https://-a.com",
     "https://" + "a" * 64 + ".com", "https://" + "a." * 130 + "com"],
)  # fmt: skip
def test_a_server_url_with_an_invalid_port_is_a_config_error(server: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid host or port"):
        resolve({"client_id": "x", "server": server}, environ={}, config_file=tmp_path / "none")


@pytest.mark.parametrize("server", ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:8080"])
def test_plain_http_is_allowed_on_loopback(server: str, tmp_path: Path) -> None:
    assert (
        resolve({"client_id": "x", "server": server + "/"}, environ={}, config_file=tmp_path / "n").server
        == server
    )


@pytest.mark.parametrize(
    "uri",
    [
        "https://localhost:5000/cb",
        "http://example.com:5000/cb",
        "http://localhost/cb",
        "http://localhost:5000/",
    ],
)
def test_redirect_uri_must_be_loopback_http_with_port_and_path(uri: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        resolve({"client_id": "x", "redirect_uri": uri}, environ={}, config_file=tmp_path / "none")


def test_missing_env_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="env file .* not found"):
        resolve({"client_id": "x"}, environ={}, env_file=tmp_path / "nope.env")


def test_broken_config_file_is_a_clear_error(tmp_path: Path) -> None:
    toml = write(tmp_path / "config.toml", "client_id = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve({}, environ={}, config_file=toml)


def test_config_dir_honours_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RCAUTH_CONFIG_DIR", str(tmp_path / "cfg"))
    assert config_dir() == tmp_path / "cfg"


def test_an_env_file_with_a_byte_order_mark_gives_its_first_setting(tmp_path: Path) -> None:
    """Saved by Windows Notepad, `.env` begins with a BOM; its first key must still be the client id
    (rcauth reads it as utf-8-sig: python-dotenv 1.0.0, the lowest allowed, would keep the mark)."""
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"\xef\xbb\xbfRC_APP_CLIENT_ID=from-notepad\nRC_APP_CLIENT_SECRET=s\n")
    settings = resolve({}, environ={}, env_file=env_file, config_file=tmp_path / "none.toml")
    assert settings.client_id == "from-notepad"


# -- the media server ----------------------------------------------------------------------------------

SANDBOX = "https://platform.devtest.ringcentral.com"


def test_production_gets_its_media_host_without_any_setting(tmp_path: Path) -> None:
    settings = resolve({"client_id": "c"}, environ={}, config_file=tmp_path / "none.toml")
    assert settings.media_server == "https://media.ringcentral.com"
    assert settings.sources["media_server"] == "RingCentral's pairing with the server"


def test_another_server_has_no_media_host_unless_one_is_configured(tmp_path: Path) -> None:
    settings = resolve({"client_id": "c", "server": SANDBOX}, environ={}, config_file=tmp_path / "none.toml")
    assert settings.media_server is None and "media_server" not in settings.sources


def test_the_media_server_comes_from_the_flag_the_environment_the_env_file_or_the_config_file(
    tmp_path: Path,
) -> None:
    env_file = write(tmp_path / ".env", "RC_MEDIA_URL=https://dotenv-media.example.com\n")
    toml = write(
        tmp_path / "config.toml",
        'media_server = "https://toml-media.example.com"\n'
        '[profiles.dev]\nmedia_server = "http://127.0.0.1:9"\n',
    )
    flags = {"client_id": "c", "server": SANDBOX}

    def media(flags: dict[str, str | None], environ: dict[str, str], **kw: object) -> tuple[str | None, str]:
        settings = resolve(flags, environ=environ, config_file=toml, **kw)  # type: ignore[arg-type]
        return settings.media_server, settings.sources["media_server"]

    env = {"RC_MEDIA_URL": "https://env-media.example.com/"}
    assert media({**flags, "media_server": "https://flag-media.example.com"}, env, env_file=env_file) == (
        "https://flag-media.example.com",
        "--media-server",
    )
    assert media(flags, env, env_file=env_file) == ("https://env-media.example.com", "$RC_MEDIA_URL")
    assert media(flags, {}, env_file=env_file) == (
        "https://dotenv-media.example.com",
        f"{env_file}:RC_MEDIA_URL",
    )
    assert media(flags, {}) == ("https://toml-media.example.com", str(toml))
    assert media(flags, {}, profile="dev") == ("http://127.0.0.1:9", str(toml))


@pytest.mark.parametrize(
    ("media", "message"),
    [
        ("http://media.example.com", "media server URL 'http://media.example.com' must use https"),
        ("https://media.example.com/restapi", "must be just scheme://host[:port]"),
        ("https://media.example.com?x=1", "must be just scheme://host[:port]"),
        ("media.example.com", "is not an http(s) URL"),
        ("https://me:pw@media.example.com", "carries a user name or password"),
        ("https://media.example.com:0", "has an invalid host or port"),
        ("https://media..example.com", "has an invalid host or port"),
    ],
)
def test_a_media_server_is_held_to_the_servers_rules(media: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(
            {"client_id": "c", "server": SANDBOX, "media_server": media},
            environ={},
            config_file=tmp_path / "none.toml",
        )
    assert message in caught.value.message and caught.value.message.startswith("media server URL")
    assert "pw" not in caught.value.message


def test_production_with_another_media_host_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        environ = {"RC_MEDIA_URL": "https://media.evil.example"}
        resolve({"client_id": "c"}, environ=environ, config_file=tmp_path / "x")
    assert caught.value.message == (
        "the media server of https://platform.ringcentral.com is https://media.ringcentral.com, "
        "not https://media.evil.example"
    )
    assert caught.value.exit_code == 3


def test_productions_own_media_host_or_the_server_itself_may_be_named(tmp_path: Path) -> None:
    for media in ("https://MEDIA.ringcentral.com/", "https://platform.ringcentral.com"):
        settings = resolve({"client_id": "c", "media_server": media}, environ={}, config_file=tmp_path / "x")
        assert settings.media_server == "https://media.ringcentral.com"
    emulator = "http://127.0.0.1:5123"
    flags = {"client_id": "c", "server": emulator, "media_server": emulator}
    settings = resolve(flags, environ={}, config_file=tmp_path / "x")
    assert settings.media_server is None


def test_a_media_server_in_the_config_file_must_be_a_string(tmp_path: Path) -> None:
    toml = write(tmp_path / "config.toml", "media_server = 443\n")
    with pytest.raises(ConfigError, match="media_server must be a string"):
        resolve({"client_id": "c"}, environ={}, config_file=toml)
