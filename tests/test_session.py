from __future__ import annotations

import dataclasses
import json

import pytest

from rcauth.errors import StoredSessionDamaged
from rcauth.session import Session

TOKEN = {
    "access_token": "AT-1",
    "token_type": "bearer",
    "expires_in": 3599,
    "refresh_token": "RT-1",
    "refresh_token_expires_in": 604799,
    "scope": "ReadAccounts ReadCallLog",
    "owner_id": 101,
}


def make(**overrides) -> Session:
    return Session.from_token_response(
        {**TOKEN, **overrides},
        server="https://s.example.com",
        client_id="cid",
        client_secret="sec",
        now=1000.0,
    )


def test_expiry_is_stored_absolute_from_expires_in() -> None:
    session = make()
    assert session.access_expires_at == 1000.0 + 3599
    assert session.refresh_expires_at == 1000.0 + 604799
    assert session.owner_id == "101" and session.scope == "ReadAccounts ReadCallLog"


def test_access_expires_within_margin() -> None:
    session = make(expires_in=100)
    assert not session.access_expires_within(60, now=1000.0)
    assert session.access_expires_within(60, now=1041.0)


def test_json_round_trip_keeps_every_field() -> None:
    session = make()
    assert Session.from_json(session.to_json()) == session


def test_refreshed_session_keeps_owner_and_creation_time() -> None:
    first = make()
    second = Session.from_token_response(
        {**TOKEN, "access_token": "AT-2", "owner_id": None},
        server=first.server,
        client_id="cid",
        client_secret="sec",
        now=2000.0,
        previous=first,
    )
    assert second.owner_id == "101" and second.created_at == 1000.0 and second.refreshed_at == 2000.0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"version": 99}), "unknown version"),
        (json.dumps({"version": 1, "server": "x"}), "missing fields"),
    ],
)
def test_damaged_data_raises_a_clear_error_pointing_to_login(text: str, words: str) -> None:
    with pytest.raises(StoredSessionDamaged) as caught:
        Session.from_json(text)
    assert words in str(caught.value)
    assert "rcauth login" in (caught.value.hint or "")


@pytest.mark.parametrize(
    "server",
    [
        "http://platform.example.com",
        "ftp://127.0.0.1",
        "https://platform.ringcentral.com/steal?x=1",
        "https://",
    ],
)
def test_a_stored_server_login_would_refuse_is_damage_not_a_destination(server: str) -> None:
    """Tokens go to the stored server: an entry edited to send them over plain http to another host
    (or anywhere login would not) is refused on load, as login refuses it."""
    good = Session.from_token_response(
        {"access_token": "AT", "expires_in": 3600, "refresh_token": "RT", "refresh_token_expires_in": 86400},
        server="https://platform.ringcentral.com",
        client_id="cid",
        client_secret=None,
    )
    assert Session.from_json(good.to_json()) == good
    assert Session.from_json(dataclasses.replace(good, server="http://127.0.0.1:8080").to_json()).server
    with pytest.raises(StoredSessionDamaged) as caught:
        Session.from_json(dataclasses.replace(good, server=server).to_json())
    assert "malformed fields: server" in str(caught.value)


# -- issue 10 §7: the refresh margin's boundary ----------------------------------------------------------
def test_exactly_the_margin_left_counts_as_expiring() -> None:
    session = make(expires_in=60)  # expires at 1060.0
    assert session.access_expires_within(60, now=1000.0)
    assert not session.access_expires_within(60, now=999.999)
    assert session.access_expires_within(60, now=1000.001)


def test_an_expired_token_is_expiring_whatever_the_margin() -> None:
    session = make(expires_in=60)
    assert session.access_expires_within(0, now=1060.0)
    assert session.access_expires_within(0, now=2000.0)
    assert not session.access_expires_within(0, now=1059.9)


def test_the_refresh_token_expires_at_its_time_or_when_there_is_none() -> None:
    session = make()  # the refresh token expires at 1000 + 604799
    assert not session.refresh_expired(now=1000.0 + 604798.9)
    assert session.refresh_expired(now=1000.0 + 604799)
    assert make(refresh_token=None).refresh_expired(now=0.0)
    assert not make(refresh_token_expires_in=None).refresh_expired(now=1e12)  # no expiry given: usable


def test_a_refreshed_session_keeps_its_creation_time_and_notes_the_refresh() -> None:
    first = make()
    second = Session.from_token_response(
        {**TOKEN, "access_token": "AT-2", "owner_id": None},
        server=first.server,
        client_id="cid",
        client_secret="sec",
        now=5000.0,
        previous=first,
    )
    assert (second.created_at, second.refreshed_at, second.owner_id) == (1000.0, 5000.0, "101")
    assert (first.created_at, first.refreshed_at) == (1000.0, None)


@pytest.mark.parametrize(
    "token", [{"expires_in": 3600}, {"access_token": "AT"}, {"access_token": "AT", "expires_in": "x"}]
)
def test_a_token_answer_without_a_usable_access_token_or_expiry_is_an_api_error(token: dict) -> None:
    from rcauth.errors import ApiError

    with pytest.raises(ApiError):
        Session.from_token_response(token, server="https://s.example.com", client_id="c", client_secret=None)


def test_a_scope_list_and_a_missing_token_type_are_normalised() -> None:
    session = make(scope=["ReadAccounts", "ReadCallLog"], token_type=None)
    assert (session.scope, session.token_type) == ("ReadAccounts ReadCallLog", "bearer")
    assert make(scope=None).scope == ""


def test_a_refresh_answer_without_a_scope_keeps_the_sessions_scope() -> None:
    # RFC 6749 §5.1: `scope` may be left out when it is what was granted before.
    before = make()
    answer = {k: v for k, v in TOKEN.items() if k != "scope"}
    after = Session.from_token_response(
        answer, server=before.server, client_id="cid", client_secret="sec", now=2000.0, previous=before
    )
    assert after.scope == "ReadAccounts ReadCallLog"
    assert make(scope=None).scope == ""  # a first grant without one has none


def test_a_token_answer_keeps_the_apps_secret_and_its_own_token_type() -> None:
    session = make(token_type="Bearer")
    assert (session.client_id, session.client_secret, session.token_type) == ("cid", "sec", "Bearer")
    assert session.server == "https://s.example.com"


def test_an_answer_without_a_refresh_token_stores_none_not_a_string() -> None:
    session = make(refresh_token=None)
    assert (session.refresh_token, session.refresh_expires_at) == (None, None)
    assert make(refresh_token_expires_in=None).refresh_expires_at is None
    assert make(owner_id=None).owner_id == ""


DAMAGED_FIELDS = [
    ("access_token", ""),
    ("access_token", None),
    ("client_id", 7),
    ("access_expires_at", "soon"),
    ("access_expires_at", True),
    ("access_expires_at", float("inf")),
    ("access_expires_at", float("nan")),
    ("refresh_expires_at", "never"),
    ("refresh_token", ""),
    ("created_at", None),
    ("scope", 1),
]


def _malformed(field: str, value: object) -> StoredSessionDamaged:
    """The error for a stored session whose `field` holds `value`, after checking it names the field."""
    data = json.loads(make().to_json())
    data[field] = value
    with pytest.raises(StoredSessionDamaged) as caught:
        Session.from_json(json.dumps(data))
    assert str(caught.value) == f"the stored session has malformed fields: {field}"
    return caught.value


@pytest.mark.parametrize(("field", "value"), DAMAGED_FIELDS)
def test_a_malformed_stored_field_is_damage_with_the_login_hint(field: str, value: object) -> None:
    caught = _malformed(field, value)
    assert caught.hint == "run `rcauth login` to sign in again (it overwrites the damaged entry)"


def test_missing_stored_fields_are_named() -> None:
    data = json.loads(make().to_json())
    del data["access_token"], data["client_id"], data["scope"]  # scope has a default: not missing
    with pytest.raises(StoredSessionDamaged) as caught:
        Session.from_json(json.dumps(data))
    assert str(caught.value) == "the stored session is missing fields: access_token, client_id"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "the stored session is not valid JSON"),
        ("[1, 2]", "the stored session is not a JSON object"),
    ],
)
def test_unreadable_stored_data_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(StoredSessionDamaged) as caught:
        Session.from_json(text)
    assert str(caught.value) == message


def test_every_malformed_stored_field_is_named() -> None:
    data = json.loads(make().to_json())
    data["client_id"], data["access_token"] = "", 5
    with pytest.raises(StoredSessionDamaged) as caught:
        Session.from_json(json.dumps(data))
    assert str(caught.value) == "the stored session has malformed fields: access_token, client_id"


# -- mutation testing: what the surviving mutants of session.py showed unpinned --------------------------
def _validated(**fields: object) -> dict:
    from rcauth.session import validated_token

    return validated_token({"access_token": "AT", "expires_in": 3600, **fields})


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (["AT"], "it is not a JSON object"),
        ({"access_token": "A T", "expires_in": 3600}, "its access_token has characters a token cannot have"),
        ({"access_token": "AT"}, "it has no expires_in"),
        ({"access_token": "AT", "expires_in": "soon"}, "its expires_in is not a number"),
        ({"access_token": "AT", "expires_in": 0}, "its expires_in is not a positive number of seconds"),
        ({"access_token": "AT", "expires_in": 60, "refresh_token": 7}, "its refresh_token is not a token"),
        (
            {"access_token": "AT", "expires_in": 60, "refresh_token": "R T"},
            "its refresh_token is not a token",
        ),
        (
            {"access_token": "AT", "expires_in": 60, "refresh_token": "RT", "refresh_token_expires_in": "x"},
            "its refresh_token_expires_in is not a number",
        ),
    ],
)
def test_an_unusable_token_answer_says_what_is_wrong_with_it(answer: object, reason: str) -> None:
    from rcauth.errors import UnexpectedAnswer
    from rcauth.session import validated_token

    with pytest.raises(UnexpectedAnswer) as caught:
        validated_token(answer)
    assert str(caught.value) == f"the token endpoint's answer is not usable: {reason}"


@pytest.mark.parametrize("lifetime", [1, 0.5, "1"])
def test_any_positive_lifetime_is_accepted_however_short(lifetime: object) -> None:
    assert _validated(expires_in=lifetime)["expires_in"] == float(lifetime)
    session = make(expires_in=lifetime)
    assert session.access_expires_at == 1000.0 + float(lifetime)


@pytest.mark.parametrize("answer", [{}, {"refresh_token": ""}, {"refresh_token": None}])
def test_an_answer_without_a_refresh_token_makes_a_session_without_one(answer: dict) -> None:
    """An app whose "Issue refresh tokens" setting is off: no key, an empty one or null. Stored as
    None (an empty string would read as damage on the next load)."""
    token = {"access_token": "AT", "expires_in": 3600, **answer}
    session = Session.from_token_response(
        token, server="https://s.example.com", client_id="c", client_secret=None
    )
    assert (session.refresh_token, session.refresh_expires_at) == (None, None)
    assert Session.from_json(session.to_json()) == session


@pytest.mark.parametrize("refresh_token", [None, ""])
def test_an_answer_without_a_refresh_token_hands_on_no_refresh_lifetime(refresh_token: object) -> None:
    """What `validated_token` returns is what oauthlib is given: only checked fields, so a lifetime
    of a refresh token that is not there is dropped rather than handed on unchecked."""
    checked = _validated(refresh_token=refresh_token, refresh_token_expires_in="soon")
    assert "refresh_token" not in checked and "refresh_token_expires_in" not in checked
    assert checked == {"access_token": "AT", "expires_in": 3600.0}


# `status` and every command warn a day before the refresh token ends (REFRESH_ENDING_NOTICE).
@pytest.mark.parametrize(
    ("left", "ending"),
    [(86_400.0, True), (86_400.001, False), (0.5, True), (0.0, False), (-5.0, False)],
)
def test_a_refresh_token_ends_within_a_day_only_while_it_is_still_alive(left: float, ending: bool) -> None:
    session = make()  # the refresh token expires at 1000 + 604799
    end = 1000.0 + 604799
    assert session.refresh_ends_within(86_400.0, now=end - left) is ending


def test_a_session_without_a_refresh_token_or_its_expiry_never_warns_of_its_end() -> None:
    ending_soon = make(refresh_token_expires_in=60)
    assert ending_soon.refresh_ends_within(86_400.0, now=1000.0)
    for ending_never in (
        dataclasses.replace(ending_soon, refresh_token=None),
        dataclasses.replace(ending_soon, refresh_expires_at=None),
    ):
        assert not ending_never.refresh_ends_within(86_400.0, now=1000.0)


def test_the_refresh_token_end_is_measured_from_now_by_default() -> None:
    import time

    alive = dataclasses.replace(make(), refresh_expires_at=time.time() + 3600)
    assert alive.refresh_ends_within(86_400.0)
    assert not alive.refresh_ends_within(60.0)
    assert not make().refresh_ends_within(86_400.0 * 365)  # ended long ago (at 1000 + 604799)


# -- issue 20: a damaged entry that still names a grant hands it over to be revoked ----------------------
STORED = Session(
    server="https://platform.ringcentral.com",
    client_id="recovery-cid",
    client_secret="recovery-secret-1",
    access_token="AT-recovery-1",
    access_expires_at=2e9,
    refresh_token="RT-recovery-1",
    refresh_expires_at=2e9,
    scope="ReadAccounts",
    owner_id="7",
    created_at=5.0,
)
GONE = object()  # a key removed from the stored entry


def _damaged(**changes: object) -> StoredSessionDamaged:
    data = {**json.loads(STORED.to_json()), **changes}
    text = json.dumps({k: v for k, v in data.items() if v is not GONE})
    with pytest.raises(StoredSessionDamaged) as caught:
        Session.from_json(text)
    return caught.value


def _grant(**changes: object) -> Session:
    """What a recovered grant holds: where, which app, which tokens; nothing that would let it be used."""
    fields = {
        "server": STORED.server,
        "client_id": STORED.client_id,
        "client_secret": STORED.client_secret,
        "access_token": STORED.access_token,
        "access_expires_at": 0.0,
        "refresh_token": STORED.refresh_token,
        "refresh_expires_at": None,
    }
    return Session(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "damage",
    [{"version": 2}, {"access_expires_at": GONE}, {"scope": 1}],
    ids=["unknown version", "missing field", "malformed field"],
)
def test_a_damaged_entry_hands_over_its_server_app_and_tokens_and_nothing_else(damage: dict) -> None:
    assert _damaged(**damage).recovered == _grant()


@pytest.mark.parametrize(
    ("changes", "grant"),
    [
        ({"refresh_token": 42}, {"refresh_token": None}),
        ({"refresh_token": "has space", "version": 2}, {"refresh_token": None}),
        ({"refresh_token": None, "version": 2}, {"refresh_token": None}),
        ({"access_token": ""}, {"access_token": ""}),
        ({"access_token": 5}, {"access_token": ""}),
        ({"access_token": "tab\tinside", "version": 2}, {"access_token": ""}),
        ({"client_secret": None, "version": 2}, {"client_secret": None}),
    ],
)
def test_a_damaged_entry_hands_over_only_the_well_formed_tokens_it_names(changes: dict, grant: dict) -> None:
    assert _damaged(**changes).recovered == _grant(**grant)


@pytest.mark.parametrize(
    "changes",
    [
        {"access_token": "", "refresh_token": "has space"},  # "" is damage itself
        {"access_token": GONE, "refresh_token": GONE},
        {"client_id": ""},
        {"client_id": 7},
        {"client_id": GONE},
        {"client_secret": 42},
        {"server": "http://platform.ringcentral.com"},
        {"server": ""},
        {"server": 5},
        {"server": GONE},
    ],
)
def test_a_damaged_entry_without_a_token_an_app_or_a_server_login_accepts_hands_over_nothing(
    changes: dict,
) -> None:
    assert _damaged(**changes).recovered is None


def test_a_recovered_grant_is_masked_in_any_later_output_with_its_apps_basic_credential() -> None:
    import base64

    from rcauth import redact

    _damaged(version=2)
    basic = base64.b64encode(b"recovery-cid:recovery-secret-1").decode()
    said = f"{STORED.access_token} {STORED.refresh_token} {STORED.client_secret} echoed {basic}"
    assert redact.redact(said) == "*** *** *** echoed ***"


# -- what goes into a header or a URL is held on load to the rule a token answer is held to ------------
HEADER_OR_URL_DAMAGE = [
    ("access_token", "AT-stored-1\n"),
    ("access_token", "AT-stored-1\r\nX-Injected: 1"),
    ("access_token", "AT stored 1"),
    ("access_token", "AT-\x00-stored-1"),
    ("access_token", "AT-\u00e9-stored-1"),
    ("refresh_token", "RT-stored-1\n"),
    ("refresh_token", "RT\tstored-1"),
    ("token_type", "bearer\n"),
    ("token_type", "bear er"),
    ("token_type", ""),
    ("client_id", "cid\n"),
    ("client_id", "cid\x7f"),
    ("client_secret", "sec\r\n"),
    ("client_secret", "s\u00e9c"),
    ("server", "https://platform.ringcentral.com\n"),
    ("server", "https://platform.ringcentral.com/\x00"),
    ("server", "https://platform.ring\tcentral.com"),
]


@pytest.mark.parametrize(("field", "value"), HEADER_OR_URL_DAMAGE)
def test_a_stored_value_that_could_not_go_into_a_header_or_url_is_damage(field: str, value: str) -> None:
    assert _malformed(field, value).exit_code == 6


@pytest.mark.parametrize("token_type", ["bearer\n", "bear er", 5, ["bearer"]])
def test_a_token_type_that_could_not_go_into_a_header_is_an_unusable_answer(token_type: object) -> None:
    from rcauth.errors import UnexpectedAnswer

    with pytest.raises(UnexpectedAnswer) as caught:
        make(token_type=token_type)
    said = "the token endpoint's answer is not usable: its token_type is not a token type"
    assert str(caught.value) == said


@pytest.mark.parametrize("token_type", ["bearer", "Bearer", "", None])
@pytest.mark.parametrize("client_secret", [None, "sec", "a secret with spaces ~!"])
def test_a_session_made_from_a_usable_answer_always_reads_back(
    token_type: object, client_secret: str | None
) -> None:
    """What `validated_token` lets through is what `from_json` accepts: never a session stored by a
    sign-in that its next load calls damaged."""
    session = Session.from_token_response(
        {**TOKEN, "token_type": token_type},
        server="https://s.example.com",
        client_id="an app id",
        client_secret=client_secret,
        now=1000.0,
    )
    assert Session.from_json(session.to_json()) == session


def test_a_stored_token_with_a_line_break_is_damage_to_every_command_and_never_shown() -> None:
    """A keyring entry whose access token gained a trailing line break: every command says the entry
    is damaged (exit 6), `rcauth token` prints nothing, `doctor` calls it a problem; before, `token`
    printed it and every API command failed with 'unexpected error: ValueError' showing it."""
    from cli_runner import cli_runner
    from helpers import save_session

    from rcauth import diagnose
    from rcauth.cli import cli
    from rcauth.diagnose import Status

    save_session(access_token="AT-stored-line-1\n")
    runner = cli_runner()
    for command in (["token"], ["token", "--json"], ["whoami"], ["status"], ["api", "GET", "/restapi/v1.0"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 6, (command, result.stderr)
        assert "the stored session has malformed fields: access_token" in result.stderr, command
        assert "AT-stored-line-1" not in result.stdout + result.stderr, command
    check = diagnose.check_session("default")
    assert check.status == Status.PROBLEM
    assert check.detail == "the stored session has malformed fields: access_token"


def test_the_library_refuses_a_stored_token_with_a_line_break_without_showing_it() -> None:
    from helpers import save_session

    import rcauth

    save_session(access_token="AT-stored-line-2\n")
    for call in (lambda: rcauth.Client().get("/restapi/v1.0/account/~"), rcauth.token):
        with pytest.raises(StoredSessionDamaged) as caught:
            call()
        assert "AT-stored-line-2" not in str(caught.value) + repr(caught.value)


def test_expiry_questions_asked_without_a_time_are_answered_for_now() -> None:
    """`now` defaults to the wall clock: what a caller of the library asks without passing one."""
    import time

    session = dataclasses.replace(STORED, access_expires_at=time.time() + 3600, refresh_expires_at=None)
    assert not session.access_expires_within(60) and session.access_expires_within(7200)
    assert not session.refresh_expired()
    assert dataclasses.replace(session, refresh_expires_at=time.time() - 1).refresh_expired()


# -- the media server a session was signed in with ------------------------------------------------------

MEDIA = "https://media.example.com"


def test_a_session_stored_before_media_servers_existed_loads_with_none() -> None:
    data = json.loads(make().to_json())
    del data["media_server"]
    session = Session.from_json(json.dumps(data))
    assert session.media_server is None and session == make()


def test_the_media_server_survives_storage_and_every_refresh() -> None:
    signed_in = Session.from_token_response(
        TOKEN, server="https://s.example.com", client_id="cid", client_secret="sec", media_server=MEDIA
    )
    stored = Session.from_json(signed_in.to_json())
    assert stored.media_server == MEDIA and stored == signed_in
    refreshed = Session.from_token_response(
        {**TOKEN, "access_token": "AT-2"},
        server=stored.server,
        client_id="cid",
        client_secret="sec",
        previous=stored,
    )
    assert refreshed.media_server == MEDIA


@pytest.mark.parametrize(
    "value",
    [
        7,
        "",
        "media.example.com",
        "http://media.example.com",  # plain http off loopback
        "https://user:pw@media.example.com",
        "https://media.example.com/restapi",
        "https://media.example.com\n",
    ],
)
def test_a_stored_media_server_login_would_refuse_is_damage(value: object) -> None:
    _malformed("media_server", value)


def test_a_stored_media_server_contradicting_productions_pair_is_damage_not_a_new_destination() -> None:
    data = json.loads(make().to_json())
    data["server"] = "https://platform.ringcentral.com"
    data["media_server"] = "https://evil.example"
    with pytest.raises(StoredSessionDamaged) as caught:
        Session.from_json(json.dumps(data))
    assert str(caught.value) == "the stored session has malformed fields: media_server"
    data["media_server"] = "https://media.ringcentral.com"
    assert Session.from_json(json.dumps(data)).media_server == "https://media.ringcentral.com"
