"""Measuring child processes, the emulator they talk to, and the table the results go into.

Every figure is taken from a child process: wall time from spawn to reap, and from `os.wait4` the
child's own CPU time (user + system) and peak resident set size (`ru_maxrss`). Children are started by
`spawn.py`, a small process of its own (see there why), which also counts their stdout lines; the bench
process only waits, so it adds nothing to what is measured.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SPAWN = Path(__file__).resolve().parent / "spawn.py"


@dataclass(frozen=True)
class Sample:
    """One child run: wall seconds, CPU seconds (user + sys), peak RSS in KiB, exit code, stdout lines."""

    wall: float
    cpu: float
    rss_kib: int
    returncode: int
    lines: int
    stdout_head: bytes = b""
    stderr_tail: bytes = b""


class ChildFailed(RuntimeError):
    pass


def run_child(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    keep_stdout: int = 4096,
    timeout: float = 1800.0,
) -> Sample:
    """Run `argv` to completion through `spawn.py`, which counts its stdout lines as they stream (never
    holding them) and reaps it with `os.wait4` for its own rusage. Raises `ChildFailed` on a non-zero exit."""
    with tempfile.NamedTemporaryFile(prefix="rcauth-bench-stderr-") as err:
        report = subprocess.run(
            [PYTHON, "-I", "-S", str(SPAWN), str(timeout), str(keep_stdout), err.name, "--", *argv],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            check=True,
            timeout=timeout + 30,
        ).stdout
        stderr = Path(err.name).read_bytes()[-2000:]
    first, _, head = report.partition(b"\n")
    wall, cpu, rss, code, lines = first.split()
    sample = Sample(
        wall=float(wall),
        cpu=float(cpu),
        rss_kib=int(rss),
        returncode=int(code),
        lines=int(lines),
        stdout_head=head,
        stderr_tail=stderr,
    )
    if sample.returncode != 0:
        raise ChildFailed(
            f"{' '.join(argv)} exited {sample.returncode}: {stderr.decode(errors='replace').strip()}"
        )
    return sample


@dataclass
class Series:
    """Several runs of one command, after warm-up runs that are thrown away."""

    name: str
    samples: list[Sample] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)

    def spread(self, attr: str = "wall") -> float:
        """Half the range of the runs, relative to the median: how far one run may stray."""
        values = [getattr(s, attr) for s in self.samples]
        return (max(values) - min(values)) / 2 / statistics.median(values)

    @property
    def wall(self) -> float:
        return self.median("wall")

    @property
    def cpu(self) -> float:
        return self.median("cpu")

    @property
    def rss_mib(self) -> float:
        return self.median("rss_kib") / 1024

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "median": {"wall_s": self.wall, "cpu_s": self.cpu, "rss_mib": self.rss_mib},
            "runs": [
                {"wall_s": s.wall, "cpu_s": s.cpu, "rss_kib": s.rss_kib, "lines": s.lines}
                for s in self.samples
            ],
            **self.extra,
        }


def _pairs(a: Series, b: Series, attr: str) -> list[tuple[float, float]]:
    return [(getattr(x, attr), getattr(y, attr)) for x, y in zip(a.samples, b.samples, strict=True)]


def paired(a: Series, b: Series, attr: str = "wall") -> float:
    """Median over rounds of a's run / b's run in the same round. Runs of one round are a second apart,
    so a slow spell of a shared machine (they come and go here) falls on both sides of each ratio."""
    return statistics.median(x / y for x, y in _pairs(a, b, attr))


def paired_diff(a: Series, b: Series, attr: str = "wall") -> float:
    """Median over rounds of a's run - b's run in the same round."""
    return statistics.median(x - y for x, y in _pairs(a, b, attr))


def paired_spread(a: Series, b: Series, attr: str = "wall") -> float:
    """Half the range of the per-round ratios, relative to their median."""
    ratios = [x / y for x, y in _pairs(a, b, attr)]
    return (max(ratios) - min(ratios)) / 2 / statistics.median(ratios)


@dataclass(frozen=True)
class Command:
    """A command to measure: its name in the table, argv and environment, and a hook run before each
    run (to reset state, e.g. make a stored access token stale) and after it (to check what it did)."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    before: Callable[[], None] | None = None
    after: Callable[[Sample], None] | None = None


def interleaved(commands: Sequence[Command], *, runs: int, warmup: int = 1) -> dict[str, Series]:
    """Run each command `warmup` times, then `runs` rounds of all of them in turn (A B C A B C ...), so
    drift in the machine's speed falls on every command alike."""
    series = {c.name: Series(c.name) for c in commands}
    for round_ in range(warmup + runs):
        for command in commands:
            if command.before is not None:
                command.before()
            sample = run_child(command.argv, command.env)
            if command.after is not None:
                command.after(sample)
            if round_ >= warmup:
                series[command.name].samples.append(sample)
    return series


# -- the emulator, as its own process ---------------------------------------------------------------
class EmulatorProcess:
    """`python -m rcauth emulator` in a child process, so serving never competes with the bench for the
    GIL; controlled through its `/__emulator/*` endpoints."""

    def __init__(self, *args: str, env: Mapping[str, str] | None = None) -> None:
        self.args = args
        self.env = dict(env or os.environ)
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def __enter__(self) -> EmulatorProcess:
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "rcauth", "emulator", "--port", "0", *self.args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.base_url = line.removeprefix("listening on ")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        host = self.base_url.removeprefix("http://")
        conn = http.client.HTTPConnection(host, timeout=60)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
            return json.loads(data) if data else None
        finally:
            conn.close()

    def counters(self) -> dict[str, Any]:
        return self._control("GET", "/__emulator/counters")

    def set(self, **switches: Any) -> None:
        self._control("POST", "/__emulator/config", switches)

    @property
    def media_url(self) -> str:
        """The media origin (recordings' content), on a port of its own."""
        return str(self._control("GET", "/__emulator/origins")["media_url"])


def delta(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """after - before for every counter (nested dicts by key)."""
    out: dict[str, Any] = {}
    for key, value in after.items():
        if isinstance(value, dict):
            old = before.get(key) or {}
            out[key] = {k: v - old.get(k, 0) for k, v in value.items() if v - old.get(k, 0)}
        elif isinstance(value, int | float):
            out[key] = value - before.get(key, 0)
    return out


@dataclass
class CounterWatch:
    """Counter deltas around each run of a command, kept per run."""

    emulator: EmulatorProcess
    runs: list[dict[str, Any]] = field(default_factory=list)
    _before: dict[str, Any] = field(default_factory=dict)

    def before(self) -> None:
        self._before = self.emulator.counters()

    def after(self, sample: Sample) -> None:
        change = delta(self._before, self.emulator.counters())
        if "connections" in change:
            change["connections"] -= 1  # the connection that asked for these counters
        self.runs.append(change)

    def per_run(self, key: str, sub: str | None = None) -> list[int]:
        return [(r.get(key) or {}).get(sub, 0) if sub else r.get(key, 0) for r in self.runs]


# -- the table ----------------------------------------------------------------------------------------
@dataclass
class Row:
    group: str
    name: str
    wall_ms: float | None = None
    cpu_ms: float | None = None
    rss_mib: float | None = None
    ratio: str = ""
    target: str = ""
    ok: bool | str | None = None  # True "ok", False "MISS", a string as it is (e.g. "tie")
    note: str = ""

    def cells(self) -> list[str]:
        def num(value: float | None, fmt: str) -> str:
            return "" if value is None else format(value, fmt)

        verdict = self.ok if isinstance(self.ok, str) else {True: "ok", False: "MISS", None: ""}[self.ok]
        return [
            self.name,
            num(self.wall_ms, ",.1f"),
            num(self.cpu_ms, ",.1f"),
            num(self.rss_mib, ".1f"),
            self.ratio,
            self.target,
            verdict,
            self.note,
        ]


HEADER = ["benchmark", "wall ms", "CPU ms", "peak RSS MiB", "ratio", "target", "", "notes"]


def row_from(group: str, series: Series, **kwargs: Any) -> Row:
    return Row(group, series.name, series.wall * 1000, series.cpu * 1000, series.rss_mib, **kwargs)


def render_table(rows: Sequence[Row], *, markdown: bool = False) -> str:
    """A plain-text table for the terminal, or a Markdown one for the README."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    if markdown:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        for group, members in groups.items():
            lines.append(f"| **{group}** |" + " |" * (len(HEADER) - 1))
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r.cells()) + " |" for r in members]
        return "\n".join(lines)
    body = [[c for c in r.cells()] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(HEADER)]
    numeric = {1, 2, 3}

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(widths[i]) if i in numeric else c.ljust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    out = [fmt(HEADER), fmt(["-" * w for w in widths])]
    for group, members in groups.items():
        out.append(f"[{group}]")
        out += [fmt(r.cells()) for r in members]
    return "\n".join(out)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import platform
    from importlib import metadata

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    versions = {}
    # charset-normalizer: requests imports it (rcauth's whoami and the baselines alike); its import time
    # differs by version (3.4 imports every codec), so it moves the per-call times.
    names = ("rcauth", "click", "requests", "urllib3", "charset-normalizer", "keyring", "jeepney", "rich")
    for name in (*names, "ringcentral"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
    }
