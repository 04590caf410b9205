"""`rcauth.origin`: the one decision about where the bearer token may go, over every URL form
(issue 10, point 1 and the mutation survivors of point 7: look-alike hosts, userinfo, downgrade).

Properties are checked against an independent parser, urllib3's `parse_url` (what requests uses
to decide where to connect), so "accepted" means "requests would send it to the session's host".
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from urllib3.util import parse_url

from rcauth.errors import ApiError, ExitCode, ForeignOrigin
from rcauth.origin import (
    Origin,
    TokenOrigins,
    media_mismatch,
    origin_of,
    paired_media,
    resolve_url,
    same_origin,
)

SERVER = "https://platform.ringcentral.com"
HOST = "platform.ringcentral.com"
EMULATOR = "http://127.0.0.1:5123"

labels = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
foreign_hosts = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    labels.map(lambda label: f"{HOST}.{label}"),  # look-alike: the real host as a prefix
    labels.map(lambda label: f"{HOST}.{label}.example"),
    labels.map(lambda label: f"{label}{HOST}"),  # look-alike: the real host as a suffix
    labels.map(lambda label: f"{label}-{HOST}"),
    st.just("127.0.0.2"),
    st.just("[::1]"),
).filter(lambda host: host.rstrip(".") != HOST)
path_chars = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/%?"
paths = st.text(path_chars, max_size=40).map(lambda text: "/" + text)
space_or_c0 = st.text("".join(map(chr, range(0x21))), max_size=3)


def random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if flip else c for c, flip in zip(text, flips, strict=True))


@st.composite
def spellings_of_the_server(draw: st.DrawFn) -> str:
    """The server's own origin as anyone might spell it: case, default port, trailing dot, IDNA
    full-width letters, surrounding whitespace and controls, scheme-relative."""
    host = random_case(draw, HOST)
    if draw(st.booleans()):
        host += "."
    if draw(st.booleans()):
        host = host.replace("platform", "\uff50\uff4c\uff41\uff54\uff46\uff4f\uff52\uff4d")
    port = draw(st.sampled_from(["", ":443"]))
    scheme = draw(st.sampled_from(["https://", "HTTPS://", "Https://", "//"]))
    return draw(space_or_c0) + scheme + host + port + draw(paths) + draw(space_or_c0)


@st.composite
def spellings_of_another_host(draw: st.DrawFn) -> str:
    """A URL that would take the token elsewhere, in every form that once slipped through."""
    host = draw(foreign_hosts)
    url = random_case(draw, draw(st.sampled_from(["https", "http"]))) + "://" + host + draw(paths)
    form = draw(
        st.sampled_from(
            [
                "plain",
                "leading space",
                "slash in front",
                "scheme-relative",
                "backslashes",
                "http:host",
                "userinfo",
                "real host as userinfo",
                "downgrade",
                "other port",
                "homoglyph",
            ]
        )
    )
    port = draw(st.integers(1, 65535).filter(lambda port: port != 443))
    rest = url.split("://", 1)[1]
    return {
        "plain": url,
        "leading space": draw(space_or_c0) + url,
        "slash in front": "/" + url,
        "scheme-relative": "//" + rest,
        "backslashes": "\\\\" + rest,
        "http:host": url.replace("://", ":", 1),
        "userinfo": url.replace("://", f"://{HOST}@", 1),
        # On `rest`, not `url`: a one-letter host ("t") would otherwise be found in the scheme ("ht@...tp:").
        "real host as userinfo": url.split("://", 1)[0] + f"://user:pw@{host}@{HOST}" + rest[len(host) :],
        "downgrade": random_case(draw, "http://" + HOST) + draw(st.sampled_from(["", ":80", ":443"])) + "/x",
        "other port": f"https://{random_case(draw, HOST)}:{port}/x",
        "homoglyph": "https://" + HOST.replace("a", "\u0430", 1) + "/x",  # a Cyrillic a: xn--... host
    }[form]


def lands_on(url: str) -> tuple[str | None, str | None, int | None]:
    """Where requests (urllib3's parser) would connect for `url`."""
    parsed = parse_url(url)
    default = {"https": 443, "http": 80}[parsed.scheme or ""]
    return parsed.scheme, (parsed.host or "").lower(), parsed.port or default


@given(path=paths.filter(lambda path: not path.startswith(("//", "/\\"))))
@example(path="/X/a:b")  # a colon in a later segment: still a path, not a URL behind a slash
def test_a_path_goes_to_the_sessions_server(path: str) -> None:
    assume(not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", path[1:]))  # a URL behind a slash: refused
    url = resolve_url(path, SERVER)
    assert url == SERVER + path
    assert lands_on(url) == ("https", HOST, 443)


@given(spelling=spellings_of_the_server())
@example(spelling="HTTPS://PLATFORM.RINGCENTRAL.COM.:443/restapi/v1.0/account/~")
@example(spelling=" \t//platform.ringcentral.com/restapi ")
def test_any_spelling_of_the_servers_origin_is_accepted_and_sent_to_the_server_as_it_was_configured(
    spelling: str,
) -> None:
    url = resolve_url(spelling, SERVER)
    assert url.startswith(SERVER + "/")
    assert lands_on(url) == ("https", HOST, 443)
    assert same_origin(spelling, SERVER) or spelling.strip("".join(map(chr, range(0x21)))).startswith("//")


@given(spelling=spellings_of_another_host())
@example(spelling="https://platform.ringcentral.com.evil.example/restapi/v1.0/account/~")
@example(spelling="https://platform.ringcentral.com@evil.example/restapi/v1.0/account/~")
@example(spelling="https://evil.example@platform.ringcentral.com/restapi")
@example(spelling="/http://other-host/x")
@example(spelling="HTTP://other-host/x")
@example(spelling=" http://other-host/x")
@example(spelling="http:other-host/x")
@example(spelling="http://user:pw@t@platform.ringcentral.com/")
@example(spelling="//Xplatform.ringcentral.com/x")  # only the slashes go, not the host's first letter
def test_every_spelling_of_another_host_is_refused(spelling: str) -> None:
    with pytest.raises(ForeignOrigin) as caught:
        resolve_url(spelling, SERVER)
    assert caught.value.server == SERVER
    assert not same_origin(spelling, SERVER)


@given(text=st.text(max_size=60))
@example(text="https://platform.ringcentral.com\\@evil.example/")
@example(text="https://evil.example#@platform.ringcentral.com/")
@example(text="https://evil.example?@platform.ringcentral.com/")
@example(text="https:/\\evil.example/")
@example(text="ht\ttps://evil.example/")
def test_whatever_the_text_the_token_goes_to_the_server_or_nowhere(text: str) -> None:
    """The invariant itself, for any string at all: refused, or sent to the session's host."""
    try:
        url = resolve_url(text, SERVER)
    except ForeignOrigin:
        return
    assert lands_on(url) == ("https", HOST, 443)


@pytest.mark.parametrize(
    "url",
    [
        "http://platform.ringcentral.com/restapi",  # downgrade on the same host
        "http://platform.ringcentral.com:443/restapi",
        "https://platform.ringcentral.com:8443/restapi",  # another port
        "https://platform.ringcentral.com..",  # not the same DNS name
        "https://platform.ringcentral.com.evil.example/",
        "https://evilplatform.ringcentral.com/",
        "https://platform.ringcentral.com@evil.example/",
        "https://platform.ringcentral.com:@evil.example/",
        "https://platform.ringcentral.com:443@evil.example/",
        "https://plat\u00dfform.ringcentral.com/",  # IDNA 2003 and 2008 disagree on it
        "https://platform.ringcentral.com:99999/",
        "https://platform.ringcentral.com:x/",
        "https:platform.ringcentral.com/restapi",
        "ftp://platform.ringcentral.com/restapi",
        "https://platform.ringcentral.com/rest\napi",
        "",
    ],
)
def test_same_origin_refuses_downgrades_other_ports_look_alikes_and_userinfo(url: str) -> None:
    assert not same_origin(url, SERVER)


@pytest.mark.parametrize(
    "url",
    [
        "https://platform.ringcentral.com",
        "HTTPS://Platform.RingCentral.COM:443/restapi?x=1",
        " https://platform.ringcentral.com./ \x00",
        "https://\uff50latform.ringcentral.com/",  # full-width p: the same name under IDNA
        "https://platform\u3002ringcentral\u3002com/",  # ideographic full stops
    ],
)
def test_same_origin_accepts_the_servers_origin_however_spelled(url: str) -> None:
    assert same_origin(url, SERVER)


def test_ip_literals_and_explicit_ports_compare_by_value() -> None:
    assert same_origin("http://127.0.0.1:5123/x", EMULATOR)
    assert not same_origin("http://127.0.0.2:5123/x", EMULATOR)
    assert not same_origin("http://127.0.0.1:5124/x", EMULATOR)
    assert same_origin("http://[0:0::1]:80/", "http://[::1]")
    assert origin_of("HTTP://[::1]:8080/x") == Origin("http", "::1", 8080)
    assert str(origin_of("https://platform.ringcentral.com:443/")) == SERVER


def test_a_url_behind_a_slash_is_refused_not_sent_as_a_path() -> None:
    with pytest.raises(ForeignOrigin, match="a URL behind a slash"):
        resolve_url("/http://other-host/x", SERVER)
    with pytest.raises(ForeignOrigin, match="a URL behind a slash"):
        resolve_url("//\\HTTPS://other-host/x".replace("//\\", "/"), SERVER)


def test_a_relative_path_without_its_slash_and_a_query_stay_on_the_server() -> None:
    assert resolve_url("restapi/v1.0/account/~", SERVER) == SERVER + "/restapi/v1.0/account/~"
    assert resolve_url(SERVER + "/restapi?page=2#frag", SERVER) == SERVER + "/restapi?page=2"
    assert resolve_url("https://PLATFORM.ringcentral.com", SERVER) == SERVER + "/"
    assert resolve_url(resolve_url("/restapi?x=1", SERVER), SERVER) == SERVER + "/restapi?x=1"


def test_a_refusal_is_an_api_error_with_a_one_line_message_that_escapes_controls() -> None:
    with pytest.raises(ForeignOrigin) as caught:
        resolve_url("\x1b[2Jhttps://evil.example/\x1b]0;x\x07", SERVER)
    error = caught.value
    assert isinstance(error, ApiError) and error.exit_code == ExitCode.API
    assert "\x1b" not in str(error) and "\x07" not in str(error) and "\n" not in str(error)
    assert "\\x1b" in str(error)


def test_a_refused_url_is_shown_without_the_password_it_carried() -> None:
    with pytest.raises(ForeignOrigin) as caught:
        resolve_url("https://me:s3cret-pw@evil.example/x", SERVER)
    assert "s3cret-pw" not in str(caught.value) and "***@evil.example" in str(caught.value)


def test_a_scheme_relative_url_with_backslashes_is_the_server_when_its_host_is() -> None:
    """WHATWG reads `\\\\host` as `//host`, and so do browsers: the server's own host is accepted."""
    assert resolve_url("\\\\platform.ringcentral.com/restapi", SERVER) == SERVER + "/restapi"
    assert resolve_url("/\\PLATFORM.ringcentral.com/restapi?x=1", SERVER) == SERVER + "/restapi?x=1"


def test_a_server_given_with_a_trailing_slash_still_gets_single_slash_urls() -> None:
    assert resolve_url("/restapi/v1.0", SERVER + "/") == SERVER + "/restapi/v1.0"
    assert resolve_url("restapi/v1.0", SERVER + "/") == SERVER + "/restapi/v1.0"
    assert resolve_url(SERVER + "/restapi?x=1", SERVER + "/") == SERVER + "/restapi?x=1"
    # Only the slash goes: the URL is built from the server's own text, however it ends.
    assert resolve_url("/restapi", "https://PLATFORM.EXAMPLE.BOX/") == "https://PLATFORM.EXAMPLE.BOX/restapi"


REFUSED = "refusing to send the session's token to"


@pytest.mark.parametrize(
    ("asked", "why"),
    [
        ("https://evil.example/x", f"https://evil.example is another server, not the session's {SERVER}"),
        ("https://[::1]:8443/x", f"https://[::1]:8443 is another server, not the session's {SERVER}"),
        ("http://platform.ringcentral.com/x", f"http://{HOST} is another server, not the session's {SERVER}"),
        # Two dots are not the trailing dot of the same DNS name: shown as they were written.
        (f"https://{HOST}../x", f"https://{HOST}.. is another server, not the session's {SERVER}"),
        (f"ftp://{HOST}/x", "it is not an http(s) URL"),
        (f"https:{HOST}/x", "it names no host (a URL needs scheme://host)"),
        ("//", "it names no host (a URL needs scheme://host)"),
        ("https://:443/x", "it names no host"),
        ("https://./x", "it names no host"),
        (f"https://me@{HOST}/x", "it carries user information before an '@'"),
        (
            "https://plat\u00dfform.ringcentral.com/",
            "its host name is spelled ambiguously (an IDNA deviation character)",
        ),
        ("https://" + "\u00e9" * 70 + ".com/", "its host name is not a valid internationalised name"),
        (f"https://{HOST}/rest\x00api", "it contains control characters"),
        ("/https://evil.example/x", "it is a URL behind a slash, not a path"),
    ],
)
def test_a_refusal_says_why_in_one_line_and_keeps_what_was_asked(asked: str, why: str) -> None:
    with pytest.raises(ForeignOrigin) as caught:
        resolve_url(asked, SERVER)
    error = caught.value
    assert str(error) == f"{REFUSED} {error_shown(asked)}: {why}"
    assert (error.target, error.server, error.why) == (asked, SERVER, why)


def error_shown(asked: str) -> str:
    return repr(asked.replace("me@", "***@"))


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://platform.ringcentral.com/\x7f", "it contains control characters"),
        (f"ftp://{HOST}/", "it is not an http(s) URL"),
        (f"https:{HOST}/", "it names no host (a URL needs scheme://host)"),
        (f"https://u:p@{HOST}/", "it carries user information before an '@'"),
        ("https://:443/", "it names no host"),
        (
            "https://stra\u00dfe.example/",
            "its host name is spelled ambiguously (an IDNA deviation character)",
        ),
        ("https://" + "\u00e9" * 70 + ".com/", "its host name is not a valid internationalised name"),
    ],
)
def test_origin_of_says_why_a_url_has_no_origin_rcauth_would_send_to(url: str, why: str) -> None:
    with pytest.raises(ValueError) as caught:
        origin_of(url)
    assert str(caught.value) == why


def test_what_does_not_parse_back_to_the_server_is_refused_by_the_last_check_naming_the_request() -> None:
    """A server text the parser reads as another host (here a stray space, which `origin_of` strips
    but the URL built from the text keeps): whatever was asked, nothing goes out."""
    server = SERVER + " "
    for asked in ("/restapi", SERVER + "/restapi"):
        with pytest.raises(ForeignOrigin) as caught:
            resolve_url(asked, server)
        why = f"it does not stay on the session's server {server}"
        assert str(caught.value) == f"{REFUSED} {asked!r}: {why}"
        assert (caught.value.target, caught.value.server, caught.value.why) == (asked, server, why)


def test_a_hint_given_to_foreign_origin_reaches_the_user() -> None:
    error = ForeignOrigin("https://evil.example/", SERVER, "another server", hint="use a path")
    assert (
        error.hint == "use a path" and error.message == f"{REFUSED} 'https://evil.example/': another server"
    )


def test_a_long_refused_url_is_cut_at_120_characters_in_the_message() -> None:
    long = "https://evil.example/" + "a" * 200
    with pytest.raises(ForeignOrigin) as caught:
        resolve_url(long, SERVER)
    assert str(caught.value).startswith(f"{REFUSED} {long[:120] + '...'!r}: ")
    exact = "https://evil.example/" + "b" * (120 - len("https://evil.example/"))
    with pytest.raises(ForeignOrigin) as caught:
        resolve_url(exact, SERVER)
    assert str(caught.value).startswith(f"{REFUSED} {exact!r}: ")


# -- the media origin: one more origin, paired with the server, and nothing else ------------------------

MEDIA = "https://media.ringcentral.com"
CONTENT = "/restapi/v1.0/account/37439510/recording/401/content"
SANDBOX = "https://platform.devtest.ringcentral.com"


def test_production_is_paired_with_its_media_host_and_no_other_server_is_paired() -> None:
    assert paired_media(SERVER) == MEDIA
    assert paired_media("https://PLATFORM.ringcentral.com.:443/") == MEDIA
    for server in (
        SANDBOX,
        EMULATOR,
        "https://platform.example-brand.com",
        "http://platform.ringcentral.com",
    ):
        assert paired_media(server) is None
    assert TokenOrigins.of(SERVER) == TokenOrigins(SERVER, MEDIA)
    assert TokenOrigins.of(SANDBOX) == TokenOrigins(SANDBOX, None)
    assert TokenOrigins.of(SANDBOX, "https://media.devtest.ringcentral.com").media == (
        "https://media.devtest.ringcentral.com"
    )


def test_a_sessions_stored_media_server_never_replaces_productions_pair() -> None:
    assert TokenOrigins.of(SERVER, "https://evil.example").media == MEDIA


def test_a_content_url_on_the_media_origin_is_rebuilt_on_the_media_origins_own_text() -> None:
    for spelling in (
        MEDIA + CONTENT,
        "https://MEDIA.RINGCENTRAL.COM." + CONTENT,
        "HTTPS://media.ringcentral.com:443" + CONTENT,
        "  https://media.ringcentral.com" + CONTENT + "\n",
        "//media.ringcentral.com" + CONTENT,
    ):
        assert resolve_url(spelling, SERVER, MEDIA) == MEDIA + CONTENT, spelling
    assert resolve_url(MEDIA + CONTENT + "?contentDisposition=Inline#x", SERVER, MEDIA) == (
        MEDIA + CONTENT + "?contentDisposition=Inline"
    )
    assert TokenOrigins.of(SERVER).resolve(MEDIA + CONTENT) == MEDIA + CONTENT


def test_a_path_always_goes_to_the_server_never_to_the_media_origin() -> None:
    assert resolve_url(CONTENT, SERVER, MEDIA) == SERVER + CONTENT
    assert resolve_url(SERVER + CONTENT, SERVER, MEDIA) == SERVER + CONTENT


def test_without_a_media_origin_a_media_url_is_refused_as_before() -> None:
    with pytest.raises(ForeignOrigin) as caught:
        resolve_url(MEDIA + CONTENT, SERVER)
    assert caught.value.why == f"{MEDIA} is another server, not the session's {SERVER}"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (
            "https://media.ringcentral.com.evil.example" + CONTENT,
            "https://media.ringcentral.com.evil.example",
        ),
        ("https://media.ringcentral.com@evil.example" + CONTENT, "user information"),
        ("https://evil.example@media.ringcentral.com" + CONTENT, "user information"),
        ("http://media.ringcentral.com" + CONTENT, "http://media.ringcentral.com"),
        ("https://media.ringcentral.com:8443" + CONTENT, "https://media.ringcentral.com:8443"),
        ("https://xn--mdia-bpa.ringcentral.com" + CONTENT, "https://xn--mdia-bpa.ringcentral.com"),
        # a Cyrillic "е" in place of the Latin "e"
        ("https://m\u0435dia.ringcentral.com" + CONTENT, "https://xn--mdia-v4d.ringcentral.com"),
        ("https://media.ringcentral.co" + CONTENT, "https://media.ringcentral.co"),
        ("https://media-ringcentral.com" + CONTENT, "https://media-ringcentral.com"),
        ("https://media.devtest.ringcentral.com" + CONTENT, "https://media.devtest.ringcentral.com"),
        ("https://media.ringcentral.com\t.evil.example" + CONTENT, "control characters"),
        ("/https://media.ringcentral.com" + CONTENT, "a URL behind a slash"),
    ],
)
def test_hostile_spellings_of_the_media_host_are_refused_naming_both_allowed_origins(
    url: str, why: str
) -> None:
    with pytest.raises(ForeignOrigin) as caught:
        resolve_url(url, SERVER, MEDIA)
    assert caught.value.exit_code == ExitCode.API and caught.value.server == SERVER
    if why.startswith("http"):  # an origin: named as another server, with the two the token may go to
        allowed = f"the session's {SERVER} or its media server {MEDIA}"
        assert caught.value.why == f"{why} is another server, not {allowed}"
    else:
        assert why in caught.value.why
    assert not TokenOrigins(SERVER, MEDIA).allows(url)


@given(host=foreign_hosts, path=paths)
def test_no_host_but_the_two_is_accepted_with_a_media_origin(host: str, path: str) -> None:
    assume(host.rstrip(".") != "media.ringcentral.com")
    url = f"https://{host}{path}"
    with pytest.raises(ForeignOrigin):
        resolve_url(url, SERVER, MEDIA)
    assert not TokenOrigins(SERVER, MEDIA).allows(url)


def test_allows_names_either_origin_however_spelled_and_nothing_else() -> None:
    origins = TokenOrigins(SERVER, MEDIA)
    assert origins.allows("https://MEDIA.ringcentral.com.:443/x") and origins.allows(SERVER + "/x")
    assert not origins.allows("https://media.ringcentral.com.evil.example/x")
    assert not origins.allows("not a url")
    assert origins.refusal("https://evil.example/x") == (
        f"https://evil.example is another server, not the session's {SERVER} or its media server {MEDIA}"
    )
    assert TokenOrigins(SANDBOX).refusal(MEDIA) == f"{MEDIA} is another server, not the session's {SANDBOX}"


def test_a_media_origin_equal_to_the_server_adds_nothing() -> None:
    assert resolve_url(EMULATOR + "/x", EMULATOR, EMULATOR) == EMULATOR + "/x"
    assert TokenOrigins(EMULATOR, EMULATOR).named() == f"the session's {EMULATOR}"
    with pytest.raises(ForeignOrigin):
        resolve_url("http://127.0.0.1:5124/x", EMULATOR, EMULATOR)


def test_a_loopback_media_origin_is_its_own_port() -> None:
    media = "http://127.0.0.1:5124"
    assert resolve_url(media + "/content?x=1", EMULATOR, media) == media + "/content?x=1"
    with pytest.raises(ForeignOrigin):
        resolve_url("http://127.0.0.1:5125/content", EMULATOR, media)


def test_media_mismatch_is_said_only_where_the_server_has_a_pair() -> None:
    assert media_mismatch(SERVER, MEDIA) is None
    assert media_mismatch(SERVER, "https://MEDIA.ringcentral.com") is None
    assert media_mismatch(SERVER, SERVER) is None
    assert media_mismatch(SERVER, "https://evil.example") == (
        f"the media server of {SERVER} is {MEDIA}, not https://evil.example"
    )
    assert media_mismatch(SANDBOX, "https://anything.example") is None
