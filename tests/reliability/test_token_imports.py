"""`rcauth token` with a fresh access token is what scripts call in loops: it reads the store, checks the
expiry and prints, so it loads no HTTP library, no OAuth library and no keyring discovery, as the README
says (issue 13; the keyring's backend is the one the user named, or the one remembered).
A real subprocess lists `sys.modules` as it exits (`python -X importtime` would miss the command's
module: the CLI loads it with `importlib.import_module`, which the C-level timer does not see)."""

from __future__ import annotations

import sys

# Nothing of these may load for a fresh token: the HTTP and OAuth libraries (and rcauth's modules that
# use them) and keyring's discovery (every backend it ships, the Secret Service's libraries), since the
# user named the backend.
NOT_FOR_A_FRESH_TOKEN = (
    "requests",
    "urllib3",
    "charset_normalizer",
    "idna",
    "requests_oauthlib",
    "oauthlib",
    "truststore",
    "rcauth.transport",
    "rcauth.retry",
    "rcauth.oauth",
    "keyring.backends.SecretService",
    "keyring.backends.macOS",
    "keyring.backends.kwallet",
    "secretstorage",
    # Entry-point discovery. From Python 3.12 keyring itself imports it as it loads (keyring.compat.py312),
    # whichever backend is named: rcauth's own code must not, on any version.
    *(("importlib.metadata",) if sys.version_info < (3, 12) else ()),
)


def listing_modules(*args: str) -> str:
    """`python -m rcauth ARGS`, then every module loaded, on stderr's last line."""
    return (
        "import runpy, sys\n"
        f"sys.argv = ['rcauth', *{list(args)!r}]\n"
        "try:\n"
        "    runpy.run_module('rcauth', run_name='__main__')\n"
        "finally:\n"
        "    print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )


LISTING_MODULES = listing_modules("token")


def imported(stderr: str) -> set[str]:
    return set(stderr.splitlines()[-1].split())


def loaded_of(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m in prefixes or m.startswith(tuple(p + "." for p in prefixes)))


def test_token_with_a_fresh_session_imports_no_http_stack(emu, rcauth, sign_in) -> None:
    session = sign_in()
    before = emu.counters()["requests"]
    proc = rcauth.start(argv=[sys.executable, "-c", LISTING_MODULES])
    result = rcauth.finish(proc)
    assert result.code == 0, result
    assert result.out == session.access_token + "\n"
    modules = imported(result.err)
    assert "rcauth.commands.rest" in modules and "rcauth.store" in modules  # the profile is real
    assert loaded_of(modules, NOT_FOR_A_FRESH_TOKEN) == []
    assert emu.counters()["requests"] == before  # and no request was needed


def test_token_that_must_refresh_loads_the_http_stack_then(emu, rcauth, sign_in, stored) -> None:
    """The other side: a due token is refreshed (one token request), so the absence above is a
    consequence of freshness, not of a command that can no longer refresh."""
    sign_in(access_expires_at=0)
    refreshes = emu.counters()["refreshes"]
    proc = rcauth.start(argv=[sys.executable, "-c", LISTING_MODULES])
    result = rcauth.finish(proc)
    assert result.code == 0, result
    assert result.out == stored().access_token + "\n"
    modules = imported(result.err)
    assert "requests" in modules and "rcauth.oauth" in modules
    assert emu.counters()["refreshes"] == refreshes + 1
