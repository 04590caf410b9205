"""rcauth's benchmark suite: start-up, per-call overhead, refresh, streaming, rate limits, login and a
recording's download, each against baselines measured in the same run, against the emulator on loopback.

    python3 bench/run.py            # everything (10 to 20 minutes: the 1,000,000-record listings dominate)
    python3 bench/run.py --quick    # a smoke run: fewer runs, smaller listings (about a minute)
    python3 bench/run.py --only startup per-call gc

Prints a table of medians and ratios and writes every run to bench/results/<time>.json (and latest.json).
Targets are reported, never asserted: the test suite has no timed assertions.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import fixtures
from harness import (
    PYTHON,
    ROOT,
    ChildFailed,
    Command,
    CounterWatch,
    EmulatorProcess,
    Row,
    Sample,
    interleaved,
    machine,
    paired,
    paired_diff,
    paired_spread,
    render_table,
    row_from,
)

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DATE_FROM = "2000-01-01T00:00:00.000Z"
RCAUTH = [PYTHON, "-m", "rcauth"]
# What must not load at start-up (and, for a plain API call, what need not).
HEAVY = (
    "requests",
    "urllib3",
    "charset_normalizer",
    "requests_oauthlib",
    "oauthlib",
    "keyring",
    "secretstorage",
    "rich",
    "platformdirs",
    "filelock",
    "dotenv",
    "ringcentral_emulator",
    "importlib.metadata",
    "importlib_metadata",
)


@dataclass(frozen=True)
class Plan:
    """How much to run: the full suite or `--quick`."""

    startup_runs: int
    call_runs: int
    small: int
    big: int
    stream_runs_small: int
    stream_runs_big: int
    rate_pages: int
    rate_window: float
    rate_runs: int
    login_runs: int
    media_runs: int

    @classmethod
    def full(cls) -> Plan:
        return cls(30, 40, 10_000, 1_000_000, 5, 3, 40, 2.0, 3, 20, 15)

    @classmethod
    def quick(cls) -> Plan:
        return cls(6, 5, 2_000, 20_000, 2, 2, 20, 2.0, 1, 5, 3)


@dataclass
class Context:
    plan: Plan
    emulator: EmulatorProcess
    home: Path
    env: dict[str, str]
    script: Path | None
    results: dict[str, Any] = field(default_factory=dict)
    # When a group last turned the emulator's rate limits off (monotonic): what it admitted stays in the
    # emulator's window, and the penalty of a 429 after it, for a while (the same user and app).
    limits_off_at: float | None = None

    @property
    def server(self) -> str:
        return self.emulator.base_url

    @property
    def data_dir(self) -> Path:
        return self.home / "data"


# -- import profile ------------------------------------------------------------------------------------
def import_profile(argv: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """`python -X importtime ARGV`: every module imported, its cumulative microseconds, the heavy ones."""
    proc = subprocess.run(
        [PYTHON, "-X", "importtime", *argv], env=env, capture_output=True, check=False, timeout=120
    )
    modules: dict[str, tuple[int, int]] = {}
    for line in proc.stderr.decode(errors="replace").splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)", line)
        if match:
            modules[match[4]] = (int(match[1]), int(match[2]))
    return {"modules": modules, "heavy": {h: modules[h][1] for h in HEAVY if h in modules}}


def beyond(profile: dict[str, Any], baseline: dict[str, Any], top: int = 8) -> dict[str, Any]:
    """What `profile` imports that `baseline` does not: total self time and the biggest packages."""
    extra = {m: v for m, v in profile["modules"].items() if m not in baseline["modules"]}
    packages: dict[str, int] = {}
    for module, (self_us, _) in extra.items():
        root = ".".join(module.split(".")[:2]) if module.startswith("rcauth.") else module.split(".")[0]
        packages[root] = packages.get(root, 0) + self_us
    biggest = sorted(packages.items(), key=lambda kv: -kv[1])[:top]
    return {
        "extra_ms": sum(v[0] for v in extra.values()) / 1000,
        "by_package_ms": {k: round(v / 1000, 1) for k, v in biggest},
    }


def describe_imports(profile: dict[str, Any], baseline: dict[str, Any]) -> str:
    """One line: import time (self, -X importtime) beyond the baseline's modules, and the heavy ones."""
    more = beyond(profile, baseline, top=5)
    heavy = ", ".join(h for h in profile["heavy"] if h not in baseline["heavy"]) or "none"
    parts = ", ".join(f"{k} {v:.1f}" for k, v in more["by_package_ms"].items())
    return f"imports +{more['extra_ms']:.0f} ms beyond the baseline's ({parts}); heavy beyond it: {heavy}"


# -- the groups ------------------------------------------------------------------------------------------
def startup(ctx: Context) -> list[Row]:
    """`rcauth --help` / `--version`, by `python -m rcauth` and the console script, vs `import click`."""
    env = ctx.env
    baseline = Command("python -c 'import click' (baseline)", [PYTHON, "-c", "import click"], env)
    commands = [
        baseline,
        Command("python -c pass (interpreter alone)", [PYTHON, "-c", "pass"], env),
        Command("python -m rcauth --help", [*RCAUTH, "--help"], env),
        Command("python -m rcauth --version", [*RCAUTH, "--version"], env),
    ]
    if ctx.script is not None:
        commands += [
            Command("rcauth --help (console script)", [str(ctx.script), "--help"], env),
            Command("rcauth --version (console script)", [str(ctx.script), "--version"], env),
        ]
    series = interleaved(commands, runs=ctx.plan.startup_runs, warmup=2)
    base = series[baseline.name]
    click_profile = import_profile(["-c", "import click"], env)
    profiles = {
        "--help": import_profile(["-m", "rcauth", "--help"], env),
        "--version": import_profile(["-m", "rcauth", "--version"], env),
    }
    script_note = ""
    if ctx.script is not None:
        text = ctx.script.read_text(errors="replace")
        script_note = (
            "console script imports importlib.metadata"
            if "metadata" in text
            else ("console script: a plain import of `rcauth.__main__:main` (no importlib.metadata)")
        )
    rows = []
    for name, s in series.items():
        if name == baseline.name:
            rows.append(row_from("start-up", s, ratio="1.00", note="the baseline"))
            continue
        if "interpreter" in name:
            rows.append(row_from("start-up", s, ratio=f"{paired(s, base):.2f}", note="for scale"))
            continue
        ratio = paired(s, base)
        flag = "--help" if "--help" in name else "--version"
        note = describe_imports(profiles[flag], click_profile)
        if "console" in name:
            note = script_note
        rows.append(
            row_from("start-up", s, ratio=f"{ratio:.2f}", target="<= 1.30", ok=ratio <= 1.30, note=note)
        )
    ctx.results["startup"] = {
        "series": [s.to_json() for s in series.values()],
        "import_profile": {
            flag: {"heavy_us": p["heavy"], **beyond(p, click_profile, top=15)} for flag, p in profiles.items()
        },
        "console_script": script_note,
    }
    return rows


def per_call(ctx: Context) -> list[Row]:
    """`rcauth whoami --json` with a stored session vs the official SDK and a bare requests script."""
    env, server = ctx.env, ctx.server
    fixtures.store_session(ctx.data_dir, "default", server)
    req_tokens = fixtures.token_file(ctx.home / "requests-token.json", server)
    sdk_tokens = fixtures.token_file(ctx.home / "sdk-token.json", server)
    watches = {name: CounterWatch(ctx.emulator) for name in ("rcauth", "requests", "sdk", "script")}

    def cmd(name: str, key: str, argv: list[str]) -> Command:
        return Command(name, argv, env, before=watches[key].before, after=watches[key].after)

    rc = cmd("rcauth whoami --json (python -m rcauth)", "rcauth", [*RCAUTH, "whoami", "--json"])
    bare = cmd(
        "bare requests.get script",
        "requests",
        [PYTHON, str(BENCH / "baselines/requests_whoami.py"), server, str(req_tokens)],
    )
    sdk = cmd(
        "ringcentral SDK script",
        "sdk",
        [PYTHON, str(BENCH / "baselines/sdk_whoami.py"), server, str(sdk_tokens)],
    )
    commands = [bare, sdk, rc]
    if ctx.script is not None:
        commands.append(
            cmd("rcauth whoami --json (console script)", "script", [str(ctx.script), "whoami", "--json"])
        )
    series = interleaved(commands, runs=ctx.plan.call_runs, warmup=2)
    b, k = series[bare.name], series[sdk.name]
    same = len({json.loads(s.samples[-1].stdout_head)["id"] for s in series.values()}) == 1
    click_profile = import_profile(["-c", "import click"], env)
    bare_profile = import_profile([str(BENCH / "baselines/requests_whoami.py"), server, str(req_tokens)], env)
    who_profile = import_profile(["-m", "rcauth", "whoami", "--json"], env)
    rows = [
        row_from("per call: whoami", b, ratio="1.00", note="baseline (b)"),
        row_from("per call: whoami", k, ratio=f"{paired(k, b):.2f}", note="baseline (a)"),
    ]
    for name in [rc.name] + ([commands[-1].name] if ctx.script is not None else []):
        s = series[name]
        key = "rcauth" if name == rc.name else "script"
        requests_per_run = set(watches[key].per_run("requests"))
        to_sdk, to_bare = paired(s, k), paired(s, b)
        rows.append(
            row_from(
                "per call: whoami",
                s,
                ratio=f"{to_sdk:.3f} / {to_bare:.2f}",
                target="<= 1.00 / <= 1.30",
                ok=to_sdk <= 1.0 and to_bare <= 1.3 and requests_per_run == {1} and same,
                note=f"vs SDK / vs requests; CPU {paired(s, k, 'cpu'):.2f} / {paired(s, b, 'cpu'):.2f}; "
                f"HTTP requests per run {sorted(requests_per_run)}; same answer: {same}"
                + (f"; {describe_imports(who_profile, bare_profile)}" if name == rc.name else ""),
            )
        )
    ctx.results["per_call"] = {
        "series": [s.to_json() for s in series.values()],
        "import_profile": {
            "whoami_heavy_us": who_profile["heavy"],
            "whoami_beyond_click": beyond(who_profile, click_profile, top=15),
            "whoami_beyond_bare_requests": beyond(who_profile, bare_profile, top=15),
        },
        "requests_per_run": {k2: w.per_run("requests") for k2, w in watches.items()},
    }
    ctx.results["_whoami_series"] = series[rc.name]
    return rows


def per_round(a: Any, b: Any) -> str:
    """The per-round ratios a/b: lowest, quartiles, highest (the spread behind a paired median)."""
    ratios = sorted(x.wall / y.wall for x, y in zip(a.samples, b.samples, strict=True))
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    quartiles = " / ".join(f"{x:.2f}" for x in q)
    return f"per-round ratios min {ratios[0]:.2f}, quartiles {quartiles}, max {ratios[-1]:.2f}"


def secret_service(ctx: Context) -> list[Row]:
    """The session in a real Secret Service: `whoami` vs the SDK script restoring its tokens from a file,
    `token` (fresh access token) vs `python -c "import click"`, each paired with its baseline in the
    same interleaved rounds; and, for scale, the file store and keyring's discovery on every run."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return [
            Row(
                "secret service",
                "rcauth whoami, session in the Secret Service",
                note="skipped: DBUS_SESSION_BUS_ADDRESS is not set (no Secret Service); see bench/README.md",
            )
        ]
    env = {
        k: v
        for k, v in ctx.env.items()
        if k not in ("PYTHON_KEYRING_BACKEND", "RCAUTH_INSECURE_STORAGE")
        and not k.startswith("KEYRING_PROPERTY")
    }
    env["DBUS_SESSION_BUS_ADDRESS"] = os.environ["DBUS_SESSION_BUS_ADDRESS"]
    profile = f"rcauth-bench-{os.getpid()}"
    login = subprocess.run(
        [*RCAUTH, "--profile", profile, "login", "--jwt"],
        env={**env, "RC_JWT": fixtures.DEMO_JWT},
        capture_output=True,
        check=False,
        timeout=120,
    )
    if login.returncode != 0:
        return [
            Row(
                "secret service",
                "rcauth whoami, session in the Secret Service",
                note=f"skipped: login to the Secret Service failed: {login.stderr.decode()[-200:]!r}",
            )
        ]
    sdk_tokens = fixtures.token_file(ctx.home / "sdk-secret-service-token.json", ctx.server)
    record = Path(env["RCAUTH_STATE_DIR"]) / "keyring-backend.json"
    token_out: set[str] = set()

    def forget_backend() -> None:
        record.unlink(missing_ok=True)

    def token_printed(sample: Sample) -> None:
        token_out.add(sample.stdout_head.decode(errors="replace").strip()[:12])

    rc = [*RCAUTH, "--profile", profile]
    click_base = Command("python -c 'import click' (baseline)", [PYTHON, "-c", "import click"], env)
    token = Command("rcauth token (fresh token), Secret Service", [*rc, "token"], env, after=token_printed)
    sdk = Command(
        "ringcentral SDK script, tokens from a JSON file",
        [PYTHON, str(BENCH / "baselines/sdk_whoami.py"), ctx.server, str(sdk_tokens)],
        env,
    )
    whoami = Command("rcauth whoami --json, Secret Service", [*rc, "whoami", "--json"], env)
    file = Command("rcauth whoami --json, file store", [*RCAUTH, "whoami", "--json"], ctx.env)
    discovering = Command(
        "  the same, keyring's discovery on every run (nothing remembered)",
        [*rc, "whoami", "--json"],
        env,
        before=forget_backend,
    )
    try:
        series = interleaved(
            [click_base, token, sdk, whoami, file, discovering], runs=ctx.plan.call_runs, warmup=2
        )
        token_profile = import_profile([*rc[1:], "token"], env)
    finally:
        subprocess.run([*rc, "logout"], env=env, capture_output=True, check=False)
    c, t, k, w, f, d = (series[x.name] for x in (click_base, token, sdk, whoami, file, discovering))
    token_ratio, whoami_ratio = paired(t, c), paired(w, k)
    ctx.results["secret_service"] = {
        "series": [x.to_json() for x in series.values()],
        "token_vs_click_per_round": [a.wall / b.wall for a, b in zip(t.samples, c.samples, strict=True)],
        "whoami_vs_sdk_per_round": [a.wall / b.wall for a, b in zip(w.samples, k.samples, strict=True)],
    }
    heavy = ", ".join(h for h in token_profile["heavy"]) or "none"
    return [
        row_from("secret service", c, ratio="1.00", note="baseline of the token row"),
        row_from(
            "secret service",
            t,
            ratio=f"{token_ratio:.2f}",
            target="<= 2.00",
            ok=token_ratio <= 2.0 and len(token_out) == 1,
            note=f"vs import click; {per_round(t, c)}; heavy imports: {heavy}",
        ),
        row_from("secret service", k, ratio="1.00", note="baseline of the whoami row"),
        row_from(
            "secret service",
            w,
            ratio=f"{whoami_ratio:.3f}",
            target="<= 1.10",
            ok=whoami_ratio <= 1.1,
            note=f"vs the SDK script; CPU {paired(w, k, 'cpu'):.2f}; {per_round(w, k)}",
        ),
        row_from(
            "secret service",
            f,
            ratio=f"{paired(f, k):.3f}",
            note=f"vs the SDK script; the Secret Service adds {paired_diff(w, f) * 1000:.0f} ms wall to it",
        ),
        row_from(
            "secret service",
            d,
            ratio=f"{paired(d, k):.3f}",
            note=f"vs the SDK script; remembering the backend saves {paired_diff(d, w) * 1000:.0f} ms a run",
        ),
    ]


def gc_handling(ctx: Context) -> list[Row]:
    """What the entry point's handling of the garbage collector saves (`rcauth.__main__`): `whoami
    --json` and `token` run through `rcauth.__main__.main` and through `rcauth.cli.main`, the same
    command with the collector left alone, paired by round. The handling stays only while it pays."""
    rows: list[Row] = []
    for args in (["whoami", "--json"], ["token"]):
        command = f"rcauth {' '.join(args)}"
        alone = Command(
            f"{command}, collector left alone (rcauth.cli.main)",
            [PYTHON, "-c", "from rcauth.cli import main; main()", *args],
            ctx.env,
        )
        entry = Command(
            f"{command}, the entry point (rcauth.__main__.main)",
            [PYTHON, "-c", "from rcauth.__main__ import main; main()", *args],
            ctx.env,
        )
        series = interleaved([alone, entry], runs=ctx.plan.call_runs, warmup=2)
        a, e = series[alone.name], series[entry.name]
        ratio = paired(e, a)
        rows += [
            row_from("gc", a, ratio="1.00", note="baseline"),
            row_from(
                "gc",
                e,
                ratio=f"{ratio:.3f}",
                target="< 1.00",
                ok=ratio < 1.0,
                note=f"CPU {paired(e, a, 'cpu'):.3f}; {paired_diff(a, e) * 1000:.0f} ms wall and "
                f"{paired_diff(a, e, 'cpu') * 1000:.0f} ms CPU saved a run; {per_round(e, a)}",
            ),
        ]
        ctx.results.setdefault("gc", {})[command] = [x.to_json() for x in series.values()]
    return rows


def refresh(ctx: Context) -> list[Row]:
    """A whoami that must refresh first vs a plain whoami: requests counted at the emulator."""
    fixtures.store_session(ctx.data_dir, "refresh", ctx.server)
    plain_watch, refresh_watch = CounterWatch(ctx.emulator), CounterWatch(ctx.emulator)

    def stale_then_watch() -> None:
        fixtures.make_access_token_stale(ctx.data_dir, "refresh")
        refresh_watch.before()

    plain = Command(
        "rcauth whoami --json (valid access token)",
        [*RCAUTH, "whoami", "--json"],
        ctx.env,
        before=plain_watch.before,
        after=plain_watch.after,
    )
    stale = Command(
        "rcauth whoami --json (expired: refresh first)",
        [*RCAUTH, "--profile", "refresh", "whoami", "--json"],
        ctx.env,
        before=stale_then_watch,
        after=refresh_watch.after,
    )
    series = interleaved([plain, stale], runs=ctx.plan.call_runs, warmup=2)
    p, s = series[plain.name], series[stale.name]
    plain_requests = set(plain_watch.per_run("requests"))
    refresh_requests = set(refresh_watch.per_run("requests"))
    refresh_grants = set(refresh_watch.per_run("grants", "refresh_token"))
    ok = plain_requests == {1} and refresh_requests == {2} and refresh_grants == {1}
    ctx.results["refresh"] = {
        "series": [x.to_json() for x in series.values()],
        "requests_per_run": {
            "plain": plain_watch.per_run("requests"),
            "refresh": refresh_watch.per_run("requests"),
        },
        "refresh_grants_per_run": refresh_watch.per_run("grants", "refresh_token"),
    }
    return [
        row_from("refresh", p, ratio="1.00", note=f"HTTP requests per run {sorted(plain_requests)}"),
        row_from(
            "refresh",
            s,
            ratio=f"{paired(s, p):.2f}",
            target="+1 request (1 token grant)",
            ok=ok,
            note=f"HTTP requests per run {sorted(refresh_requests)}, token grants {sorted(refresh_grants)}; "
            f"+{paired_diff(s, p) * 1000:.0f} ms wall, +{paired_diff(s, p, 'cpu') * 1000:.0f} ms CPU",
        ),
    ]


def json_of_script(script: str, args: list[str], env: Mapping[str, str]) -> Any:
    """Run one of bench/'s in-process measurements, which prints one JSON object; its error, if any."""
    proc = subprocess.run(
        [PYTHON, str(BENCH / script), *args], env=dict(env), capture_output=True, check=False, timeout=600
    )
    if proc.returncode != 0:
        raise ChildFailed(f"{script}: {proc.stderr.decode()[-500:]}")
    return json.loads(proc.stdout)


def streaming(ctx: Context) -> list[Row]:
    """`call-log --all --format ndjson` over N and 100 N records vs the SDK and a bare requests loop."""
    server = ctx.server
    req_tokens = fixtures.token_file(ctx.home / "requests-stream-token.json", server)
    sdk_tokens = fixtures.token_file(ctx.home / "sdk-stream-token.json", server)
    rows: list[Row] = []
    by_size: dict[int, dict[str, Any]] = {}
    for size, runs, warmup in (
        (ctx.plan.small, ctx.plan.stream_runs_small, 1),
        (ctx.plan.big, ctx.plan.stream_runs_big, 0),
    ):
        ctx.emulator.set(call_records=size)
        watches = {k: CounterWatch(ctx.emulator) for k in ("rcauth", "requests", "sdk")}
        wrong: list[str] = []

        def check(
            name: str, watch: CounterWatch, want: int = size, wrong: list[str] = wrong
        ) -> Callable[[Sample], None]:
            def after(sample: Sample) -> None:
                watch.after(sample)
                if sample.lines != want:
                    wrong.append(f"{name}: {sample.lines} lines, not {want}")

            return after

        label = f"{size:,}"
        clients = {
            "rcauth": (
                "rcauth call-log --all --format ndjson",
                [*RCAUTH, "call-log", "--all", "--from", DATE_FROM, "--format", "ndjson"],
            ),
            "requests": (
                "bare requests loop",
                [PYTHON, str(BENCH / "baselines/requests_call_log.py"), server, str(req_tokens), DATE_FROM],
            ),
            "sdk": (
                "ringcentral SDK loop",
                [PYTHON, str(BENCH / "baselines/sdk_call_log.py"), server, str(sdk_tokens), DATE_FROM],
            ),
        }
        commands = [
            Command(
                f"{title}, {label}",
                argv,
                ctx.env,
                before=watches[key].before,
                after=check(key, watches[key]),
            )
            for key, (title, argv) in clients.items()
        ]
        print(f"  streaming {label} records: {runs} run(s) of 3 clients ...", file=sys.stderr, flush=True)
        series = interleaved(commands, runs=runs, warmup=warmup)
        rc, bare, sdk = (series[c.name] for c in commands)
        rate = {k: size / s.wall for k, s in zip(("rcauth", "requests", "sdk"), (rc, bare, sdk), strict=True)}
        connections = {k: sorted(set(w.per_run("connections"))) for k, w in watches.items()}
        http_requests = {k: sorted(set(w.per_run("requests"))) for k, w in watches.items()}
        # rcauth's overhead: its CPU time over the bare requests loop's, paired by round (at the big size
        # start-up is a fraction of a per cent of it, so this is CPU a record). Throughput, the
        # baseline's wall time over rcauth's, is reported: it is bound by the emulator, and on
        # RingCentral by the Heavy group's 10 requests a minute, not by the client.
        overhead = paired(rc, bare, "cpu")
        band = paired_spread(rc, bare, "cpu")
        speed = {"requests": paired(bare, rc), "sdk": paired(sdk, rc)}
        for key, s in (("rcauth", rc), ("requests", bare), ("sdk", sdk)):
            conn = connections[key] if any(connections[key]) else ["not counted"]
            note = (
                f"{rate[key]:,.0f} records/s ({s.cpu * 1e6 / size:.1f} us CPU a record); "
                f"connections per run {conn}; requests per run {http_requests[key]}"
            )
            if key == "rcauth":
                correct = not wrong and conn in ([1], ["not counted"])
                # The CPU target is the long listing's; at the small size start-up dominates (there for
                # the memory comparison), so its ratio is shown without a verdict.
                verdict = (overhead <= 1.05 if size == ctx.plan.big else None) if correct else False
                rows.append(
                    row_from(
                        "streaming",
                        s,
                        ratio=f"{overhead:.3f}",
                        target="<= 1.05" if size == ctx.plan.big else "",
                        ok=verdict,
                        note=f"CPU vs the bare requests loop (spread of the rounds +-{band:.1%}); "
                        f"throughput {speed['requests']:.2f} / {speed['sdk']:.2f} of requests' / the SDK's; "
                        + note
                        + ("" if size == ctx.plan.big else "; start-up dominates at this size")
                        + (f"; WRONG: {wrong}" if wrong else ""),
                    )
                )
            else:
                rows.append(row_from("streaming", s, note=note))
        by_size[size] = {
            "series": [s.to_json() for s in series.values()],
            "records_per_s": rate,
            "connections_per_run": {k: w.per_run("connections") for k, w in watches.items()},
            "requests_per_run": {k: w.per_run("requests") for k, w in watches.items()},
            "wrong": wrong,
            "_rss": {
                k: s.rss_mib for k, s in zip(("rcauth", "requests", "sdk"), (rc, bare, sdk), strict=True)
            },
        }
    small, big = by_size[ctx.plan.small]["_rss"], by_size[ctx.plan.big]["_rss"]
    flat = big["rcauth"] / small["rcauth"]
    rows.append(
        Row(
            "streaming",
            f"rcauth peak RSS, {ctx.plan.big:,} vs {ctx.plan.small:,} records",
            rss_mib=big["rcauth"],
            ratio=f"{flat:.2f}",
            target="<= 1.20",
            ok=flat <= 1.2,
            note=f"{small['rcauth']:.1f} -> {big['rcauth']:.1f} MiB (requests loop "
            f"{big['requests'] / small['requests']:.2f}, SDK {big['sdk'] / small['sdk']:.2f})",
        )
    )
    # The same pipeline without the emulator, the network or start-up: the per-record cost alone.
    ctx.emulator.set(call_records=20_000)
    pipeline = json_of_script("pipeline.py", ["--server", server, "--token-file", str(req_tokens)], ctx.env)
    per = pipeline["us_per_record"]
    cost = per["rcauth"]["median"] / per["requests"]["median"]
    rows.append(
        Row(
            "streaming",
            "listing pipeline in-process, no network (us a record)",
            ratio=f"{cost:.2f}",
            target="<= 1.00",
            ok=cost <= 1.0 or ("tie" if cost <= 1.03 else False),
            note=f"rcauth paginate + write_records {per['rcauth']['median']:.2f} us a record (best "
            f"{per['rcauth']['best']:.2f}) vs the bare requests loop {per['requests']['median']:.2f} "
            f"(best {per['requests']['best']:.2f}), same {pipeline['records']:,} records from memory",
        )
    )
    ctx.results["pipeline"] = pipeline
    ctx.results["streaming"] = {
        str(k): {kk: vv for kk, vv in v.items() if kk != "_rss"} for k, v in by_size.items()
    }
    ctx.emulator.set(call_records=ctx.plan.small)
    return rows


def rate_limit(ctx: Context) -> list[Row]:
    """A listing of `rate_pages` pages with the Heavy group at 10 requests a window: no 429, and close to
    the least time the limit allows."""
    plan, pages, window, limit = ctx.plan, ctx.plan.rate_pages, ctx.plan.rate_window, 10
    argv = [*RCAUTH, "call-log", "--all", "--from", DATE_FROM, "--format", "ndjson"]
    # Unlimited, one page and all pages: start-up cost and the time a page takes.
    timing: dict[int, float] = {}
    for n in (1, pages):
        ctx.emulator.set(call_records=n * 1000)
        runs = interleaved([Command(f"{n} page(s)", argv, ctx.env)], runs=3, warmup=1)
        timing[n] = runs[f"{n} page(s)"].wall
    per_page = (timing[pages] - timing[1]) / (pages - 1)
    bursts = math.ceil(pages / limit)
    # The first request goes when the process is up (one-page run minus its page); request k*limit+1 no
    # earlier than k windows after the first; the last burst then takes `limit` pages.
    floor = timing[1] + (bursts - 1) * window + (min(limit, pages) - 1) * per_page
    ctx.emulator.set(
        call_records=pages * 1000,
        rate_limits_enabled=True,
        rate_limits={"Heavy": limit},
        rate_window=window,
        rate_penalty=60,
    )
    watch = CounterWatch(ctx.emulator)

    def fresh_window() -> None:
        time.sleep(window + 0.3)  # what the previous run admitted has left the sliding window
        watch.before()

    name = f"rcauth call-log --all, {pages} pages at Heavy {limit}/{window:g} s"
    try:
        series = interleaved(
            [Command(name, argv, ctx.env, before=fresh_window, after=watch.after)],
            runs=plan.rate_runs,
            warmup=0,
        )
    finally:
        ctx.emulator.set(rate_limits_enabled=False, call_records=plan.small)
        ctx.limits_off_at = time.monotonic()
    s = series[name]
    limited = watch.per_run("rate_limited")
    ratio = s.wall / floor
    ctx.results["rate_limit"] = {
        "series": s.to_json(),
        "floor_s": floor,
        "unlimited_s": timing,
        "per_page_s": per_page,
        "rate_limited_per_run": limited,
        "requests_per_run": watch.per_run("requests"),
    }
    return [
        row_from(
            "rate limit",
            s,
            ratio=f"{ratio:.2f}",
            target="<= 1.10, no 429",
            ok=ratio <= 1.1 and not any(limited),
            note=f"floor {floor:.2f} s = start-up and first page {timing[1]:.2f} s + {bursts - 1} windows "
            f"+ {min(limit, pages) - 1} pages x {per_page * 1000:.0f} ms; 429s per run {limited}; "
            f"requests per run {sorted(set(watch.per_run('requests')))}",
        )
    ]


# One large recording: a WAV recording (16,000 bytes a second and a 44-byte header) of 3,277 s is
# 52,432,044 bytes; one of 6.4 s is 102,444 bytes, almost nothing but start-up and one request.
MEDIA_SECONDS = {"52 MB": 3277.0, "100 KB": 6.4}
MB = 1e6


def wav_content_uri(server: str, access_token: str) -> str:
    """The `contentUri` of one of the call log's WAV recordings (about one in five is WAV, the rest
    MP3): the largest a second, so a long one is the large download."""
    import requests

    headers = {"Authorization": f"Bearer {access_token}"}
    listing = requests.get(
        f"{server}/restapi/v1.0/account/~/extension/~/call-log",
        params={"withRecording": "true", "perPage": "100", "dateFrom": DATE_FROM},
        headers=headers,
        timeout=30,
    )
    listing.raise_for_status()
    for record in listing.json()["records"]:
        uri = str(record["recording"]["contentUri"])
        if requests.head(uri, headers=headers, timeout=30).headers.get("Content-Type") == "audio/wav":
            return uri
    raise RuntimeError("no WAV recording among the call log's first 100 recordings")


def content_length(uri: str, access_token: str) -> int:
    import requests

    head = requests.head(uri, headers={"Authorization": f"Bearer {access_token}"}, timeout=30)
    head.raise_for_status()
    return int(head.headers["Content-Length"])


def media(ctx: Context) -> list[Row]:
    """One large recording (52 MB) from the emulator's media origin: `rcauth api GET <contentUri>
    --output FILE` vs `curl -o FILE` with the same token, interleaved, and the same pair for a 100 KB
    recording (start-up and one request): throughput, the rcauth process's peak RSS, and every file
    checked whole (its size the Content-Length, one sha256 for both clients)."""
    server, media_url = ctx.server, ctx.emulator.media_url
    session = fixtures.store_session(ctx.data_dir, "media", server, media_server=media_url)
    header = fixtures.bearer_header_file(ctx.home / "curl-media-header", session.access_token)
    uri = wav_content_uri(server, session.access_token)
    lengths: dict[str, int] = {}
    for size, seconds in MEDIA_SECONDS.items():
        ctx.emulator.set(recording_seconds=seconds)
        lengths[size] = content_length(uri, session.access_token)
    watches: dict[str, CounterWatch] = {}
    digests: dict[str, set[str]] = {size: set() for size in MEDIA_SECONDS}
    wrong: list[str] = []

    def command(client: str, size: str) -> Command:
        out = ctx.home / f"media-{client}-{size.replace(' ', '')}.wav"
        argv = {
            "rcauth": [*RCAUTH, "--profile", "media", "api", "GET", uri, "--output", str(out)],
            # -f: an error answer fails the run rather than landing in the file.
            "curl": ["curl", "-s", "-f", "-o", str(out), "-H", f"@{header}", uri],
        }[client]
        name = {
            "rcauth": f"rcauth api GET CONTENT_URI --output FILE, {size} WAV",
            "curl": f"curl -s -f -o FILE -H @HEADER_FILE CONTENT_URI, {size} WAV",
        }[client]
        watch = watches.setdefault(name, CounterWatch(ctx.emulator))

        def before() -> None:
            ctx.emulator.set(recording_seconds=MEDIA_SECONDS[size])
            out.unlink(missing_ok=True)
            watch.before()

        def after(sample: Sample) -> None:
            watch.after(sample)
            got = out.stat().st_size if out.exists() else None
            if got != lengths[size]:
                wrong.append(f"{name}: {got} bytes, not {lengths[size]}")
            with out.open("rb") as fh:
                digests[size].add(hashlib.file_digest(fh, "sha256").hexdigest())
            out.unlink()

        return Command(name, argv, ctx.env, before=before, after=after)

    commands = [command(client, size) for size in MEDIA_SECONDS for client in ("rcauth", "curl")]
    try:
        series = interleaved(commands, runs=ctx.plan.media_runs, warmup=1)
    finally:
        ctx.emulator.set(recording_seconds=None)
    rc_big, curl_big, rc_small, curl_small = (series[c.name] for c in commands)
    whole = not wrong and all(len(d) == 1 for d in digests.values())
    big, small = lengths["52 MB"], lengths["100 KB"]
    # Throughput of the whole process (start-up, sign-in from the store, the request, the body, the
    # file's fsync and rename): the same bytes, so curl's wall time over rcauth's, paired by round.
    speed = paired(curl_big, rc_big)
    # Without start-up: the extra bytes over the extra time the large download takes, paired by round.
    body = {
        "rcauth": (big - small) / paired_diff(rc_big, rc_small) / MB,
        "curl": (big - small) / paired_diff(curl_big, curl_small) / MB,
    }
    transfer = body["rcauth"] / body["curl"]
    rss_growth_mb = (rc_big.rss_mib - rc_small.rss_mib) * 1024 * 1024 / MB
    # Where the link, not the client, sets the pace (RingCentral over the internet), both bodies take
    # the same time t and the ratio is (curl's start-up + t) / (rcauth's + t): 0.8 once t reaches
    # (0.8 x rcauth's - curl's) / 0.2, i.e. on a link slower than this many MB/s for this size.
    crossover = big / ((0.8 * rc_small.wall - curl_small.wall) / 0.2) / MB
    requests_per_run = {n: sorted(set(w.per_run("media_requests"))) for n, w in watches.items()}
    limited = sum(sum(w.per_run("rate_limited")) for w in watches.values())
    ctx.results["media"] = {
        "series": [x.to_json() for x in series.values()],
        "content_length": lengths,
        "sha256": {k: sorted(v) for k, v in digests.items()},
        "wrong": wrong,
        "body_mb_per_s": body,
        "crossover_mb_per_s": crossover,
        "media_requests_per_run": {n: w.per_run("media_requests") for n, w in watches.items()},
        "media_bytes_per_run": {n: w.per_run("media_bytes") for n, w in watches.items()},
    }

    def rate(s: Any, n: int) -> str:
        return f"{n / s.wall / MB:,.{0 if n > 10 * MB else 2}f} MB/s whole process"

    checks = f"whole: {whole} (size = Content-Length, one sha256 for both clients); 429s {limited}"
    return [
        row_from("media", curl_big, ratio="1.00", note=f"baseline; {rate(curl_big, big)}"),
        row_from(
            "media",
            rc_big,
            ratio=f"{speed:.2f}",
            target=">= 0.80",
            ok=speed >= 0.8 and whole and not limited,
            note=f"throughput vs curl's, start-up included; {rate(rc_big, big)}; without start-up (the "
            f"52 MB run less the 100 KB run) {body['rcauth']:,.0f} MB/s vs curl's {body['curl']:,.0f} "
            f"({body['rcauth'] / body['curl']:.2f}); CPU {paired_diff(rc_big, rc_small, 'cpu') * 1000:.0f} "
            f"ms beyond the 100 KB run; at 0.80 on a link slower than {crossover:.0f} MB/s (estimated "
            f"from the 100 KB runs); {per_round(curl_big, rc_big)}; media requests per run "
            f"{requests_per_run[rc_big.name]}; {checks}",
        ),
        Row(
            "media",
            "rcauth transfer throughput, 52 MB WAV, start-up excluded",
            ratio=f"{transfer:.2f}",
            target=">= 0.80",
            ok=transfer >= 0.8 and whole and not limited,
            note=f"the 52 MB run less the 100 KB run, both clients, paired by round: rcauth "
            f"{body['rcauth']:,.0f} MB/s (the body read, written, fsynced and renamed) vs curl's "
            f"{body['curl']:,.0f} (written, not fsynced); the row above is the same download with each "
            "process's start-up counted",
        ),
        row_from("media", curl_small, note=f"{rate(curl_small, small)}"),
        row_from(
            "media",
            rc_small,
            ratio=f"{paired(curl_small, rc_small):.2f}",
            note=f"vs curl's throughput: start-up and one request; {rate(rc_small, small)}",
        ),
        Row(
            "media",
            "rcauth peak RSS, 52 MB vs 100 KB download",
            rss_mib=rc_big.rss_mib,
            ratio=f"{round(rss_growth_mb, 1) + 0.0:+.1f} MB",
            target="+<= 20 MB",
            ok=rss_growth_mb <= 20,
            note=f"{rc_small.rss_mib:.1f} -> {rc_big.rss_mib:.1f} MiB; curl {curl_small.rss_mib:.1f} -> "
            f"{curl_big.rss_mib:.1f} MiB",
        ),
        recordings_under_limits(ctx, session.access_token),
    ]


# N recordings under RingCentral's default limits: one listing page (perPage N) and N content requests,
# all in the Heavy group, short recordings so that waiting, not transfer, is what the run is made of.
RECORDINGS = 12
RECORDING_SECONDS = 45.0


def recordings_under_limits(ctx: Context, access_token: str) -> Row:
    """`rcauth recordings download --limit N` with the emulator's default rate limits on (Heavy: 10
    requests a 60 s window, the call log's page and the content requests counted together): wall time
    over the least time the limit allows, 429s and requests counted at the emulator, and every file
    checked whole (its size the HEAD's Content-Length, its sha256 the manifest's and the unlimited
    runs'). The floor comes from unlimited runs of the same command, as in the rate-limit group."""
    from ringcentral_emulator.config import EmulatorConfig

    defaults = EmulatorConfig()
    limit, window, penalty = defaults.rate_limits["Heavy"], defaults.rate_window, defaults.rate_penalty
    n = RECORDINGS
    needed = n + 1  # the listing's one page and one content request a recording
    ctx.emulator.set(recording_seconds=RECORDING_SECONDS)
    try:
        listed = subprocess.run(
            [*RCAUTH, "--profile", "media", "recordings", "list", "--limit", str(n), "--from", DATE_FROM]
            + ["--format", "ndjson"],
            env=ctx.env,
            capture_output=True,
            check=True,
            timeout=120,
        )
        lengths = {
            str(r["recording"]["id"]): content_length(str(r["recording"]["contentUri"]), access_token)
            for r in map(json.loads, listed.stdout.splitlines())
        }
        digests: dict[str, set[str]] = {}
        wrong: list[str] = []

        def command(name: str, count: int, watch: CounterWatch) -> Command:
            folder = ctx.home / f"recordings-{count}"
            manifest = ctx.home / f"recordings-{count}.json"
            argv = [*RCAUTH, "--profile", "media", "recordings", "download", "--from", DATE_FROM]
            argv += ["--limit", str(count), "--dir", str(folder), "--manifest", str(manifest)]

            def before() -> None:
                shutil.rmtree(folder, ignore_errors=True)
                manifest.unlink(missing_ok=True)
                watch.before()

            def after(sample: Sample) -> None:
                watch.after(sample)
                problems = recordings_whole(folder, manifest, count, lengths, digests)
                wrong.extend(f"{name}: {problem}" for problem in problems)

            return Command(name, argv, ctx.env, before=before, after=after)

        # Unlimited: one recording and N, for start-up and the time a recording takes.
        one_watch, all_watch, limited_watch = (CounterWatch(ctx.emulator) for _ in range(3))
        one = command("1 recording, no limits", 1, one_watch)
        every = command(f"{n} recordings, no limits", n, all_watch)
        timing = interleaved([one, every], runs=3, warmup=1)
        unlimited = {1: timing[one.name].wall, n: timing[every.name].wall}
        per_recording = (unlimited[n] - unlimited[1]) / (n - 1)
        if ctx.limits_off_at is not None:
            # The window must start empty: what an earlier group had admitted has left it, and the
            # penalty of any 429 it got is over.
            time.sleep(max(0.0, ctx.limits_off_at + max(window, penalty) + 0.3 - time.monotonic()))
        ctx.emulator.set(
            rate_limits_enabled=True, rate_limits={"Heavy": limit}, rate_window=window, rate_penalty=penalty
        )
        name = f"rcauth recordings download, {n} recordings at Heavy {limit}/{window:g} s (the default)"
        loadavg = os.getloadavg()
        try:
            series = interleaved([command(name, n, limited_watch)], runs=1, warmup=0)
        finally:
            ctx.emulator.set(rate_limits_enabled=False)
            ctx.limits_off_at = time.monotonic()
    finally:
        ctx.emulator.set(recording_seconds=None)
    s = series[name]
    # The emulator's window slides and counts a request when it arrives: request k * limit + i is
    # admitted no earlier than a window after request (k - 1) * limit + i. So the last request, R =
    # (bursts - 1) * limit + last, goes no earlier than (bursts - 1) windows after request `last`, and
    # a client that sends the first burst back to back (as the unlimited run does) ends (bursts - 1)
    # windows after the unlimited run would have ended without the requests of the later bursts.
    bursts = math.ceil(needed / limit)
    last = needed - (bursts - 1) * limit
    waiting = needed - last  # requests after the first burst, each a recording
    floor = (bursts - 1) * window + unlimited[n] - waiting * per_recording
    ratio = s.wall / floor
    run = limited_watch.runs[0]
    heavy = run.get("api_calls", 0) + run.get("media_requests", 0)
    limited = run.get("rate_limited", 0)
    responses = dict(sorted((run.get("responses") or {}).items()))
    whole = not wrong and all(len(d) == 1 for d in digests.values()) and len(digests) == n
    size = sum(lengths.values())
    ctx.results["media"]["recordings"] = {
        "series": s.to_json(),
        "floor_s": floor,
        "unlimited_s": unlimited,
        "per_recording_s": per_recording,
        "limit": limit,
        "window_s": window,
        "heavy_requests": heavy,
        "rate_limited": limited,
        "responses": responses,
        "unlimited_heavy_requests_per_run": {
            "1": [r.get("api_calls", 0) + r.get("media_requests", 0) for r in one_watch.runs],
            str(n): [r.get("api_calls", 0) + r.get("media_requests", 0) for r in all_watch.runs],
        },
        "content_length": lengths,
        "wrong": wrong,
        "loadavg_at_start": loadavg,
    }
    return row_from(
        "media",
        s,
        ratio=f"{ratio:.3f}",
        target="<= 1.10 x floor, no 429",
        ok=ratio <= 1.1 and not limited and heavy == needed and whole,
        note=f"floor {floor:.2f} s = {bursts - 1} window(s) of {window:g} s + the unlimited run "
        f"{unlimited[n]:.2f} s less {waiting} recordings x {per_recording * 1000:.0f} ms (the "
        f"one-recording run {unlimited[1]:.2f} s); {s.wall - floor:+.2f} s beyond it; Heavy requests "
        f"{heavy} (the listing's page and {n} recordings: {needed} needed); 429s {limited}; responses by "
        f"status {responses}; whole: {whole} ({n} files, {size / MB:.2f} MB, {RECORDING_SECONDS:g} s "
        f"each: size = Content-Length, sha256 = the manifest's = the unlimited runs'); load "
        f"{loadavg[0]:.1f}" + (f"; WRONG: {wrong[:3]}" if wrong else ""),
    )


def recordings_whole(
    folder: Path, manifest: Path, count: int, lengths: Mapping[str, int], digests: dict[str, set[str]]
) -> list[str]:
    """What is wrong with one run's files (nothing: every recording saved, whole, nothing else left in
    the directory), each file's sha256 added to `digests` by recording id."""
    entries = json.loads(manifest.read_text(encoding="utf-8"))
    problems = []
    if len(entries) != count or {e["status"] for e in entries} != {"saved"}:
        problems.append(f"statuses {sorted(e['status'] for e in entries)}, not {count} x saved")
    files = sorted(p.name for p in folder.iterdir())
    if files != sorted(str(e["file"]) for e in entries):
        problems.append(f"files in the directory {files} are not the manifest's")
    for entry in entries:
        path = folder / str(entry["file"])
        if not path.is_file():
            continue
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        got, want = path.stat().st_size, lengths.get(str(entry["recording_id"]))
        if got != want or entry["bytes"] != got or entry["sha256"] != digest:
            problems.append(
                f"{path.name}: {got} bytes (Content-Length {want}), sha256 as the manifest's: "
                f"{entry['sha256'] == digest}"
            )
        digests.setdefault(str(entry["recording_id"]), set()).add(digest)
    return problems


def login(ctx: Context) -> list[Row]:
    """Browser callback -> session stored -> success page, over `login_runs` logins."""
    from rcauth.demo import free_loopback_port

    redirect = f"http://127.0.0.1:{free_loopback_port()}/oauth2callback"
    ctx.emulator.set(
        apps=[
            {
                "client_id": fixtures.CLIENT_ID,
                "client_secret": fixtures.CLIENT_SECRET,
                "redirect_uris": ["http://localhost:5000/oauth2callback", redirect],
            }
        ]
    )
    before = ctx.emulator.counters()
    warmup = 2
    result = json_of_script(
        "login_latency.py",
        [
            "--server",
            ctx.server,
            "--redirect-uri",
            redirect,
            "--data-dir",
            str(ctx.data_dir),
            "--runs",
            str(ctx.plan.login_runs),
            "--warmup",
            str(warmup),
        ],
        ctx.env,
    )
    after = ctx.emulator.counters()
    grants = (
        after["grants"].get("authorization_code", 0) - before["grants"].get("authorization_code", 0)
    ) / (ctx.plan.login_runs + warmup)
    med = result["median"]
    per_login = {(r["token_requests"], r["store_writes"]) for r in result["runs"]}
    pages = {r["page_status"] for r in result["runs"]}
    rest = med["callback_to_page_s"] - med["exchange_s"] - med["store_write_s"]
    ctx.results["login"] = {**result, "authorization_code_grants_per_login": grants}
    return [
        Row(
            "login",
            f"callback -> session stored -> page ({result['store']} store), median of {ctx.plan.login_runs}",
            wall_ms=med["callback_to_page_s"] * 1000,
            target="1 token request + 1 store write",
            ok=per_login == {(1, 1)} and grants == 1 and pages == {200},
            note=f"token request {med['exchange_s'] * 1000:.1f} ms + store write (fsync) "
            f"{med['store_write_s'] * 1000:.1f} ms + the rest {rest * 1000:.1f} ms; "
            f"(token requests, store writes) per login {sorted(per_login)}; page {sorted(pages)}",
        )
    ]


GROUPS: dict[str, Callable[[Context], list[Row]]] = {
    "startup": startup,
    "per-call": per_call,
    "secret-service": secret_service,
    "gc": gc_handling,
    "refresh": refresh,
    "streaming": streaming,
    "rate-limit": rate_limit,
    "login": login,
    "media": media,
}


def console_script() -> Path | None:
    """The `rcauth` entry point pip generated next to this interpreter (never a pyenv-style shim, whose
    own start-up would be measured instead)."""
    path = Path(sysconfig.get_path("scripts")) / "rcauth"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="rcauth benchmarks against the emulator on loopback.")
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer runs, smaller listings")
    parser.add_argument("--only", nargs="+", choices=list(GROUPS), help="run only these groups")
    parser.add_argument("--no-compile", action="store_true", help="do not byte-compile rcauth first")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("ringcentral") is None:
        parser.error("the baselines need RingCentral's SDK: python3 -m pip install ringcentral")
    plan = Plan.quick() if args.quick else Plan.full()
    if not args.no_compile:
        # A pip install compiles bytecode; an editable checkout, an environment uv made (it compiles
        # nothing unless told) or PYTHONDONTWRITEBYTECODE may leave none, and then every run would
        # compile rcauth and its dependencies from source and measure that instead (three times the
        # CPU of a whoami). A dependency's file that does not compile (test data) is no concern here.
        subprocess.run(
            [PYTHON, "-m", "compileall", "-q", str(ROOT / "rcauth"), str(ROOT / "ringcentral_emulator")],
            check=True,
        )
        installed = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
        subprocess.run([PYTHON, "-m", "compileall", "-q", *installed], check=False, stdout=subprocess.DEVNULL)
    info = machine()
    print(
        f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}; "
        f"plan: {'quick' if args.quick else 'full'}",
        file=sys.stderr,
    )
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="rcauth-bench-") as tmp:
        home = Path(tmp)
        env = fixtures.client_env(home, "")
        with EmulatorProcess("--no-rate-limits", "--records", str(plan.small), env=env) as emu:
            emu.set(max_sessions=None)
            ctx = Context(plan, emu, home, fixtures.client_env(home, emu.base_url), console_script())
            fixtures.store_session(ctx.data_dir, "default", emu.base_url)
            for name in args.only or list(GROUPS):
                print(f"[{name}] ...", file=sys.stderr, flush=True)
                started_group = time.perf_counter()
                group_rows = GROUPS[name](ctx)
                rows += group_rows
                print(render_table(group_rows), file=sys.stderr)
                print(f"[{name}] {time.perf_counter() - started_group:.0f} s\n", file=sys.stderr, flush=True)
    ctx.results.pop("_whoami_series", None)
    print(render_table(rows))
    if args.markdown:
        print()
        print(render_table(rows, markdown=True))
    RESULTS.mkdir(exist_ok=True)
    document = {
        "started": started,
        "machine": info,
        "plan": asdict(plan),
        "quick": args.quick,
        "rows": [asdict(r) for r in rows],
        "results": ctx.results,
    }
    path = RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
    shutil.copyfile(path, RESULTS / "latest.json")
    print(f"\nresults: {path.relative_to(ROOT)}", file=sys.stderr)
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
