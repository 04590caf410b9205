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


def module_tables() -> dict[str, list[str]]:
    """docs/ARCHITECTURE.md's module tables (`| module | concern |`), by the package each describes: the
    first table is rcauth's, the one under the `ringcentral_emulator` heading the emulator's. Each row's
    first cell, as written: a module's file in backticks (several comma-separated in one cell)."""
    tables: dict[str, list[str]] = {}
    package = "rcauth"
    in_table = False
    for line in (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            package = "ringcentral_emulator" if "`ringcentral_emulator`" in line else line
        if line.replace(" ", "") == "|module|concern|":
            assert package not in tables, f"docs/ARCHITECTURE.md: a second module table for {package}"
            tables[package] = []
            in_table = True
        elif in_table and line.startswith("|"):
            if not line.startswith("|--"):
                tables[package].extend(name.strip() for name in line.split("|")[1].split(","))
        else:
            in_table = False
    return tables


def test_architecture_md_has_a_row_for_every_module_and_none_for_a_module_that_is_gone():
    """docs/ARCHITECTURE.md's module tables are where a reader learns what each module is for: a module
    added, renamed, moved or split without its row, or a row left for a module that is gone, would leave
    the map wrong without anyone noticing. rcauth's modules (its commands too) are in rcauth's table, the
    emulator's in the emulator's section, each once."""
    tables = module_tables()
    assert set(tables) == {"rcauth", "ringcentral_emulator"}, f"module tables found: {sorted(tables)}"
    for package, names in tables.items():
        files = {path.relative_to(REPO).as_posix() for path in (REPO / package).rglob("*.py")}
        unquoted = [name for name in names if not (name.startswith("`") and name.endswith("`"))]
        assert not unquoted, f"docs/ARCHITECTURE.md, {package}'s table: not a `path`: {unquoted}"
        listed = [name.strip("`") for name in names]
        twice = sorted({name for name in listed if listed.count(name) > 1})
        assert not twice, f"docs/ARCHITECTURE.md, {package}'s table: more than one row for {twice}"
        missing, gone = sorted(files - set(listed)), sorted(set(listed) - files)
        assert not missing, f"docs/ARCHITECTURE.md, {package}'s table: no row for {missing}"
        assert not gone, f"docs/ARCHITECTURE.md, {package}'s table: rows for no module of {package}: {gone}"
