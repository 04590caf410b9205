"""Print the input from which scripts/lock resolves requirements/lowest.txt.

The lowest-versions run tests what a user's install may really get: each runtime dependency at the
lowest version pyproject.toml allows (`uv pip compile --resolution lowest-direct` picks those for the
direct requirements printed here as declared). The test toolchain is not what users install: it is
printed pinned to the versions uv.lock holds, so the two runs differ only in rcauth's own dependencies.

Left out are the test extra's tools that depend on rcauth's own dependencies (click, rich, requests) at
versions newer than rcauth's minimums and are not needed by the suites this run covers: the checkers
that run as programs of their own (import-linter, ruff), schemathesis (the emulator's property tests)
and playwright (the browser tests). Keeping them would lift click, rich and requests above the bounds
under test, and the run would prove nothing about those bounds.

types-requests-oauthlib is type information only, yet declares `requests>=2.34`: with `--stubs` this
prints it alone, and scripts/test installs it without its dependencies, so mypy checks rcauth against
the lowest set with the same stubs as the locked run.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
# scripts/test runs the lowest phase without the tests that need these (it names them there).
LEFT_OUT = frozenset({"import-linter", "ruff", "schemathesis", "playwright"})
STUBS_WITHOUT_DEPENDENCIES = frozenset({"types-requests-oauthlib"})


def _name(requirement: str) -> str:
    for stop in "<>=!~;[ ":
        requirement = requirement.split(stop, 1)[0]
    return requirement.strip().lower().replace("_", "-").replace(".", "-")


def lowest_input(stubs: bool = False) -> str:
    """The input text; scripts/lock records its sha256 in requirements/lowest.txt (tests/test_locks.py)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    versions: dict[str, list[str]] = {}
    for package in lock["package"]:
        versions.setdefault(package["name"], []).append(package.get("version", ""))
    ours = next(p for p in lock["package"] if p["name"] == "rcauth")

    lines = []
    if not stubs:
        lines.append("# runtime dependencies, as pyproject.toml declares them (resolved to their lowest)")
        lines += project["dependencies"]
        lines.append("# the test toolchain, as uv.lock pins it")
    for entry in ours["optional-dependencies"]["test"]:
        if entry["name"] in LEFT_OUT or (entry["name"] in STUBS_WITHOUT_DEPENDENCIES) != stubs:
            continue
        version = entry.get("version")
        if version is None:
            found = versions[entry["name"]]
            if len(found) != 1:
                raise SystemExit(f"uv.lock holds {entry['name']} at {found}: no marker says which")
            version = found[0]
        marker = f" ; {entry['marker']}" if "marker" in entry else ""
        lines.append(f"{entry['name']}=={version}{marker}")
    declared = {_name(r) for r in project["optional-dependencies"]["test"]}
    pinned = {entry["name"] for entry in ours["optional-dependencies"]["test"]}
    if declared != pinned:
        raise SystemExit(f"uv.lock is stale: the test extra differs by {sorted(declared ^ pinned)}")
    return "\n".join(lines) + "\n"


def main() -> int:
    sys.stdout.write(lowest_input(stubs=sys.argv[1:] == ["--stubs"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
