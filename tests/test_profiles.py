"""The profile index (`profiles.py`): names and display names only; the store says which sessions exist."""

from __future__ import annotations

from rcauth import profiles
from rcauth.session import Session
from rcauth.store import FileStore


def test_profile_names_are_the_index_and_the_file_stores_sessions() -> None:
    profiles.remember("work", "Alex Morgan (extension 101)")
    FileStore("ci").save(Session("https://rc.example", "cid", None, "AT-profiles-1", 0.0, None, None))
    assert profiles.names() == {"work", "ci"}
    profiles.forget("work")
    assert profiles.names() == {"ci"}
