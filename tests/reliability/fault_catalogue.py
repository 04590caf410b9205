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

from hostile_ringcentral import CONTENT, HostileMedia, Listing, extension, recorded, recording

from ringcentral_emulator import App

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
    FILES = (
        "8: a download leaves under a final name only whole content, byte for byte what was served; "
        "no temp file but a .part; nothing outside its directory or file"
    )


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


# Recordings through the library: each outcome as an NDJSON line; a recording not saved fails the
# script as one does `rcauth recordings download` (exit 5).
LIBRARY_DOWNLOAD_RECORDINGS = """
import json, os, sys, rcauth
os.makedirs(os.environ["ROW_DIR"], exist_ok=True)
failed = 0
try:
    with rcauth.Client() as rc:
        for saved in rc.download_recordings(os.environ["ROW_DIR"], date_from="30d", limit=3):
            print(json.dumps(saved.to_json(), allow_nan=False), flush=True)
            failed += saved.status == "failed"
except rcauth.RcauthError as exc:
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)
if failed:
    print(f"{failed} recordings not saved", file=sys.stderr)
    sys.exit(5)
"""

LIBRARY_DOWNLOAD = """
import os, sys, rcauth
try:
    with rcauth.Client() as rc:
        print("saved", rc.download(os.environ["ROW_URL"], os.environ["ROW_FILE"]), "bytes")
except rcauth.RcauthError as exc:
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)
"""

# Placeholders a command's arguments may hold, made for each row by the runner (`Scene`): a directory
# that does not exist yet, a file in an empty directory, and a recording's content URL on the media
# origin the row's session knows (the emulator's, or a hostile server's).
DIR, FILE, CONTENT_URL = "{dir}", "{file}", "{content_url}"
# What `recordings download` writes on stderr besides its one error line: a line for each recording
# not saved, and the run's summary (README, "recordings download").
DOWNLOAD_REPORT = r"failed: .+|saved \d+ recordings? \(.+\) to .+|No recorded calls in that period\."


@dataclass(frozen=True)
class Command:
    """One way a user meets rcauth: `args` for the CLI, or `script` for a Python program using the library
    (which finds the row's directory, file and content URL in ROW_DIR, ROW_FILE and ROW_URL).

    `output` says how stdout must parse ("json", "ndjson", "csv", "binary" for content as it was
    served, or "text" for a person's output); `prints_token` marks the commands whose purpose is to
    print a secret (`rcauth token`); `report` matches the lines a command writes on stderr besides its
    one error line; `saves` says where a download goes: "dir" (DIR), "file" (FILE), "stdout"."""

    name: str
    args: tuple[str, ...] = ()
    output: str = "text"
    script: str | None = None
    prints_token: bool = False
    report: str | None = None
    saves: str = ""


RECORDINGS_LIST = ("recordings", "list", "--from", "30d")
# --limit 3: a listing page of two recordings and a next page is read to its end (the listing rows).
DOWNLOAD = ("recordings", "download", "--from", "30d", "--limit", "3", "--dir", DIR)


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
        Command("recordings", (*RECORDINGS_LIST, "--limit", "5", "--format", "table")),
        Command("recordings-json", (*RECORDINGS_LIST, "--limit", "5", "--format", "json"), "json"),
        Command("recordings-ndjson", (*RECORDINGS_LIST, "--all", "--format", "ndjson"), "ndjson"),
        Command("recordings-csv", (*RECORDINGS_LIST, "--limit", "5", "--format", "csv"), "csv"),
        Command("recordings-download", DOWNLOAD, report=DOWNLOAD_REPORT, saves="dir"),
        Command(
            "recordings-download-json", (*DOWNLOAD, "--json"), "json", report=DOWNLOAD_REPORT, saves="dir"
        ),
        Command("api-media", ("api", "GET", CONTENT_URL, "--output", FILE), saves="file"),
        Command("api-media-stdout", ("api", "GET", CONTENT_URL, "-o", "-"), "binary", saves="stdout"),
        Command(
            "library-download-recordings", script=LIBRARY_DOWNLOAD_RECORDINGS, output="ndjson", saves="dir"
        ),
        Command("library-download", script=LIBRARY_DOWNLOAD, saves="file"),
    )
}

# The commands that meet a boundary, by what they do there.
RENDERERS = ("whoami", "whoami-json", "whoami-csv", "api",
             "call-log", "call-log-json", "call-log-ndjson", "call-log-csv",
             "summary", "summary-json", "api-paginate", "api-paginate-ndjson",
             "recordings", "recordings-json", "recordings-ndjson", "recordings-csv",
             "recordings-download-json")  # fmt: skip
LISTERS = ("call-log", "call-log-json", "call-log-ndjson", "call-log-csv", "summary", "summary-json",
           "api-paginate", "api-paginate-ndjson",
           "recordings-json", "recordings-ndjson", "recordings-csv", "recordings-download",
           "recordings-download-json", "library-download-recordings")  # fmt: skip
REFRESHERS = ("whoami", "api", "token", "token-json", "library-client", "library-token", "recordings-json",
              "recordings-download", "api-media", "library-download-recordings")  # fmt: skip
# The commands that fetch a recording's content from the media origin.
DOWNLOADERS = ("recordings-download", "recordings-download-json", "api-media", "api-media-stdout",
               "library-download-recordings", "library-download")  # fmt: skip
SAVERS = ("recordings-download", "recordings-download-json", "library-download-recordings")


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


def media_answers(answer: str) -> Callable[[Scene], None]:
    """Two recorded calls (no more pages), their content on a media host answering as `answer` says."""

    def arrange(scene: Scene) -> None:
        scene.use_hostile_server(listing=TWO_RECORDINGS, media=HostileMedia(answer))
        scene.env["RCAUTH_TIMEOUT"] = "3"

    return arrange


def emulator_media(**switches: Any) -> Callable[[Scene], None]:
    """The emulator's own faults, at its media origin only: the call log lists the recordings."""

    def arrange(scene: Scene) -> None:
        scene.emu.set(fault_rate=1.0, fault_scope="media", **switches)
        scene.env["RCAUTH_TIMEOUT"] = "3"

    return arrange


def media_down(scene: Scene) -> None:
    # As server_down: a refused connection is retried until the answer's deadline (3 s here).
    scene.use_hostile_server(listing=TWO_RECORDINGS, media_origin="http://127.0.0.1:9")
    scene.env["RCAUTH_TIMEOUT"] = "3"


def without_recording_permission(scene: Scene) -> None:
    """An app without ReadCallRecording (a session of it: the token carries the app's permissions)."""
    app = scene.emu.config.apps[0]
    scene.emu.set(
        apps=[
            App(
                client_id=app.client_id,
                client_secret=app.client_secret,
                redirect_uris=app.redirect_uris,
                scopes=("ReadAccounts", "ReadCallLog"),
            )
        ]
    )
    scene.sign_in_now()


def content_on_a_foreign_host(scene: Scene) -> None:
    """The first recording's contentUri on another host (which serves audio too, and notes what it is
    sent); the second on the session's media origin."""
    foreign = scene.stack.enter_context(HostileMedia())
    scene.foreign.append(foreign)
    scene.content_url = foreign.url("800")
    elsewhere = recorded(0, recording=recording(0, contentUri=foreign.url("800")))
    scene.use_hostile_server(listing=Listing(pages=[[elsewhere, recorded(1)]]))


def another_download_into_dir(scene: Scene) -> None:
    """Another `rcauth recordings download` saving into DIR (its recording coming slowly)."""
    from reliability_support import wait_for

    scene.emu.set(fault_rate=1.0, fault_kinds=("trickle",), fault_scope="media", trickle_rate=2000.0)
    args = ("recordings", "download", "--from", "30d", "--limit", "1", "--dir", str(scene.dir))
    other = scene.runner.start(*args)
    wait_for(lambda: any(scene.dir.glob("*.part")), "the other download's part", proc=other)


def dir_is_a_file(scene: Scene) -> None:
    scene.dir.parent.mkdir(parents=True, exist_ok=True)
    scene.dir.write_text("a file where the recordings' directory should be\n", encoding="utf-8")


# File names are made of these (the parties, the direction, the recording's id): three records, so
# `--limit 3` saves them all.
HOSTILE_NAMES = Listing(
    pages=[
        [
            recorded(
                0,
                **{
                    "from": {"phoneNumber": "../../escape"},
                    "to": {"extensionNumber": "CON", "name": "CON"},
                    "direction": "\x1b]0;owned\x07\x00\r\n",
                },
            ),
            recorded(
                1,
                **{
                    "from": {"name": "\u202egpj.exe"},
                    "to": {"phoneNumber": "A" * 500},
                    "direction": 'a/b\\c:d*e?f"g<h>i|',
                },
            ),
            recorded(
                2,
                **{
                    "from": {"phoneNumber": "../../../escape"},
                    "to": {"name": "nul.txt ."},
                    "direction": "ｃｏｎ",
                    "recording": recording(2, id="../../x\x00"),  # its content at .../recording/802/content
                },
            ),
        ]
    ]
)


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
TWO_RECORDINGS = Listing(pages=[[recorded(0), recorded(1)]])
# Page 1 of a listing that breaks at page 2: two recorded calls, fewer than any command's --limit, so
# each goes on to page 2.
BREAKS_AT_PAGE_2 = [recorded(0), recorded(1)]
# A recording's content as a path on the media origin, for the records written as raw JSON.
RAW_RECORDING = b'"recording": {"id": "801", "contentUri": "' + CONTENT.format("801").encode() + b'"}'

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
        ("whoami", "call-log-json", "logout", "status-json", "doctor", "library-client", "recordings-json",
         "recordings-download-json", "api-media"),  # fmt: skip
        server_down,
        exits={"logout": codes(5)},  # RingCentral could not be told: the session is kept
    ),
    Fault(
        "network",
        "proxy URL with a password and no scheme",
        ("login", "logout", "whoami", "doctor", "doctor-json", "status", "profiles", "token-json",
         "library-token", "recordings-download", "api-media", "library-download"),  # fmt: skip
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
                b'"duration": 1e400, "direction": "Inbound", "result": "Accepted", ' + RAW_RECORDING + b"}]"
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
                b'"duration": NaN, "direction": "Inbound", ' + RAW_RECORDING + b'}, {"id": "r2", '
                b'"startTime": "2026-11-02T11:00:00Z", "duration": -Infinity, "direction": "Outbound", '
                + RAW_RECORDING.replace(b"801", b"802")
                + b"}]"
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
            listing=Listing(pages=[[recorded(1, duration=-5), recorded(2, duration=HUGE)]]),
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
                        recorded(1, startTime="0001-01-01T00:00:00Z"),
                        recorded(2, startTime="9999-12-31T23:59:59Z"),
                        recorded(3, startTime="9999-12-31T23:59:59.999+14:00"),
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
                pages=[
                    [
                        recorded(1, startTime="yesterday"),
                        recorded(2, startTime=None),
                        recorded(3, startTime=17),
                    ]
                ]
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
                        recorded(1, direction=["Inbound"], duration="60", **{"from": "x"}),
                        {"id": 5},
                        {"id": 6, "recording": {"id": ["x"], "contentUri": 17}},
                        {"id": 7, "recording": recording(7, id={"x": 1}, type=None)},
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
                        recorded(
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
        hostile(listing=Listing(pages=[BREAKS_AT_PAGE_2], fail_at=2, failure="500")),
        invariants=ALL - {Inv.GRANTS},
        exits={"*": INCOMPLETE},
    ),
    Fault(
        "listing",
        "page 2 linked on another origin",
        LISTERS,
        hostile(listing=Listing(pages=[BREAKS_AT_PAGE_2], fail_at=2, failure="foreign")),
        invariants=ALL - {Inv.GRANTS},
        exits={"*": INCOMPLETE},
    ),
    Fault(
        "listing",
        "page 2 dropped mid-body",
        LISTERS,
        hostile(listing=Listing(pages=[BREAKS_AT_PAGE_2], fail_at=2, failure="drop")),
        invariants=ALL - {Inv.GRANTS},
        exits={"*": INCOMPLETE},
    ),
    Fault(
        "listing",
        "page 2 is a captive portal's HTML",
        LISTERS,
        hostile(listing=Listing(pages=[BREAKS_AT_PAGE_2], fail_at=2, failure="html")),
        invariants=ALL - {Inv.GRANTS},
        exits={"*": INCOMPLETE},
    ),
    # -- the media origin (a recording's content) ---------------------------------------------------------
    Fault(
        "media",
        "the media origin refuses connections",
        DOWNLOADERS,
        media_down,
        exits={"*": codes(5)},
    ),
    Fault(
        "media",
        "a recording body that trickles forever",
        DOWNLOADERS,
        # 200 bytes every 0.1 s: a recording of a 30 s call would take a minute, a longer one hours.
        emulator_media(fault_kinds=("trickle",), trickle_rate=2000.0),
        exits={"*": codes(5)},
    ),
    Fault(
        "media",
        "a recording whose headers never end",
        DOWNLOADERS,
        media_answers("headers"),
        exits={"*": codes(5)},
    ),
    Fault(
        "media",
        "a recording body dropped mid-way",
        DOWNLOADERS,
        emulator_media(fault_kinds=("cut",)),
        exits={"*": codes(5)},
    ),
    Fault(
        "media",
        "429 with a Retry-After longer than rcauth waits",
        DOWNLOADERS,
        media_answers("429"),
        exits={"*": codes(5)},
    ),
    Fault(
        "media",
        "403: the app lacks ReadCallRecording",
        DOWNLOADERS,
        without_recording_permission,
        exits={"*": codes(5)},
        signed_in=False,
    ),
    Fault(
        "media",
        "a contentUri on a foreign host (it must never see the token)",
        DOWNLOADERS,
        content_on_a_foreign_host,
        # `rcauth api` refuses the URL as a usage error; a download fails that recording alone.
        exits={"api-media": codes(2), "api-media-stdout": codes(2), "*": codes(5)},
    ),
    Fault(
        "media",
        "a recording answered by a captive portal's HTML page",
        DOWNLOADERS,
        media_answers("html"),
        # Never kept as a recording; `rcauth api` and `Client.download` save what they were sent.
        exits={name: codes(5) for name in SAVERS},
    ),
    Fault(
        "media",
        "a Content-Length larger than the body sent",
        DOWNLOADERS,
        media_answers("short"),
        exits={"*": codes(5)},
    ),
    Fault(
        "media",
        "record fields that become file names: traversal, controls, device names, 500 characters",
        SAVERS,
        hostile(listing=HOSTILE_NAMES),
        exits={"*": codes(0)},
    ),
    # -- the directory recordings are saved in ------------------------------------------------------
    Fault(
        "download directory",
        "another rcauth is downloading into it",
        SAVERS,
        another_download_into_dir,
        exits={"*": codes(1)},  # DownloadBusy (README: exit codes)
    ),
    Fault(
        "download directory",
        "it is a file",
        ("recordings-download", "recordings-download-json"),
        dir_is_a_file,
        exits={"*": codes(2)},  # a usage error: --dir names no directory
    ),
)


def rows() -> list[tuple[Fault, Command]]:
    return [(fault, CMD[name]) for fault in FAULTS for name in fault.commands]
