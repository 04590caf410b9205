"""`rcauth.redact`: registered secrets and secret-carrying fields are masked in every text rcauth shows
or logs (error messages, --debug output, tracebacks)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from rcauth.redact import MASK, RedactingFilter, redact, register, register_client

TOKEN = "U0pDMTFQMDFQQVMwMHxBQUJ4c2VjcmV0"


def test_a_registered_token_echoed_in_an_error_message_is_masked() -> None:
    register(TOKEN)
    assert redact(f"Token {TOKEN} is invalid (OAU-213)") == f"Token {MASK} is invalid (OAU-213)"


def test_every_occurrence_of_every_registered_value_is_masked() -> None:
    register("first-secret", None, "", "second-secret")
    text = redact("first-secret / second-secret / first-secret")
    assert text == f"{MASK} / {MASK} / {MASK}"


def test_the_longest_secret_is_masked_first_so_no_tail_of_it_is_left() -> None:
    # A verifier that starts with a shorter registered value: masking the short one first would leave
    # the rest of the long one readable.
    register("abcdef", "abcdef-and-the-rest-of-it", "aabcdef-tail")  # longer, and sorted before or after
    assert redact("x abcdef-and-the-rest-of-it y") == f"x {MASK} y"
    assert redact("x aabcdef-tail y") == f"x {MASK} y"


def test_values_shorter_than_six_characters_are_not_registered() -> None:
    # Masking "sec" or "12345" would mangle ordinary words and numbers in every message.
    register("sec", "12345")
    assert redact("second 12345") == "second 12345"


def test_a_six_character_value_is_registered() -> None:
    register("s3cr3t")
    assert redact("the s3cr3t!") == f"the {MASK}!"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Authorization: Bearer U0pDMTFQ.abc-def", "Authorization: Bearer "),
        ("authorization=basic Y2lkOnNlYw==", "authorization=basic "),
        ("{'Authorization': 'Basic Y2lkOnNlY3JldA=='}", "{'Authorization': 'Basic "),
        ('{"AUTHORIZATION": "bearer tok.en-1"}', '{"AUTHORIZATION": "bearer '),
    ],
)
def test_authorization_headers_are_masked_in_any_dump(text: str, kept: str) -> None:
    masked = redact(text)
    assert masked.startswith(kept + MASK)
    assert "U0pDMTFQ" not in masked and "Y2lk" not in masked and "tok.en" not in masked


@pytest.mark.parametrize(
    "field",
    [
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "code_verifier",
        "code",
        "assertion",
        "token",
        "password",
        "ACCESS_TOKEN",
    ],
)
def test_secret_fields_in_form_bodies_and_query_strings_are_masked(field: str) -> None:
    text = f"grant_type=x&{field}=v4lue-0f-it&client_id=cid"
    assert redact(text) == f"grant_type=x&{field}={MASK}&client_id=cid"


@pytest.mark.parametrize(
    "field",
    [
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "code_verifier",
        "code",
        "assertion",
        "token",
    ],
)
def test_secret_fields_in_json_and_dict_reprs_are_masked(field: str) -> None:
    assert redact(f'{{"{field}": "v4lue-0f-it", "expires_in": 3600}}') == (
        f'{{"{field}": "{MASK}", "expires_in": 3600}}'
    )
    assert redact(f"{{'{field}' : 'v4lue-0f-it'}}") == f"{{'{field}' : '{MASK}'}}"


def test_text_without_secrets_is_left_as_it_is() -> None:
    text = "GET /restapi/v1.0/account/~/extension/~?perPage=100 -> 200 (owner_id=101, expires_in=3600)"
    assert redact(text) == text


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("rcauth.test_redact")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    try:
        yield log, out
    finally:
        log.removeHandler(handler)


def test_the_filter_masks_secrets_passed_as_log_arguments(logger) -> None:
    log, out = logger
    register(TOKEN)
    log.debug("sent %s with %r", f"Bearer {TOKEN}", {"refresh_token": "RT-abcdef-1"})
    text = out.getvalue()
    assert TOKEN not in text and "RT-abcdef-1" not in text
    assert text == f"sent Bearer {MASK} with {{'refresh_token': '{MASK}'}}\n"


def test_the_filter_formats_the_record_once_and_keeps_it(logger) -> None:
    _log, _out = logger
    record = logging.LogRecord("rcauth", logging.DEBUG, __file__, 1, "a %s b %d", ("x", 2), None)
    assert RedactingFilter().filter(record) is True
    assert (record.msg, record.args) == ("a x b 2", None)
    assert record.getMessage() == "a x b 2"


def test_the_filter_masks_secrets_in_a_logged_traceback(logger) -> None:
    log, out = logger
    register(TOKEN)
    try:
        raise RuntimeError(f"refused {TOKEN}")
    except RuntimeError:
        log.debug("failed", exc_info=True)
    text = out.getvalue()
    assert TOKEN not in text
    assert "Traceback" in text and f"RuntimeError: refused {MASK}" in text


def test_the_filter_drops_the_live_exception_after_rendering_it() -> None:
    register(TOKEN)
    try:
        raise ValueError(TOKEN)
    except ValueError as exc:
        record = logging.LogRecord(
            "rcauth", logging.DEBUG, __file__, 1, "boom", None, (ValueError, exc, None)
        )
    RedactingFilter().filter(record)
    # A handler would otherwise render the exception again, unmasked, from exc_info.
    assert record.exc_info is None
    assert record.exc_text is not None and TOKEN not in record.exc_text and MASK in record.exc_text


def test_the_basic_credential_of_a_registered_app_is_masked_wherever_it_is_echoed() -> None:
    """A server echoing the request's Authorization header (in an error description, say) shows
    base64(client_id:client_secret): that is the client secret, in another spelling."""
    register_client("my-client-id", "s3cret-of-the-app")
    import base64

    basic = base64.b64encode(b"my-client-id:s3cret-of-the-app").decode()
    assert redact(f"bad header {basic}!") == f"bad header {MASK}!"
    assert redact("client s3cret-of-the-app") == f"client {MASK}"


@pytest.mark.parametrize(
    "secret",
    ["s\u00e9cr\u00e8t-latin-1", "s\u20ac-not-latin-1", "\u79d8\u5bc6-cjk"],
)
def test_the_basic_credential_is_masked_in_every_encoding_a_client_may_send_it(secret: str) -> None:
    """requests sends Basic credentials in latin-1; a client that encodes them as UTF-8 (the only way to
    send a secret outside latin-1) sends another base64 of the same secret. Both are masked."""
    import base64

    register_client("app-id", secret)
    pair = f"app-id:{secret}"
    for encoding in ("latin-1", "utf-8"):
        try:
            basic = base64.b64encode(pair.encode(encoding)).decode()
        except UnicodeEncodeError:
            continue
        assert redact(f"echo: Authorization {basic} end") == f"echo: Authorization {MASK} end", encoding


def test_a_bearer_or_basic_credential_quoted_without_its_header_is_masked() -> None:
    assert (
        redact("you sent Basic dW5rbm93bjpzZWNyZXQtdmFsdWU= (HTTP 400)")
        == f"you sent Basic {MASK} (HTTP 400)"
    )
    assert redact("got bearer U0FNUExFLUFDQ0VTUy1UT0tFTi12YWx1ZQ") == f"got bearer {MASK}"
    assert redact("basic auth is not used") == "basic auth is not used"  # words, not credentials


def test_an_app_without_a_secret_registers_nothing() -> None:
    register_client("public-client-id-only", None)
    assert redact("public-client-id-only") == "public-client-id-only"


@pytest.mark.parametrize(
    "secret",
    ["AT-line-1\n", "AT-carriage-1\r\n", "AT-tab\t-1", "AT-quote'd-1", "AT-\u00e9t\u00e9-1", "AT-\x00-1"],
)
def test_a_secret_is_masked_also_as_a_repr_shows_it_escaped(secret: str) -> None:
    """http.client says a header it refuses as a repr of its bytes ("Invalid header value
    b'Bearer ...\\n'"), requests as a repr of the text: a secret holding a character repr escapes is
    not in either as it is, and must be masked there too."""
    register(secret)
    header = "Bearer " + secret
    for shown in (
        "Invalid header value " + repr(header.encode("latin-1", "replace")),
        "Invalid header value " + repr(header.encode()),
        "in header value: " + repr(header),
        "quoted " + repr('"' + secret),  # a text holding both quotes: repr escapes its ' ones
    ):
        assert redact(shown).count(MASK) == 1, shown
        assert "AT-" not in redact(shown), shown


def test_a_registered_secret_is_masked_also_as_a_form_body_carries_it() -> None:
    """requests-oauthlib logs a token request's body: `+`, `/` and `=` of a base64 token percent-encoded.
    (Masked as registered, not by the field's name: another library's log is masked that way only.)"""
    from rcauth.redact import mask_registered

    register("RT+base64/token==")
    body = "grant_type=refresh_token&rt=RT%2Bbase64%2Ftoken%3D%3D"
    assert mask_registered(f"body {body}") == f"body grant_type=refresh_token&rt={MASK}"
