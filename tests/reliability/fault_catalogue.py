"""The fault catalogue's table: every boundary rcauth crosses, every way each can fail, which commands
meet that fault, and which of the invariants (SECURITY.md) each row checks. The storage boundaries (the
keyring, the stored entry, the disk, the configuration) have their own table with the same invariants,
`test_fault_catalogue_storage.py`, and signals at each step theirs, `test_signal_catalogue.py`.

A row is one fault × one command. `test_fault_catalogue.py` arranges the fault, runs the command as a
real `rcauth` process (or a real Python script for the library's rows), and checks every invariant the
row names. Add a fault here and every command that meets it is tried against it; add a command and it
meets every fault of its kind.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hostile_ringcentral import Listing, call, extension

if TYPE_CHECKING:
    from test_fault_catalogue import Scene


class Inv(enum.Enum):
    """The invariants of issue 20 (numbered as in SECURITY.md's threat table)."""

    EXIT = "1: a documented exit code and one line, never a traceback or 'unexpected error'"
    SECRETS = "2: no token, client secret, code, JWT or URL password in output, logs or stray files"
    GRANTS = "3: every grant RingCentral issued is stored or revoked when the process ends"
    PLAINTEXT = "4: no session in plain text unless the user chose it"
    HONEST = "5: never 'not signed in' or 'nothing to do' when the store could not be read"
    WELL_FORMED = "6: output that started is well-formed (JSON closed, NDJSON/CSV whole, no NaN)"
    BOUNDED = "7: every wait bounded in total"


ALL = frozenset(Inv)


# -- commands -------------------------------------------------------------------------------------------
LIBRARY_CLIENT = """
import json, sys, rcauth
try:
    with rcauth.Client() as rc:
        print(json.dumps(rc.get_json("/restapi/v1.0/account/~/extension/~"), allow_nan=False))
except rcauth.RcauthError as exc:
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)
"""

LIBRARY_TOKEN = """
import sys, rcauth
try:
    token = rcauth.token()
    print("token of", len(token), "characters")
except rcauth.RcauthError as exc:
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)
"""


@dataclass(frozen=True)
class Command:
    """One way a user meets rcauth: `args` for the CLI, or `script` for a Python program using the library.

    `output` says how stdout must parse ("json", "ndjson", "csv", or "text" for a person's output);
    `prints_token` marks the commands whose purpose is to print a secret (`rcauth token`)."""

    name: str
    args: tuple[str, ...] = ()
    output: str = "text"
    script: str | None = None
    prints_token: bool = False


CMD = {
    c.name: c
    for c in (
        Command("login", ("login", "--jwt")),
        Command("logout", ("logout",)),
        Command("whoami", ("whoami", "--format", "table")),
        Command("whoami-json", ("whoami", "--format", "json"), "json"),
        Command("whoami-csv", ("whoami", "--format", "csv"), "csv"),
        Command("call-log", ("call-log", "--all", "--format", "table")),
        Command("call-log-json", ("call-log", "--all", "--format", "json"), "json"),
        Command("call-log-ndjson", ("call-log", "--all", "--format", "ndjson"), "ndjson"),
        Command("call-log-csv", ("call-log", "--all", "--format", "csv"), "csv"),
        Command("summary", ("call-log", "--summary", "--format", "table")),
        Command("summary-json", ("call-log", "--summary", "--format", "json"), "json"),
        Command("api", ("api", "GET", "/restapi/v1.0/account/~/extension/~"), "json"),
        Command(
            "api-paginate",
            ("api", "GET", "/restapi/v1.0/account/~/extension/~/call-log", "--paginate", "--format", "json"),
            "json",
        ),
        Command(
            "api-paginate-ndjson",
            (
                "api",
                "GET",
                "/restapi/v1.0/account/~/extension/~/call-log",
                "--paginate",
                "--format",
                "ndjson",
            ),
            "ndjson",
        ),
        Command("token", ("token",), prints_token=True),
        Command("token-json", ("token", "--json"), "json", prints_token=True),
        Command("status", ("status",)),
        Command("status-json", ("status", "--format", "json"), "json"),
        Command("profiles", ("profiles",)),
        Command("doctor", ("doctor",)),
        Command("doctor-json", ("doctor", "--json"), "json"),
        Command("library-client", script=LIBRARY_CLIENT, output="json"),
        Command("library-token", script=LIBRARY_TOKEN),
    )
}

# The commands that meet a boundary, by what they do there.
RENDERERS = ("whoami", "whoami-json", "whoami-csv", "api",
             "call-log", "call-log-json", "call-log-ndjson", "call-log-csv",
             "summary", "summary-json", "api-paginate", "api-paginate-ndjson")  # fmt: skip
LISTERS = ("call-log", "call-log-json", "call-log-ndjson", "call-log-csv", "summary", "summary-json",
           "api-paginate", "api-paginate-ndjson")  # fmt: skip
REFRESHERS = ("whoami", "api", "token", "token-json", "library-client", "library-token")


# -- faults ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fault:
    """One way one boundary fails. `arrange(scene)` sets it up (environment, files, emulator switches, a
    hostile server) before the command runs; `exits` pins the exit code where the issue or the README
    names one (command name, or "*" for the rest); `invariants` are the ones this fault can break."""

    boundary: str
    name: str
    commands: tuple[str, ...]
    arrange: Callable[[Scene], None]
    invariants: frozenset[Inv] = ALL
    exits: dict[str, frozenset[int]] = field(default_factory=dict)
    signed_in: bool = True

    def expected_exits(self, command: str) -> frozenset[int] | None:
        return self.exits.get(command, self.exits.get("*"))


def codes(*values: int) -> frozenset[int]:
    return frozenset(values)


def hostile(**kwargs: Any) -> Callable[[Scene], None]:
    def arrange(scene: Scene) -> None:
        scene.use_hostile_server(**kwargs)
        scene.env["RCAUTH_TIMEOUT"] = "3"  # a trickling answer is hung up on after 3 s, not 120

    return arrange


def token_endpoint(**switches: Any) -> Callable[[Scene], None]:
    """The stored access token is due, so the command must refresh; the emulator's token endpoint fails."""

    def arrange(scene: Scene) -> None:
        scene.make_due()
        scene.emu.set(**switches)

    return arrange


def token_answer_trickles(scene: Scene, trickle: str = "body") -> None:
    scene.use_hostile_server(trickle_token=True, trickle=trickle)
    scene.env["RCAUTH_TIMEOUT"] = "3"
    scene.make_due()


def token_headers_trickle(scene: Scene) -> None:
    token_answer_trickles(scene, trickle="headers")


def session_ended_elsewhere(scene: Scene) -> None:
    scene.make_due()
    scene.emu.revoke_all()


def proxy_with_password(scene: Scene) -> None:
    scene.env["HTTPS_PROXY"] = scene.env["HTTP_PROXY"] = "alice:pr0xy-s3cret@127.0.0.1:9"
    scene.extra_secrets.append("pr0xy-s3cret")


def server_down(scene: Scene) -> None:
    scene.point_session_at("http://127.0.0.1:9")
    # Retried with backoff, a refused connection is given up after the retry budget (30 s) or the
    # answer's deadline: the shorter deadline keeps the row quick (the message is then "did not finish");
    # tests/reliability/test_network_trouble_explained.py pins the default's "connection refused".
    scene.env["RCAUTH_TIMEOUT"] = "3"


NOT_SIGNED_IN = codes(4)
INCOMPLETE = codes(5)
HUGE = 10**400

FAULTS: tuple[Fault, ...] = (
    # -- the token endpoint (a due session refreshes) ----------------------------------------------------
    Fault(
        "token endpoint",
        "answers 503 to every refresh",
        REFRESHERS,
        token_endpoint(fault_rate=1.0, fault_kinds=("503",), fault_scope="all"),
        exits={"*": codes(5)},
    ),
    Fault(
        "token endpoint",
        "drops every refresh mid-answer",
        REFRESHERS,
        token_endpoint(fault_rate=1.0, fault_kinds=("drop",), fault_scope="all"),
        exits={"*": codes(5)},
    ),
    Fault(
        "token endpoint",
        "ends the session (invalid_grant)",
        REFRESHERS,
        session_ended_elsewhere,
        exits={"*": NOT_SIGNED_IN},
    ),
    Fault(
        "token endpoint",
        "a refresh answer that trickles forever",
        REFRESHERS,
        token_answer_trickles,
        invariants=ALL - {Inv.GRANTS},  # a hostile server's "grant" is no grant
        exits={"*": codes(5)},
    ),
    Fault(
        "token endpoint",
        "a refresh answer whose headers trickle forever",
        REFRESHERS,
        token_headers_trickle,
        invariants=ALL - {Inv.GRANTS},
        exits={"*": codes(5)},
    ),
    # -- the network ----------------------------------------------------------------------------------------
    Fault(
        "network",
        "server refuses connections",
        ("whoami", "call-log-json", "logout", "status-json", "doctor", "library-client"),
        server_down,
        exits={"logout": codes(5)},  # RingCentral could not be told: the session is kept
    ),
    Fault(
        "network",
        "proxy URL with a password and no scheme",
        ("login", "logout", "whoami", "doctor", "doctor-json", "status", "profiles", "token-json",
         "library-token"),  # fmt: skip
        proxy_with_password,
    ),
    Fault(
        "network",
        "extension body that never ends",
        ("whoami", "api", "library-client"),
        hostile(trickle_extension=True),
        invariants=ALL - {Inv.GRANTS},
    ),
    Fault(
        "network",
        "extension headers that never end",
        ("whoami", "api", "library-client"),
        hostile(trickle_extension=True, trickle="headers"),
        invariants=ALL - {Inv.GRANTS},
    ),
    Fault(
        "network",
        "a revocation whose headers never end",
        ("logout",),
        hostile(trickle_revoke=True, trickle="headers"),
        invariants=ALL - {Inv.GRANTS},
        exits={"logout": codes(5)},  # RingCentral could not be told: the session is kept
    ),
    Fault(
        "network",
        "call-log body that never ends",
        LISTERS,
        hostile(listing=Listing(fail_at=1, failure="trickle")),
        invariants=ALL - {Inv.GRANTS},
    ),
    # -- data the server sends ---------------------------------------------------------------------------
    Fault(
        "server data",
        "a duration past float range",
        RENDERERS,
        hostile(
            listing=Listing(
                raw_records=b'[{"id": "r1", "startTime": "2026-11-02T10:00:00Z", '
                b'"duration": 1e400, "direction": "Inbound", "result": "Accepted"}]'
            )
        ),
        invariants=ALL - {Inv.GRANTS},
    ),
    Fault(
        "server data",
        "NaN and -Infinity numbers",
        RENDERERS,
        hostile(
            listing=Listing(
                raw_records=b'[{"id": "r1", "startTime": "2026-11-02T10:00:00Z", '
                b'"duration": NaN, "direction": "Inbound"}, {"id": "r2", "startTime": '
                b'"2026-11-02T11:00:00Z", "duration": -Infinity, "direction": "Outbound"}]'
            ),
            extension_body=extension(id=float("nan")),
        ),
        invariants=ALL - {Inv.GRANTS},
    ),
    Fault(
        "server data",
        "a negative and a huge integer duration",
        RENDERERS,
        hostile(
            listing=Listing(pages=[[call(1, duration=-5), call(2, duration=HUGE)]]),
            extension_body=extension(id=HUGE),
        ),
        invariants=ALL - {Inv.GRANTS},
    ),
    Fault(
        "server data",
        "dates at both ends of the calendar",
        RENDERERS,
        hostile(
            listing=Listing(
                pages=[
                    [
                        call(1, startTime="0001-01-01T00:00:00Z"),
                        call(2, startTime="9999-12-31T23:59:59Z"),
                        call(3, startTime="9999-12-31T23:59:59.999+14:00"),
                    ]
                ]
            )
        ),
        invariants=ALL - {Inv.GRANTS},
        exits={"*": codes(0)},
    ),
    Fault(
        "server data",
        "dates that are not dates",
        RENDERERS,
        hostile(
            listing=Listing(
                pages=[[call(1, startTime="yesterday"), call(2, startTime=None), call(3, startTime=17)]]
            )
        ),
        invariants=ALL - {Inv.GRANTS},
    ),
    Fault(
        "server data",
        "fields of the wrong type",
        RENDERERS,
        hostile(
            listing=Listing(
                pages=[
                    [
                        call(1, direction=["Inbound"], duration="60", **{"from": "x"}),
                        {"id": 5},
                        "not a record",
                    ]
                ]
            ),
            extension_body=extension(contact="nobody", name={"first": 1}),
        ),
        invariants=ALL - {Inv.GRANTS},
    ),
    Fault(
        "server data",
        "terminal control and formulas in names",
        RENDERERS,
        hostile(
            listing=Listing(
                pages=[
                    [
                        call(
                            1,
                            **{
                                "from": {
                                    "name": '=HYPERLINK("http://x")\x1b]8;;x\x07',
                                    "phoneNumber": "+1\x1b[2J",
                                }
                            },
                        )
                    ]
                ]
            ),
            extension_body=extension(name="\x1b[31mroot\x1b[0m\u202e", extensionNumber="@SUM(1)"),
        ),
        invariants=ALL - {Inv.GRANTS},
    ),
    # -- listings that fail part-way ---------------------------------------------------------------------
    Fault(
        "listing",
        "page 2 answers 500",
        LISTERS,
        hostile(listing=Listing(pages=[[call(n) for n in range(3)]], fail_at=2, failure="500")),
        invariants=ALL - {Inv.GRANTS},
        exits={"*": INCOMPLETE},
    ),
    Fault(
        "listing",
        "page 2 linked on another origin",
        LISTERS,
        hostile(listing=Listing(pages=[[call(n) for n in range(3)]], fail_at=2, failure="foreign")),
        invariants=ALL - {Inv.GRANTS},
        exits={"*": INCOMPLETE},
    ),
    Fault(
        "listing",
        "page 2 dropped mid-body",
        LISTERS,
        hostile(listing=Listing(pages=[[call(n) for n in range(3)]], fail_at=2, failure="drop")),
        invariants=ALL - {Inv.GRANTS},
        exits={"*": INCOMPLETE},
    ),
    Fault(
        "listing",
        "page 2 is a captive portal's HTML",
        LISTERS,
        hostile(listing=Listing(pages=[[call(n) for n in range(3)]], fail_at=2, failure="html")),
        invariants=ALL - {Inv.GRANTS},
        exits={"*": INCOMPLETE},
    ),
)


def rows() -> list[tuple[Fault, Command]]:
    return [(fault, CMD[name]) for fault in FAULTS for name in fault.commands]
