"""`rcauth.lazy_charset_detector`: the CLI's process imports requests' character-set detector when it is
first used, not when requests is imported, and nothing else changes.

Every test runs in a fresh interpreter (the hook is process-wide state, and the detector must not be
imported yet): with the real charset_normalizer beside requests, and with stand-in packages named
`chardet` on a temporary path, whose `__init__` says when it runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Windows-1252 text with no charset named: what only the detector can make sense of.
SAMPLE = "Grüße aus Köln, José: ça va très bien, merci. Señor Müller zahlt 20 € für Äpfel."


def run(code: str, *, path: Path | None = None, warnings_as_errors: bool = True) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON object as its last line."""
    argv = [sys.executable, *(["-W", "error"] if warnings_as_errors else []), "-c", textwrap.dedent(code)]
    env_path = [str(REPO)] + ([str(path)] if path is not None else [])
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(reversed(env_path)) if path else str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_requests_loads_without_the_detector_and_warns_of_nothing() -> None:
    found = run(
        """
        import json, sys
        from rcauth.lazy_charset_detector import install
        install()
        import requests  # -W error: a RequestsDependencyWarning would fail here
        from importlib.metadata import version
        detector = requests.compat.chardet
        print(json.dumps({
            "loaded": sorted(m for m in sys.modules if m.startswith("charset_normalizer")),
            "version": detector.__version__,
            "installed": version("charset-normalizer"),
            "name": detector.__name__,
        }))
        """
    )
    assert found["loaded"] == ["charset_normalizer", "charset_normalizer.version"]
    assert found["version"] == found["installed"]
    assert found["name"] == "charset_normalizer"


def test_a_response_without_a_charset_decodes_as_it_does_without_the_hook() -> None:
    decode = """
        import json, sys
        {setup}
        import requests
        response = requests.models.Response()
        response._content = {sample!r}.encode("cp1252")
        response.encoding = None
        print(json.dumps({{"text": response.text, "apparent": response.apparent_encoding,
                           "api": "charset_normalizer.api" in sys.modules}}))
    """
    hooked = run(
        decode.format(
            setup="from rcauth.lazy_charset_detector import install; install()", sample=SAMPLE
        )
    )
    plain = run(decode.format(setup="", sample=SAMPLE))
    assert hooked == plain
    assert hooked["api"] is True  # the detector was needed, so it is loaded now
    assert hooked["apparent"] is not None and "Köln" in hooked["text"]


def test_once_used_the_stand_in_serves_the_real_package() -> None:
    found = run(
        """
        import json, sys, types
        from rcauth.lazy_charset_detector import DeferredModule, install
        install()
        import requests
        stand_in = requests.compat.chardet
        was_deferred = isinstance(stand_in, DeferredModule)
        detect = stand_in.detect
        import charset_normalizer
        from charset_normalizer import from_bytes
        print(json.dumps({
            "was_deferred": was_deferred,
            "same_detect": detect is charset_normalizer.detect,
            "real_in_sys_modules": type(sys.modules["charset_normalizer"]) is types.ModuleType,
            "version_submodule": charset_normalizer.version.__name__,
            "from_bytes": from_bytes is sys.modules["charset_normalizer.api"].from_bytes,
            "file": stand_in.__file__ == charset_normalizer.__file__,
        }))
        """
    )
    assert found == {
        "was_deferred": True,
        "same_detect": True,
        "real_in_sys_modules": True,
        "version_submodule": "charset_normalizer.version",
        "from_bytes": True,
        "file": True,
    }


def test_nothing_is_hooked_once_requests_is_loaded_nor_twice() -> None:
    found = run(
        """
        import json, sys
        from rcauth.lazy_charset_detector import DeferringFinder, install
        install()
        install()
        hooks_first = sum(isinstance(f, DeferringFinder) for f in sys.meta_path)
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, DeferringFinder)]
        import requests
        install()
        print(json.dumps({"first": hooks_first,
                          "after_requests": sum(isinstance(f, DeferringFinder) for f in sys.meta_path)}))
        """
    )
    assert found == {"first": 1, "after_requests": 0}


def stand_in_package(root: Path, *, version: str | None, init: str = "") -> Path:
    """A package named `chardet` under `root` whose __init__ counts its runs in `builtins.RUNS`."""
    package = root / "chardet"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "import builtins\n"
        "builtins.RUNS = getattr(builtins, 'RUNS', 0) + 1\n"
        f"{init}\n"
        "from .version import __version__\n"
        "def detect(data):\n"
        "    return {'encoding': 'stand-in'}\n",
        encoding="utf-8",
    )
    if version is not None:
        (package / "version.py").write_text(f"__version__ = {version!r}\n", encoding="utf-8")
    return root


def test_a_detector_runs_its_code_on_first_use_only_and_once(tmp_path: Path) -> None:
    found = run(
        """
        import builtins, json, sys, threading
        from rcauth.lazy_charset_detector import install
        install()
        import chardet
        before = getattr(builtins, "RUNS", 0)
        version = chardet.__version__  # carried by the stand-in: still nothing run
        after_version = getattr(builtins, "RUNS", 0)
        results = []
        threads = [threading.Thread(target=lambda: results.append(chardet.detect(b"x"))) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        import chardet as again
        print(json.dumps({"before": before, "version": version, "after_version": after_version,
                          "runs": builtins.RUNS, "results": results,
                          "again_detect": again.detect is chardet.detect}))
        """,
        path=stand_in_package(tmp_path, version="5.2.0"),
    )
    assert found["before"] == 0 and found["after_version"] == 0
    assert found["version"] == "5.2.0"
    assert found["runs"] == 1
    assert found["results"] == [{"encoding": "stand-in"}] * 8
    assert found["again_detect"] is True


def test_a_detector_without_a_version_module_is_loaded_at_once(tmp_path: Path) -> None:
    root = stand_in_package(tmp_path, version=None, init="__version__ = '9.9.9'")
    (root / "chardet" / "__init__.py").write_text(
        "import builtins\nbuiltins.RUNS = getattr(builtins, 'RUNS', 0) + 1\n__version__ = '9.9.9'\n",
        encoding="utf-8",
    )
    found = run(
        """
        import builtins, json, sys, types
        from rcauth.lazy_charset_detector import install
        install()
        import chardet
        print(json.dumps({"runs": getattr(builtins, "RUNS", 0), "version": chardet.__version__,
                          "plain": type(sys.modules["chardet"]) is types.ModuleType}))
        """,
        path=root,
    )
    assert found == {"runs": 1, "version": "9.9.9", "plain": True}


def test_a_detector_that_fails_to_load_fails_where_it_is_used_each_time(tmp_path: Path) -> None:
    found = run(
        """
        import json
        from rcauth.lazy_charset_detector import install
        install()
        import chardet
        errors = []
        for _ in range(2):
            try:
                chardet.detect(b"x")
            except ImportError as exc:
                errors.append(str(exc))
        print(json.dumps({"errors": errors, "version": chardet.__version__}))
        """,
        path=stand_in_package(tmp_path, version="5.2.0", init="raise ImportError('broken build')"),
    )
    assert found == {"errors": ["broken build", "broken build"], "version": "5.2.0"}


def test_a_detector_that_is_not_installed_stays_not_installed(tmp_path: Path) -> None:
    found = run(
        """
        import json, sys
        sys.path = [p for p in sys.path if "site-packages" not in p and "dist-packages" not in p]
        from rcauth.lazy_charset_detector import install
        install()
        failures = []
        for name in ("chardet", "charset_normalizer"):
            try:
                __import__(name)
            except ModuleNotFoundError as exc:
                failures.append(exc.name)
        print(json.dumps({"failures": failures}))
        """,
    )
    assert found == {"failures": ["chardet", "charset_normalizer"]}


@pytest.mark.parametrize("attribute", ["__file__", "__path__", "__spec__", "__version__"])
def test_what_tools_read_of_every_module_does_not_load_the_detector(attribute: str) -> None:
    """inspect.getmodule and the like read `__file__` of every loaded module: that is no use."""
    found = run(
        f"""
        import json, sys
        from rcauth.lazy_charset_detector import install
        install()
        import requests
        getattr(requests.compat.chardet, {attribute!r})
        import inspect
        inspect.getmodule(json.dumps)
        print(json.dumps({{"api": "charset_normalizer.api" in sys.modules}}))
        """
    )
    assert found == {"api": False}
