"""Signals during a sign-in or sign-out, in process (issue 20, invariant 3): Ctrl-C, SIGTERM and SIGHUP
are held from the token request that makes a grant until the session is stored (or revoked, if it
cannot be), and from a logout's revocation until the session is removed; then they do what they
would have done. The signal is sent from inside the mocked HTTP exchange, so it arrives exactly
while the request is in flight. The library puts back the handlers it found, and on a thread other
than the main one (where Python cannot install handlers) it holds nothing and still signs in.

The same rows against real processes: tests/reliability/test_signal_catalogue.py.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests_mock
from helpers import token_answer

from rcauth import flow, interrupts, login_logout
from rcauth.config import Settings
from rcauth.errors import StorageUnavailable, Terminated
from rcauth.session import Session
from rcauth.store import MemoryStore

SERVER = "https://platform.ringcentral.com"
TOKEN_URL = SERVER + "/restapi/oauth/token"
REVOKE_URL = SERVER + "/restapi/oauth/revoke"
SETTINGS = Settings("cid", "sec", SERVER, "http://127.0.0.1:5000/oauth2callback")
JWT = "eyJ.jwt.credential"
SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def answer(number: int) -> dict[str, Any]:
    return token_answer(f"AT-{number}", f"RT-{number}", owner_id="101")


@pytest.fixture
def events() -> Iterator[list[tuple[str, object]]]:
    """What happened, in order; every signal of SIGNALS is recorded here instead of acting, and the
    handlers found before are put back afterwards."""
    happened: list[tuple[str, object]] = []

    def record(signum: int, frame: object) -> None:
        happened.append(("signal", signal.Signals(signum).name))

    previous = {name: signal.signal(getattr(signal, name), record) for name in SIGNALS}
    try:
        yield happened
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)


def signalling(name: str, events: list, body: Any = None, text: str | None = None) -> Callable[..., Any]:
    """A requests-mock answer that sends `name` to this process while the request is in flight."""

    def respond(request: Any, context: Any) -> Any:
        os.kill(os.getpid(), getattr(signal, name))
        events.append(("answered", request.url.rsplit("/", 1)[1]))
        return body if text is None else text

    return respond


@pytest.mark.parametrize("name", SIGNALS)
def test_a_signal_during_the_exchange_is_held_until_the_session_is_stored(events, name) -> None:
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=signalling(name, events, answer(1)))
        session = flow.login(SETTINGS, flow.Jwt(JWT), save=lambda s: events.append(("saved", s.access_token)))
    assert session.access_token == "AT-1"
    assert events == [("answered", "token"), ("saved", "AT-1"), ("signal", name)]
    assert signal.getsignal(getattr(signal, name)) is not signal.SIG_DFL  # the test's own, put back


@pytest.mark.parametrize("name", SIGNALS)
def test_a_signal_during_the_exchange_of_a_session_that_cannot_be_stored_waits_for_its_revocation(
    events, name
) -> None:
    def refuse(session: Session) -> None:
        raise StorageUnavailable("the disk is full")

    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=signalling(name, events, answer(1)))
        m.post(REVOKE_URL, text=lambda request, context: events.append(("revoked", request.text)) or "")
        with pytest.raises(StorageUnavailable):
            flow.login(SETTINGS, flow.Jwt(JWT), save=refuse)
    assert events == [("answered", "token"), ("revoked", "token=RT-1"), ("signal", name)]


def test_ctrl_c_during_a_new_sign_in_still_revokes_the_session_it_replaced() -> None:
    """Python's own Ctrl-C: held through the exchange and the store, then raised as KeyboardInterrupt;
    the session the new one replaced is revoked before it goes up, as it is gone from this machine."""
    store = MemoryStore()
    store.save(Session.from_token_response(answer(0), server=SERVER, client_id="cid", client_secret="sec"))
    events: list[tuple[str, object]] = []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=signalling("SIGINT", events, answer(1)))
        m.post(REVOKE_URL, text="")
        with pytest.raises(KeyboardInterrupt):
            login_logout.login(SETTINGS, flow.Jwt(JWT), store)
    stored = store.load()
    assert stored is not None and stored.access_token == "AT-1"
    assert [parse_qs(r.text)["token"] for r in m.request_history if r.url == REVOKE_URL] == [["RT-0"]]


@pytest.mark.parametrize("name", SIGNALS)
def test_a_signal_during_a_logouts_revocation_waits_until_the_session_is_removed(events, name) -> None:
    store = MemoryStore()
    store.save(Session.from_token_response(answer(0), server=SERVER, client_id="cid", client_secret="sec"))
    with requests_mock.Mocker() as m:
        m.post(REVOKE_URL, text=signalling(name, events, text=""))
        logged_out = login_logout.logout(store)
    assert logged_out.revoked
    assert events == [("answered", "revoke"), ("signal", name)]
    assert store.load() is None


def test_off_the_main_thread_a_sign_in_holds_nothing_and_still_signs_in() -> None:
    """Python installs signal handlers only from the main thread: there a sign-in holds signals; on
    another thread it must not try (that raises ValueError) and must still complete."""
    saved: list[Session] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            flow.login(SETTINGS, flow.Jwt(JWT), save=saved.append)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            failures.append(exc)

    before = {name: signal.getsignal(getattr(signal, name)) for name in SIGNALS}
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=answer(1))
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(30)
    assert failures == [] and [s.access_token for s in saved] == ["AT-1"]
    assert {name: signal.getsignal(getattr(signal, name)) for name in SIGNALS} == before


@pytest.fixture
def default_handlers() -> Iterator[None]:
    previous = {name: signal.signal(getattr(signal, name), signal.SIG_DFL) for name in ("SIGTERM", "SIGHUP")}
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)


def test_the_program_turns_sigterm_and_sighup_into_terminated_but_keeps_an_ignored_one_ignored(
    default_handlers,
) -> None:
    """`rcauth.cli.main` calls `exit_on_termination`: a SIGHUP inherited ignored (`nohup`) stays so."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    interrupts.exit_on_termination()
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Python's own, untouched
    with pytest.raises(Terminated) as caught:
        os.kill(os.getpid(), signal.SIGTERM)
    assert (caught.value.name, caught.value.exit_code) == ("SIGTERM", 143)


def test_the_library_leaves_sigterm_at_its_default_after_a_sign_in(default_handlers) -> None:
    """Holding is temporary: after the sign-in the program's handlers are what they were."""
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=answer(1))
        flow.login(SETTINGS, flow.Jwt(JWT), save=lambda s: None)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL


def test_a_program_that_calls_the_cli_keeps_its_own_signal_handlers(default_handlers) -> None:
    """Only `rcauth.cli.main` (the `rcauth` program) takes SIGTERM and SIGHUP over."""
    from cli_runner import cli_runner

    from rcauth.cli import cli

    result = cli_runner().invoke(cli, ["profiles"])
    assert result.exit_code == 0, result.output
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL
