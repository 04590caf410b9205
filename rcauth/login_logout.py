"""Logging in as `rcauth login` and `rcauth.login()` both do (`login`), and out (`logout`).

`login` takes the settings, the way in (`flow.Browser`, `flow.Paste`, `flow.Jwt`) and the store, and
is the whole of a sign-in; the command and the Python API differ only in what they tell the user
(the callbacks it takes, and what they make of what it returns). The rules, in one place:

- the store and the directories the login needs are checked before a grant is made (a grant this
  machine could not keep would hold one of RingCentral's concurrent-session places until it expired);
- the new session is stored under the profile's refresh lock, so a refresh in flight in another
  process stores its pair first and is then replaced, never the other way round;
- the session it replaces (what the store holds at that moment, not at the start) is revoked
  afterwards: RingCentral limits parallel sessions per user and app, and a replaced session nobody
  can use any more should not hold a place. When RingCentral gives no verdict on that revocation (it
  cannot be reached, a proxy answers in its place), the grant may stay live with nothing left on this
  machine to end it: the caller is told (`warn`), never silently;
- who signed in is read with the new session and kept in the profile index (`rcauth profiles`); a
  failure there leaves the sign-in made, and is returned for the caller to mention.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from rcauth import flow, interrupts, profiles, resources
from rcauth.client import ApiClient, WaitCallback
from rcauth.config import Settings
from rcauth.errors import (
    KeyringUnreachable,
    OAuthError,
    RcauthError,
    StorageUnavailable,
    StoredSessionDamaged,
)
from rcauth.oauth import RingCentralOAuth, grant_of, revoke_session
from rcauth.session import Session
from rcauth.store import (
    FileStore,
    SessionStore,
    check_login_dirs,
    refresh_lock,
    session_file_not_read,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoggedIn:
    """What a sign-in made: the stored session, and who it belongs to (`resources.describe_user`,
    e.g. "Alex Doe (extension 101, alex@example.com)"), or, when that could not be read, why
    (`user_error`: the sign-in stands all the same)."""

    session: Session
    user: str | None
    user_error: RcauthError | None = None


def login(
    settings: Settings,
    way: flow.WayIn,
    store: SessionStore,
    *,
    announce: flow.Announce | None = None,
    on_wait: WaitCallback | None = None,
    warn: Callable[[str], object] | None = None,
    oauth: RingCentralOAuth | None = None,
) -> LoggedIn:
    """Sign in `way` and store the session for `store`'s profile, replacing (and revoking) the one
    stored; then read who signed in and list the profile with it.

    Args:
        settings: the app and server to sign in to (`rcauth.config.resolve`).
        way: `flow.Browser(...)`, `flow.Paste(read_redirect)` or `flow.Jwt(assertion)`.
        store: where the session goes (`rcauth.store.open_store(profile)`); its profile names the
            refresh lock and the profile index entry.
        announce: given the sign-in URL (browser and paste), for the user to open.
        on_wait: told of a rate-limit wait while reading who signed in (`ApiClient`'s).
        warn: given a sentence the user should read: a replaced session RingCentral could not be
            told to end (it stays valid there until it expires). Default: the `rcauth` log.
        oauth: the OAuth client to use (tests); default: one for `settings`.

    Returns:
        `LoggedIn`: the new session, stored, and who it belongs to.

    Raises:
        StorageUnavailable: the store, a directory or the lock file cannot be used (before any grant
            is made), or the store refused the session (the grant is then revoked by the flow).
        LoginFailed, PortInUse, TransportError, ConfigError: from the login itself.
    """
    store.probe()
    profile = store.profile
    check_login_dirs(profile, session_file=store.kind == "file")
    replaced: list[Session] = []

    def save(session: Session) -> None:
        with refresh_lock(profile):
            try:
                old = store.load()
            except StoredSessionDamaged as exc:
                old = exc.recovered  # overwritten here; the grant it still names is revoked below
            except KeyringUnreachable:
                old = None  # the new session goes to the file; what the keyring holds stays there
                (warn or log.warning)(
                    "the keyring could not be read, so a session it may hold for this profile was not "
                    "ended; `rcauth logout --insecure-storage` once it can be read ends both"
                )
            left_in_file = session_file_not_read(store)
            store.save(session)
            # A session an earlier `--insecure-storage` sign-in left in the 0600 file is this
            # profile's too: replaced like the keyring's, so no live grant stays behind in plain text.
            earlier = [
                old,
                _take_from_file(left_in_file, warn) if left_in_file is not None else None,
                _take_shadowed(store, warn),
            ]
        replaced.extend(e for e in earlier if e is not None and grant_of(e) != grant_of(session))

    try:
        session = flow.login(settings, way, save=save, announce=announce, oauth=oauth)
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
                        (warn or log.warning)(
                            f"could not revoke the session this sign-in replaced at {old.server} ({exc}); "
                            "it stays valid at RingCentral until it expires"
                        )
    user: str | None = None
    user_error: RcauthError | None = None
    try:
        with ApiClient(store, profile=profile, on_wait=on_wait) as api:
            user = resources.describe_user(resources.extension_info(api))
    except RcauthError as exc:
        user_error = exc
    profiles.remember(profile, user)  # `rcauth profiles` lists it, with whom it belongs to if known
    return LoggedIn(session, user, user_error)


@dataclass(frozen=True)
class LoggedOut:
    """What `logout` did, for the caller to tell: nothing was stored, a damaged entry was removed
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


def _take_shadowed(store: SessionStore, warn: Callable[[str], object] | None) -> Session | None:
    """The older of two sessions the keyring and the file held (`KeyringOrFile.shadowed`), removed
    from its store for the caller to revoke."""
    remove = getattr(store, "remove_shadowed", None)
    if remove is None:
        return None
    try:
        return remove()
    except StorageUnavailable as exc:
        (warn or log.warning)(f"{exc}; the older session kept there was left there")
        return None


def _take_from_file(file: FileStore, warn: Callable[[str], object] | None) -> Session | None:
    """Remove the session file once the profile's new session is stored elsewhere; the session it
    held (the grant a damaged one still names), for the caller to revoke."""
    try:
        try:
            earlier = file.load()
        except StoredSessionDamaged as exc:
            earlier = exc.recovered
        file.delete()
    except StorageUnavailable as exc:
        (warn or log.warning)(f"{exc}; the session in {file.path} was left there")
        return None
    return earlier


def logout(store: SessionStore, *, forget: bool = False) -> LoggedOut:
    """Revoke the stored session at RingCentral (every token of it) and remove it from `store`; and
    the session an earlier `--insecure-storage` sign-in left in the 0600 file, which `store` does not
    read without that consent (`store.session_file_not_read`): signing out ends the profile's
    sessions wherever rcauth kept them. What is said is the keyring's session's outcome, or the
    file's when the keyring held none or the file's had to be kept."""
    left = session_file_not_read(store)
    result = _logout(store, forget=forget)
    if left is None or result.kept:
        return result
    in_file = _logout(left, forget=forget)
    return in_file if in_file.kept or not result.removed else result


def _logout(store: SessionStore, *, forget: bool) -> LoggedOut:
    """`logout` for one store.

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
        recovered = exc.recovered
        server = getattr(recovered, "server", None)
        with interrupts.deferred():  # as below: revoked and removed, or neither
            # A damaged entry that still names a grant is that grant's only means of being ended: like
            # an intact session, it is removed only once RingCentral has said its word.
            error, keep = _revoke(recovered, forget=forget) if recovered is not None else (None, False)
            if keep:
                return LoggedOut(server=server, revoke_error=error, damaged=True, kept=True)
            store.delete()
        revoked = recovered is not None and error is None
        return LoggedOut(server=server, revoked=revoked, revoke_error=error, damaged=True)
    if session is None:
        return LoggedOut()
    unchecked = getattr(store, "keyring_error", None)
    # A second session both stores held (the keyring's, left there by a sign-in made while it was
    # locked, or the file's): removed with the other, so it is ended first, under the same rule.
    shadowed = getattr(store, "shadowed", None)
    if shadowed is not None and grant_of(shadowed) != grant_of(session):
        with interrupts.deferred():
            error, keep = _revoke(shadowed, forget=forget)
        if keep:
            return LoggedOut(server=shadowed.server, revoke_error=error, unchecked=unchecked, kept=True)
    # Held from the revocation until the session is removed: a signal in between would leave a
    # stored session that RingCentral has ended, or (before the revocation is answered) one that
    # is live at RingCentral while the user was about to be told it is gone.
    with interrupts.deferred():
        error, keep = _revoke(session, forget=forget)
        if keep:
            return LoggedOut(server=session.server, revoke_error=error, unchecked=unchecked, kept=True)
        store.delete()
    return LoggedOut(server=session.server, revoked=error is None, revoke_error=error, unchecked=unchecked)


def _revoke(session: Session, *, forget: bool) -> tuple[RcauthError | None, bool]:
    """End `session` at RingCentral: (why it was not ended, or None; whether it must be kept). It is
    kept when RingCentral gave no verdict and the user did not ask to `forget` it."""
    try:
        revoke_session(session)
    except RcauthError as exc:
        return exc, ringcentral_did_not_answer(exc) and not forget
    return None, False
