"""The import-linter contracts in pyproject.toml cover every module: a contract cannot say "rcauth minus
the CLI", so the core is listed module by module, and a module added to the package without a layer
would escape every check `lint-imports` makes."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "rcauth"
# The CLI layer: the only modules allowed click, rich, and each other's commands; `stdio` is in it
# (though it needs neither) because it changes process-wide state, which only the program may.
CLI_LAYER = {
    "rcauth.__main__",
    "rcauth.cli",
    "rcauth.cli_common",
    "rcauth.output",
    "rcauth.stdio",
    "rcauth.commands",
}


def contracts() -> dict[str, dict]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def package_modules() -> set[str]:
    """Every module of the package, by dotted name, down to the first level of subpackages."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.add(".".join(parts[:2]))
    return names


def test_every_core_module_is_forbidden_click_rich_and_commands():
    core = package_modules() - CLI_LAYER
    assert core, "no core modules found"
    for contract in ("core-no-ui", "core-no-commands"):
        listed = set(contracts()[contract]["source_modules"])
        assert listed == core, (
            f"pyproject.toml contract {contract!r}: add {sorted(core - listed)}, drop {sorted(listed - core)}"
        )



def test_every_module_has_a_row_in_architecture_md():
    """docs/ARCHITECTURE.md's module tables are where a reader learns what each module is for: a module
    added, renamed or split without its row would leave the map wrong without anyone noticing."""
    text = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| `")}
    listed = {name.strip("` ") for row in rows for name in row.split(",")}
    files = {
        str(path.relative_to(REPO))
        for package in ("rcauth", "ringcentral_emulator")
        for path in (REPO / package).rglob("*.py")
    }
    assert files <= listed, f"docs/ARCHITECTURE.md has no row for {sorted(files - listed)}"
    stale = {name for name in listed if name.endswith(".py") and name not in files}
    assert not stale, f"docs/ARCHITECTURE.md lists modules that no longer exist: {sorted(stale)}"
