"""What the contract tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    """A session for the emulator on loopback that a proxy in the environment never sees."""
    with requests.Session() as session:
        session.trust_env = False
        yield session
