"""Storing a new sign-in as `rcauth login` does, for the command and the Python API alike.

A login (browser, paste or JWT: `rcauth.flow`) yields a session; this module decides where it goes
and what it replaces. The rules, in one place so `rcauth.login()` cannot drift from `rcauth login`:

- the directories the login needs are checked before a grant is made (a grant this machine could
  not keep would hold one of RingCentral's concurrent-session places until it expired);
- the new session is stored under the profile's refresh lock, so a refresh in flight in another
  process stores its pair first and is then replaced, never the other way round;
- the session it replaces (what the store holds at that moment, not at the start) is revoked
  afterwards: RingCentral limits parallel sessions per user and app, and a replaced session nobody
  can use any more should not hold a place. When RingCentral gives no verdict on that revocation (it
  cannot be reached, a proxy answers in its place), the grant may stay live with nothing left on this
  machine to end it: the caller is told (`unrevoked`), never silently.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from rcauth import interrupts
from rcauth.errors import KeyringUnreachable, RcauthError, StoredSessionDamaged
from rcauth.oauth import OAuthError, grant_of, revoke_session
from rcauth.session import Session
from rcauth.store import SessionStore, check_login_dirs, refresh_lock

log = logging.getLogger(__name__)

Save = Callable[[Session], None]
Unrevoked = Callable[[Session, RcauthError], None]


def sign_in(
    profile: str,
    store: SessionStore,
    run: Callable[[Save], Session],
    *,
    shared: bool = True,
    unrevoked: Unrevoked | None = None,
) -> Session:
    """Run a login and store its session for `profile`, replacing (and revoking) the one stored.

    Args:
        profile: the profile the session is stored for (names the refresh lock).
        store: where the session goes (`rcauth.store.open_store(profile)`).
        run: the login itself, given the `save` callback to call with the new session, e.g.
            `lambda save: flow.login_with_jwt(settings, jwt, save=save)`.
        shared: False for a store of this process alone (the demo's memory store): no directory
            check, no lock file; nobody else can be refreshing it.
        unrevoked: called with a replaced session RingCentral could not be told to end, and why (it
            stays valid there until it expires); default: a warning in the `rcauth` log.

    Returns:
        The new session, stored.

    Raises:
        StorageUnavailable: a directory or the lock file cannot be used (before any grant is made),
            or the store refused the session (the grant is then revoked by the flow).
        LoginFailed, TransportError, ConfigError: from the login itself.
    """
    if shared:
        check_login_dirs(profile, session_file=getattr(store, "kind", "") == "file")
    with contextlib.suppress(StoredSessionDamaged, KeyringUnreachable):
        store.load()  # uses up the keyring probe's read: the load in `save` below reads the store afresh
    replaced: list[Session] = []

    def save(session: Session) -> None:
        with refresh_lock(profile) if shared else contextlib.nullcontext():
            try:
                old = store.load()
            except StoredSessionDamaged as exc:
                old = exc.recovered  # overwritten here; the grant it still names is revoked below
            except KeyringUnreachable:
                old = None  # the new session goes to the file; what the keyring holds stays there
            store.save(session)
        if old is not None and grant_of(old) != grant_of(session):
            replaced.append(old)

    try:
        return run(save)
    finally:
        # Also when a signal held through the sign-in ends it once the new session is stored: the
        # session it replaced is gone from this machine, so it is ended at RingCentral before the
        # process ends (the revocation is held against signals too).
        with interrupts.deferred():
            for old in replaced:
                try:
                    revoke_session(old)
                except RcauthError as exc:
                    if ringcentral_did_not_answer(exc):
                        (unrevoked or _log_unrevoked)(old, exc)


def _log_unrevoked(old: Session, exc: RcauthError) -> None:
    log.warning("could not revoke the session this sign-in replaced at %s (%s)", old.server, exc)


@dataclass(frozen=True)
class SignedOut:
    """What `sign_out` did, for the caller to tell: nothing was stored, a damaged entry was removed
    (and the grant it still named revoked, when one could be read from it), or a session was removed,
    revoked at RingCentral or not (`revoke_error` says why not). `unchecked`: the keyring could not
    be looked in (the session removed was the fallback file's), so it may still hold one."""

    server: str | None = None
    revoked: bool = False
    damaged: bool = False
    revoke_error: RcauthError | None = None
    unchecked: RcauthError | None = None
    kept: bool = False  # RingCentral could not be told: the session stays stored, live at both ends

    @property
    def removed(self) -> bool:
        return not self.kept and (self.damaged or self.server is not None)


def ringcentral_did_not_answer(exc: RcauthError) -> bool:
    """True when a revocation got no verdict from RingCentral (no connection, a proxy's page, a
    redirect to another host, a 5xx or a 429): the grant may well be live. Only an OAuth refusal (an
    OAuth error body in a 4xx) is a verdict: the grant is dead, or these credentials can never end it."""
    if not isinstance(exc, OAuthError):
        return True  # unreachable, a proxy's or portal's page, a redirect elsewhere: no verdict at all
    status = getattr(exc, "status", None)
    return isinstance(status, int) and (status >= 500 or status == 429)


def sign_out(store: SessionStore, *, forget: bool = False) -> SignedOut:
    """Revoke the stored session at RingCentral (every token of it) and remove it from `store`.

    When RingCentral cannot be told (unreachable, a proxy answering in its place, a 5xx), the session
    is kept (`kept`): removed, it would stay valid at RingCentral for up to a week with nothing left
    to end it. `forget` removes it anyway, for a user who would rather lose the means to end it than
    leave it on this machine. When RingCentral refuses the revocation (an OAuth error), the session
    is removed: its answer is final. The caller holds the profile's refresh lock where other processes
    share the store (`rcauth logout`), so no refresh in flight can store the session again afterwards.
    """
    try:
        session = store.load()
    except StoredSessionDamaged as exc:
        revoked = False
        with interrupts.deferred():  # as below: revoked and removed, or neither
            if exc.recovered is not None:
                with contextlib.suppress(RcauthError):
                    revoke_session(exc.recovered)
                    revoked = True
            store.delete()
        return SignedOut(server=getattr(exc.recovered, "server", None), revoked=revoked, damaged=True)
    if session is None:
        return SignedOut()
    unchecked = getattr(store, "keyring_error", None)
    # Held from the revocation until the session is removed: a signal in between would leave a
    # stored session that RingCentral has ended, or (before the revocation is answered) one that
    # is live at RingCentral while the user was about to be told it is gone.
    with interrupts.deferred():
        try:
            revoke_session(session)
        except RcauthError as exc:
            if ringcentral_did_not_answer(exc) and not forget:
                return SignedOut(server=session.server, revoke_error=exc, unchecked=unchecked, kept=True)
            store.delete()
            return SignedOut(server=session.server, revoke_error=exc, unchecked=unchecked)
        store.delete()
    return SignedOut(server=session.server, revoked=True, unchecked=unchecked)
