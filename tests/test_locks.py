"""The locks the test environments are built from say what pyproject.toml says (`bash scripts/lock`).

scripts/test installs the locked run from uv.lock and the lowest-versions run from
requirements/lowest.txt; an edit to pyproject.toml's dependencies that is not followed by
`bash scripts/lock` would leave both testing something else than what users install.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import re
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
LOWEST = (REPO / "requirements" / "lowest.txt").read_text(encoding="utf-8")

# Where a marker is evaluated to compare two spellings of it (uv rewrites `python_version < '3.11'`
# as `python_full_version < '3.11'`): every Python we claim, on every platform, with every extra.
ENVIRONMENTS = [
    {
        "python_version": version,
        "python_full_version": f"{version}.0",
        "sys_platform": platform,
        "platform_system": {"linux": "Linux", "darwin": "Darwin", "win32": "Windows"}[platform],
        "platform_python_implementation": "CPython",
        "implementation_name": "cpython",
        "extra": extra,
    }
    for version, platform, extra in itertools.product(
        ["3.10", "3.11", "3.12", "3.13", "3.14"],
        ["linux", "darwin", "win32"],
        ["", *PYPROJECT["project"]["optional-dependencies"]],
    )
]


def _meaning(marker: str | None) -> tuple[bool, ...]:
    if not marker:
        return (True,) * len(ENVIRONMENTS)
    parsed = Marker(marker)
    return tuple(parsed.evaluate(env) for env in ENVIRONMENTS)


def _declared() -> dict[str, tuple[str, tuple[bool, ...], list[str]]]:
    project = PYPROJECT["project"]
    declared = {}
    entries = [(r, None) for r in project["dependencies"]] + [
        (r, extra) for extra, reqs in project["optional-dependencies"].items() for r in reqs
    ]
    for text, extra in entries:
        req = Requirement(text)
        marker = str(req.marker) if req.marker else ""
        if extra:
            marker = f"({marker}) and extra == '{extra}'" if marker else f"extra == '{extra}'"
        declared[canonicalize_name(req.name)] = (str(req.specifier), _meaning(marker), sorted(req.extras))
    return declared


def _locked_project() -> dict:
    return next(p for p in LOCK["package"] if p["name"] == "rcauth")


def test_uv_lock_was_made_from_pyprojects_dependencies() -> None:
    locked = {
        canonicalize_name(entry["name"]): (
            str(Requirement(f"x{entry.get('specifier', '')}").specifier),
            _meaning(entry.get("marker")),
            sorted(entry.get("extras", [])),
        )
        for entry in _locked_project()["metadata"]["requires-dist"]
    }
    declared = _declared()
    assert declared.keys() == locked.keys(), "run `bash scripts/lock`: the names differ"
    for name, (specifier, meaning, extras) in declared.items():
        assert str(Requirement(f"x{specifier}").specifier) == locked[name][0], f"{name}: `bash scripts/lock`"
        assert meaning == locked[name][1], f"{name}'s marker differs from uv.lock's: `bash scripts/lock`"
        assert extras == locked[name][2], f"{name}'s extras differ from uv.lock's: `bash scripts/lock`"


def test_each_name_is_declared_once_per_list() -> None:
    # The comparison above keys requirements by name: two entries for one package (split by markers)
    # would collapse into one there, so the project keeps to one.
    project = PYPROJECT["project"]
    for requirements in [project["dependencies"], *project["optional-dependencies"].values()]:
        names = [canonicalize_name(Requirement(r).name) for r in requirements]
        assert len(names) == len(set(names))


def _lowest_input(stubs: bool) -> str:
    spec = importlib.util.spec_from_file_location("lowest_input", REPO / "scripts" / "lowest_input.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lowest_input(stubs=stubs)


@pytest.mark.parametrize(("name", "stubs"), [("lowest.txt", False), ("lowest-stubs.txt", True)])
def test_requirements_lowest_was_made_from_todays_pyproject_and_uv_lock(name: str, stubs: bool) -> None:
    # scripts/lock records the sha256 of what it resolved from (scripts/lowest_input.py: pyproject.toml's
    # runtime dependencies, uv.lock's test pins): any change to either since then shows here.
    text = (REPO / "requirements" / name).read_text(encoding="utf-8")
    recorded = re.search(r"^# input sha256: ([0-9a-f]{64})$", text, re.MULTILINE)
    assert recorded, f"requirements/{name} names no input: run `bash scripts/lock`"
    expected = hashlib.sha256(_lowest_input(stubs).encode()).hexdigest()
    assert recorded.group(1) == expected, f"requirements/{name} is stale: run `bash scripts/lock`"


def test_uv_lock_covers_every_python_pyproject_claims() -> None:
    assert LOCK["requires-python"] == PYPROJECT["project"]["requires-python"]


def _lowest_pins() -> dict[str, list[tuple[Version, str]]]:
    pins: dict[str, list[tuple[Version, str]]] = {}
    for match in re.finditer(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)(?: ; ([^\\\n]+))?", LOWEST, re.MULTILINE):
        name, version, marker = match.groups()
        pins.setdefault(canonicalize_name(name), []).append((Version(version), (marker or "").strip()))
    return pins


@pytest.mark.parametrize("text", PYPROJECT["project"]["dependencies"])
def test_the_lowest_run_installs_each_runtime_dependency_at_its_declared_minimum(text: str) -> None:
    req = Requirement(text)
    minimum = [s.version for s in req.specifier if s.operator == ">="]
    assert len(minimum) == 1, f"{text}: a runtime dependency needs one `>=` bound the lowest run can test"
    pins = _lowest_pins().get(canonicalize_name(req.name))
    assert pins, f"requirements/lowest.txt has no {req.name}: run `bash scripts/lock`"
    for version, marker in pins:
        where = marker or "every Python"
        assert version == Version(minimum[0]), (
            f"requirements/lowest.txt has {req.name}=={version} for {where}, but pyproject.toml says {text}:"
            " run `bash scripts/lock`; if it still differs, something needs a newer release: raise the bound"
        )


def test_the_lowest_run_keeps_the_test_toolchain_at_the_locked_versions() -> None:
    locked_versions: dict[str, set[Version]] = {}
    for package in LOCK["package"]:
        if "version" in package:
            locked_versions.setdefault(package["name"], set()).add(Version(package["version"]))
    pins = _lowest_pins()
    runtime = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    for entry in _locked_project()["optional-dependencies"]["test"]:
        name = canonicalize_name(entry["name"])
        if name in pins and name not in runtime:
            for version, _ in pins[name]:
                assert version in locked_versions[entry["name"]], f"{name}=={version}: `bash scripts/lock`"
