"""The documentation's reference pages (docs/reference/) say what the code says.

They are written by scripts/docs_reference.py from the click commands, `rcauth.errors.ExitCode`,
`rcauth.config`'s tables and `rcauth.__all__`, and committed; a change to any of those that is not
followed by running it fails here, with the diff. The tables of environment variables and config keys
are the one list: a variable the code reads that is not in `rcauth.config.ENVIRONMENT` fails too.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rcauth
from rcauth import config
from rcauth.errors import ExitCode

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "docs" / "reference"
SCRIPT = REPO / "scripts" / "docs_reference.py"


def _locked_click() -> set[str]:
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    return {package["version"] for package in lock["package"] if package["name"] == "click"}


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


# Help is laid out by click, whose layout changes between releases (8.1 prints `{GET|POST}` where 8.2
# prints `{get|post}`): the pages are made with uv.lock's click, and the lowest-versions run, with
# click at its declared minimum, would find them stale for that alone.
needs_locked_click = pytest.mark.skipif(
    importlib.metadata.version("click") not in _locked_click(),
    reason=f"the pages are made with uv.lock's click {sorted(_locked_click())}, not "
    f"{importlib.metadata.version('click')}, whose --help may be laid out otherwise",
)


@needs_locked_click
@pytest.mark.parametrize("columns", [None, "40", "200"], ids=["no-COLUMNS", "COLUMNS=40", "COLUMNS=200"])
def test_the_committed_reference_pages_are_what_the_code_makes_whatever_the_terminal(
    columns: str | None,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    result = _check(env)
    assert result.returncode == 0, (
        "docs/reference is stale: run `.venv/bin/python scripts/docs_reference.py` and commit it\n"
        + result.stdout
        + result.stderr
    )


@needs_locked_click
def test_the_check_fails_with_a_diff_when_an_options_help_changes(tmp_path: Path) -> None:
    # The check, on a copy of the code whose `rcauth token` says something else about --json.
    copy = tmp_path / "repo"
    for part in ("rcauth", "ringcentral_emulator", "scripts", "docs/reference"):
        src = REPO / part
        for path in src.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                target = copy / path.relative_to(REPO)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
    rest = copy / "rcauth" / "commands" / "rest.py"
    text = rest.read_text(encoding="utf-8")
    changed = re.sub(r'(help=")([^"]*)(")', r"\1A help text the pages do not have.\3", text, count=1)
    assert changed != text
    rest.write_text(changed, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(copy / "scripts" / "docs_reference.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "+" in result.stdout and "A help text the pages do not" in result.stdout
    assert "stale: cli.md" in result.stderr


def test_every_public_name_is_documented_in_the_api_reference() -> None:
    page = (REFERENCE / "api.md").read_text(encoding="utf-8")
    documented = set(
        re.findall(r"^\.\. (?:auto(?:class|function)|py:data):: rcauth\.(\w+)$", page, re.MULTILINE)
    )
    assert set(rcauth.__all__) - documented == set()


def test_every_exit_code_is_in_the_exit_codes_page_with_its_meaning() -> None:
    page = (REFERENCE / "exit-codes.md").read_text(encoding="utf-8")
    rows = {
        int(code): (name, meaning)
        for code, name, meaning in re.findall(r"^\| (\d+) \| `(\w+)` \| (.+) \|$", page, re.MULTILINE)
    }
    assert set(rows) == {int(code) for code in ExitCode}
    for code in ExitCode:
        assert code.meaning, f"{code.name} says nothing of what it means"
        assert rows[int(code)] == (code.name, code.meaning.replace("|", "\\|"))


def test_every_environment_variable_and_config_key_is_in_the_environment_page() -> None:
    page = (REFERENCE / "environment.md").read_text(encoding="utf-8")
    for var in config.ENVIRONMENT:
        assert f"| `{var.name}` |" in page
    for key in config.CONFIG_KEYS:
        assert f"| `{key.key}` |" in page


def test_the_reference_pages_name_no_path_of_the_machine_that_wrote_them() -> None:
    # The checkout, the home directory and the environment: what a default computed at import would name.
    paths = {str(REPO), str(Path.home()), sys.prefix}
    for page in REFERENCE.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert not [path for path in paths if path in text], page.name


# -- the environment variables the code reads are the ones rcauth.config.ENVIRONMENT lists ---------------

# rcauth sets it around a token call to a loopback server and puts back what was there: it is never
# read as a setting (docs/ARCHITECTURE.md).
NOT_SETTINGS = {"OAUTHLIB_INSECURE_TRANSPORT"}


def _is_environ(node: ast.expr) -> bool:
    """`os.environ`, or a mapping a function took in its place (`environ`)."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _keys_read(tree: ast.AST) -> list[ast.expr]:
    """The expressions naming an environment variable: `os.environ[X]`, `os.environ.get(X)` (and pop),
    `os.getenv(X)`, `X in os.environ`, click's `envvar=X`, and rcauth's readers `seconds_from_env(X)`
    and `_platform_dir(kind, X)`."""
    keys: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            keys.append(node.slice)
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            keys.append(node.left)
        elif isinstance(node, ast.Call):
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if isinstance(func, ast.Attribute) and func.attr in ("get", "pop") and _is_environ(func.value):
                keys.append(node.args[0])
            elif name in ("getenv", "seconds_from_env") and node.args:
                keys.append(node.args[0])
            elif name == "_platform_dir" and len(node.args) > 1:
                keys.append(node.args[1])
            keys += [k.value for k in node.keywords if k.arg == "envvar"]
    return keys


def _names_read(path: Path) -> set[str]:
    """The variable names `path` reads that can be told from the code: a literal, or a name or attribute
    (`PROFILE_VAR.name`) evaluated in the module; a loop's variable is not (its values are the
    constants' it loops over, read here where they are defined)."""
    module = importlib.import_module(".".join(path.relative_to(REPO).with_suffix("").parts))
    names = set()
    for key in _keys_read(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
        elif isinstance(key, (ast.Name, ast.Attribute)):
            try:
                value = eval(compile(ast.Expression(key), str(path), "eval"), vars(module))  # noqa: S307
            except NameError:
                continue  # a local variable
            if isinstance(value, str):
                names.add(value)
            elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
                names.update(value)
    return names


def _own_names_written(path: Path) -> set[str]:
    """String literals that are whole names in rcauth's own namespaces (`RC_*`, `RCAUTH_*`), however
    they are used: a name kept in a constant of another name than the readers above take."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if re.fullmatch(r"(RC|RCAUTH)_[A-Z0-9_]+", node.value):
                found.add(node.value)
    return found


SOURCES = sorted((REPO / "rcauth").rglob("*.py"))


def _listed(name: str) -> bool:
    return any(
        var.name == name or (var.name.endswith("*") and name.startswith(var.name[:-1]))
        for var in config.ENVIRONMENT
    )


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_environment_variable_the_code_reads_is_listed_in_the_one_table(path: Path) -> None:
    unlisted = {
        name
        for name in _names_read(path) | _own_names_written(path)
        if not _listed(name) and name not in NOT_SETTINGS
    }
    assert not unlisted, (
        f"add {sorted(unlisted)} to rcauth.config.ENVIRONMENT (and run scripts/docs_reference.py)"
    )


def test_the_scan_finds_the_variables_read_through_the_table_and_as_literals() -> None:
    # The scan above must see reads of each kind, or it would pass by finding nothing.
    assert "RCAUTH_TIMEOUT" in _names_read(
        REPO / "rcauth" / "config.py"
    )  # seconds_from_env(TIMEOUT_VAR.name)
    assert "RCAUTH_PROFILE" in _names_read(REPO / "rcauth" / "cli.py")  # envvar=PROFILE_VAR.name
    assert "SSL_CERT_FILE" in _names_read(REPO / "rcauth" / "transport.py")  # os.environ.get(CA_FILE_ENV)
    assert "PYTHON_KEYRING_BACKEND" in _names_read(REPO / "rcauth" / "keyring_choice.py")  # a literal
    assert "KEYRING_PROPERTY_" not in _names_read(REPO / "rcauth" / "keyring_choice.py")
    assert _listed("KEYRING_PROPERTY_SCHEME") and not _listed("RCAUTH_NO_SUCH_THING")


def test_the_environment_table_gives_each_setting_its_variables_in_the_order_they_are_read() -> None:
    # `resolve` reads ENV_NAMES; it is made from the table, RingCentral's current names first.
    assert config.ENV_NAMES["client_id"] == ("RC_APP_CLIENT_ID", "RC_CLIENT_ID")
    assert set(config.ENV_NAMES) == set(config.FIELDS) == {k.key for k in config.CONFIG_KEYS if k.setting}
    assert all(config.ENV_NAMES[field] for field in config.FIELDS)
