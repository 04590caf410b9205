"""The profile index: which profiles exist and who is signed in to each (a keyring cannot list its
entries). It holds names only, never a token or secret, and a damaged index never stops a command."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from helpers import make_session

from rcauth import profiles
from rcauth.config import state_dir
from rcauth.store import FileStore


def index_file() -> Path:
    return state_dir() / "profiles.json"


def test_no_index_yet_means_no_profiles() -> None:
    assert not index_file().exists()
    assert profiles.known() == {}


def test_remember_records_the_profile_with_its_user() -> None:
    profiles.remember("default", "Alex Doe")
    profiles.remember("dev", "Sam Roe")
    assert profiles.known() == {"default": {"user": "Alex Doe"}, "dev": {"user": "Sam Roe"}}


def test_remember_without_a_user_keeps_the_user_already_known() -> None:
    """A login that could not fetch the user's name (whoami failed) must not erase the name shown."""
    profiles.remember("dev", "Sam Roe")
    profiles.remember("dev")
    assert profiles.known() == {"dev": {"user": "Sam Roe"}}


def test_remember_without_a_user_lists_a_new_profile_with_no_name() -> None:
    profiles.remember("ci")
    assert profiles.known() == {"ci": {}}


def test_a_new_user_replaces_the_old_one() -> None:
    profiles.remember("dev", "Sam Roe")
    profiles.remember("dev", "Alex Doe")
    assert profiles.known() == {"dev": {"user": "Alex Doe"}}


def test_forget_removes_only_that_profile() -> None:
    profiles.remember("default", "Alex Doe")
    profiles.remember("dev", "Sam Roe")
    profiles.forget("dev")
    assert profiles.known() == {"default": {"user": "Alex Doe"}}


def test_forgetting_an_unknown_profile_writes_nothing() -> None:
    profiles.forget("never-seen")
    assert not index_file().exists()


@pytest.mark.parametrize("damage", ["", "{not json", "[1, 2]", '"a string"', "\xff\xfe garbage"])
def test_an_unreadable_index_counts_as_empty_and_is_replaced_on_the_next_login(damage: str) -> None:
    index_file().parent.mkdir(parents=True, exist_ok=True)
    index_file().write_text(damage, encoding="latin-1")
    assert profiles.known() == {}
    profiles.remember("default", "Alex Doe")
    assert json.loads(index_file().read_text(encoding="utf-8")) == {"default": {"user": "Alex Doe"}}


def test_an_entry_that_is_not_an_object_is_kept_as_a_profile_without_a_name() -> None:
    index_file().parent.mkdir(parents=True, exist_ok=True)
    index_file().write_text(json.dumps({"dev": "Sam Roe", "ops": {"user": "Kim Poe"}}), encoding="utf-8")
    assert profiles.known() == {"dev": {}, "ops": {"user": "Kim Poe"}}


def test_the_index_is_replaced_whole_leaving_no_temporary_file_behind() -> None:
    """Written to a temporary file and renamed over the index: a reader sees the old index or the new."""
    profiles.remember("default", "Alex Doe")
    before = os.stat(index_file()).st_ino
    profiles.remember("dev", "Sam Roe")
    assert os.stat(index_file()).st_ino != before
    assert sorted(p.name for p in index_file().parent.iterdir()) == ["profiles.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_the_state_dir_it_creates_is_private_to_the_user() -> None:
    profiles.remember("default", "Alex Doe")
    assert stat.S_IMODE(index_file().parent.stat().st_mode) == 0o700


def test_profile_names_are_the_index_and_the_file_stores_sessions() -> None:
    profiles.remember("work", "Alex Morgan (extension 101)")
    FileStore("ci").save(make_session(server="https://rc.example", access_token="AT-profiles-1"))
    assert profiles.names() == {"work", "ci"}
    profiles.forget("work")
    assert profiles.names() == {"ci"}
