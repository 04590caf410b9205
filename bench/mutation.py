"""Mutation testing of the security-critical modules with mutmut: does the suite fail when the code breaks?

Not part of CI (a full run takes tens of minutes): run it by hand after changing one of these modules or
its tests, and keep its score at 90 % or more with every survivor either killed or listed as equivalent
in bench/mutation-survivors.md. Which modules and which tests is `[tool.mutmut]` in pyproject.toml: the
fast unit tests only (no e2e, no browser); mutmut runs each mutant against only the tests that reach the
function it mutates.

    .venvs/uv/bin/uv sync --locked --extra test --extra mutation   (after `bash scripts/test --quick`)
    python bench/mutation.py                 # all modules (mutmut keeps results in mutants/ and resumes)
    python bench/mutation.py redact flow     # only the mutants of these modules
    python bench/mutation.py --again client  # rerun only the last run's survivors (after adding tests)
    python bench/mutation.py --report        # the score table of the last run, without running anything
    python bench/mutation.py --survivors     # ... and every surviving mutant's changed lines (markdown)
    mutmut show rcauth.redact.x_redact__mutmut_3   # what one mutant changed

Everything runs under `nice`: mutmut forks one test process per mutant.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = (
    "loopback",
    "flow",
    "oauth",
    "client",
    "store",
    "session",
    "redact",
    "retry",
    "origin",
    "transport",
    "errors",
)
RESULT = re.compile(r"^\s*(rcauth\.(\w+)\.\S+): (.+)$")


def _mutmut() -> str:
    executable = shutil.which("mutmut")
    if executable is None:
        sys.exit("mutmut is not installed: .venvs/uv/bin/uv sync --locked --extra test --extra mutation")
    return executable


def mutmut(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["nice", "-n", "10", _mutmut(), *args], cwd=ROOT, text=True, capture_output=True)


def _listing() -> list[tuple[str, str, str]]:
    """(mutant name, module, status) of every mutant in mutmut's store."""
    listing = mutmut("results", "--all", "true")
    if listing.returncode != 0:
        sys.exit(listing.stderr or listing.stdout)
    matches = (RESULT.match(line) for line in listing.stdout.splitlines())
    return [(m.group(1), m.group(2), m.group(3).strip()) for m in matches if m]


def results() -> dict[str, Counter[str]]:
    """Status counts per module ("killed", "survived", "no tests", "timeout", ...) from mutmut's store."""
    by_module: dict[str, Counter[str]] = {}
    for _name, module, status in _listing():
        by_module.setdefault(module, Counter())[status] += 1
    return by_module


def report(by_module: dict[str, Counter[str]], modules: list[str]) -> str:
    """A markdown table: killed / total per module and overall (a timeout counts as killed: the mutant
    made the tests hang, which a real run would notice)."""
    lines = [
        "| module | killed | survived | no tests | other | total | score |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    overall: Counter[str] = Counter()
    for module in modules:
        counts = by_module.get(module)
        if not counts:
            continue
        overall.update(counts)
        lines.append(_row(f"rcauth/{module}.py", counts))
    lines.append(_row("**all**", overall))
    return "\n".join(lines)


def _row(name: str, counts: Counter[str]) -> str:
    killed = counts["killed"] + counts["timeout"]
    survived, no_tests = counts["survived"], counts["no tests"]
    total = sum(counts.values())
    other = total - killed - survived - no_tests
    score = f"{100 * killed / total:.1f} %" if total else "-"
    return f"| {name} | {killed} | {survived} | {no_tests} | {other} | {total} | {score} |"


def survivors(modules: list[str]) -> str:
    """Each surviving mutant of `modules` with the lines it changed, for bench/mutation-survivors.md."""
    import os

    os.chdir(ROOT)  # mutmut reads its config and its results relative to the working directory
    from mutmut.__main__ import get_diff_for_mutant, walk_mutatable_files
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code

    out: list[str] = []
    for path in walk_mutatable_files():
        if Path(path).stem not in modules:
            continue
        data = SourceFileMutationData(path=path)
        data.load()
        for name, exit_code in data.exit_code_by_key.items():
            if status_by_exit_code[exit_code] != "survived":
                continue
            diff = get_diff_for_mutant(name, path=path).splitlines()
            changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
            out.append(f"- `{name}`\n  ```diff\n" + "".join(f"  {line}\n" for line in changed) + "  ```")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"some of {', '.join(MODULES)} (default: all)")
    parser.add_argument("--again", action="store_true", help="rerun only the survivors of the last run")
    parser.add_argument("--report", action="store_true", help="print the last run's scores only")
    parser.add_argument("--survivors", action="store_true", help="print the last run's scores and survivors")
    parser.add_argument("--max-children", type=int, default=1, help="parallel mutant runs (default 1)")
    args = parser.parse_args()
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"not a module under mutation testing: {', '.join(unknown)}")
    modules = list(args.modules) or list(MODULES)
    if not (args.report or args.survivors):
        names = [f"rcauth.{module}.*" for module in args.modules]
        if args.again:
            # Code unchanged, tests only added: a killed mutant stays killed, so only survivors need a run.
            listing = _listing()
            names = [name for name, module, status in listing if status == "survived" and module in modules]
            if not names:
                print(report(results(), modules))
                return
        # Not captured: mutmut shows its progress as it goes.
        run = subprocess.run(
            ["nice", "-n", "10", _mutmut(), "run", "--max-children", str(args.max_children), *names], cwd=ROOT
        )
        if run.returncode != 0:
            sys.exit(run.returncode)
    print(report(results(), modules))
    if args.survivors:
        print()
        print(survivors(modules))


if __name__ == "__main__":
    main()
