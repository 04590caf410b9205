"""The emulator is a package of its own: it stands alone, ships with rcauth, and cites only the repository."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import setuptools
from hypothesis import given
from hypothesis import strategies as st

from rcauth.config import is_loopback_host as client_is_loopback_host
from ringcentral_emulator.config import is_loopback_host as emulator_is_loopback_host

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "ringcentral_emulator"
DOC = REPO / "docs" / "ringcentral.md"


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_emulator_module_imports_rcauth_even_inside_a_function():
    offenders = {
        path.name: sorted(m for m in _imported_modules(path) if m == "rcauth" or m.startswith("rcauth."))
        for path in sorted(PACKAGE.glob("*.py"))
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_emulator_serves_a_token_in_a_process_where_rcauth_cannot_be_imported():
    """Every module loads, and the server answers, with `rcauth` made unimportable: a test double that
    leaned on the client it tests could share its bugs."""
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        from importlib.abc import MetaPathFinder

        class NoRcauth(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "rcauth" or name.startswith("rcauth."):
                    raise ImportError(f"the emulator imported {name}")
                return None

        sys.meta_path.insert(0, NoRcauth())
        import requests
        import ringcentral_emulator
        for info in pkgutil.iter_modules(ringcentral_emulator.__path__):
            importlib.import_module(f"ringcentral_emulator.{info.name}")
        from ringcentral_emulator import DEMO_JWT, Emulator, EmulatorConfig
        from ringcentral_emulator.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

        with Emulator(EmulatorConfig(rate_limits_enabled=False)) as emu:
            answer = requests.post(
                f"{emu.base_url}/restapi/oauth/token",
                data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": DEMO_JWT},
                auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
                timeout=10,
            )
        print(answer.status_code, sorted(m for m in sys.modules if m.split(".")[0] == "rcauth"))
        """
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "[]"]


_HOSTS = st.one_of(
    st.sampled_from(
        [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "0.0.0.0",  # noqa: S104 - a host to classify, nothing binds it
            "::",
            "192.0.2.1",
            "localhost.",
            "localhost.example",
            "::ffff:127.0.0.1",
            "0:0:0:0:0:0:0:1",
            "",
            " 127.0.0.1",
        ]
    ),
    st.ip_addresses().map(str),
    st.text(max_size=20),
)


@given(host=st.one_of(st.none(), _HOSTS))
def test_emulator_and_client_agree_on_which_hosts_are_loopback(host):
    """The emulator keeps its own copy of the loopback check (it imports nothing from rcauth); the copies
    must agree, or the client would refuse plain http to an emulator that the emulator allows, or the
    other way round."""
    assert emulator_is_loopback_host(host) == client_is_loopback_host(host)


def test_emulator_docstrings_cite_sections_of_the_repositorys_own_ringcentral_page():
    """Every source an emulator module names is in the repository: no machine path, no notes kept beside
    the repository, and each section it names is a heading of docs/ringcentral.md."""
    headings = set(re.findall(r"^## (.+)$", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE))
    cited: list[str] = []
    for path in sorted(PACKAGE.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"/work/|/root/|/home/|shared/|ringcentral-notes|\.\./", text), path.name
        for doc in re.findall(r"\bdocs/[\w./-]+\.md", text):
            assert (REPO / doc).is_file(), (path.name, doc)
        for names in re.findall(r'docs/ringcentral\.md,?\s*\(?((?:"[^"]+",?\s*)+)', text):
            cited += re.findall(r'"([^"]+)"', names)
    assert cited and set(cited) <= headings, sorted(set(cited) - headings)


def test_ringcentral_page_names_public_sources_and_no_machine_path():
    text = DOC.read_text(encoding="utf-8")
    assert not re.search(r"/work/|/root/|/home/|\.\./|ringcentral-notes", text)
    for source in (
        "https://github.com/ringcentral/ringcentral-api-docs/blob/HEAD/docs/basics/errors.md",
        "https://github.com/ringcentral/ringcentral-api-docs/blob/HEAD/docs/basics/rate-limits.md",
        "https://github.com/ringcentral/ringcentral-api-docs/blob/HEAD/docs/authentication/refresh-tokens.md",
        "https://github.com/tylerlong/ringcentral-open-api-parser/blob/799e12a/rc-public-openapi.yml",
    ):
        assert source in text


def test_the_distribution_ships_the_emulator_beside_rcauth():
    """`pip install rcauth` must bring the emulator: `rcauth emulator` and `rcauth demo` load it."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = set(setuptools.find_packages(where=str(REPO), include=include))
    assert {"rcauth", "rcauth.commands", "ringcentral_emulator"} <= packages
    assert not {p for p in packages if p.split(".")[0] not in ("rcauth", "ringcentral_emulator")}
