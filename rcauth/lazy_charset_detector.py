"""requests imports a character-set detector (chardet if installed, else charset_normalizer) as it is
itself imported, for one case: the text of an answer that names no charset (`Response.text`,
`Response.apparent_encoding`). rcauth's commands read JSON, whose answers name their type, so on
their path the detector is never used; yet importing it costs a whoami about 10 ms with
charset_normalizer 3.5 and 20 ms with 3.4, which imports every codec the interpreter ships to sort
them (bench/README.md).

So, in the CLI's own process only, the detector's import waits for its first use. `install()` puts an
import hook ahead of the usual finders that answers `import charset_normalizer` (or `chardet`) with
a stand-in module: it carries the real package's `__version__` (the one thing requests reads from
it when imported, to check compatibility) and loads the real package the first time anything else
is read from it, then serves its attributes. A detector that is not installed stays not installed,
one whose version cannot be read is loaded at once, and nothing is deferred once requests is loaded.
The library (`import rcauth`) never installs it: a host program's imports are its own.
"""

from __future__ import annotations

import _thread  # the lock alone: `threading` would cost start-up what this module saves
import importlib
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import importlib.abc

# What requests.compat tries, in its order; requests.__init__ reads both versions.
DETECTORS = ("chardet", "charset_normalizer")

_loading = _thread.RLock()


class DeferredModule(types.ModuleType):
    """A detector package whose own code has not run yet; the first attribute it lacks loads it."""

    def __getattr__(self, attr: str) -> Any:  # called only for what the stand-in does not hold
        if "__version__" not in self.__dict__:
            # Still being made: the import system probes for attributes it has yet to set.
            raise AttributeError(attr)
        return getattr(_load_real(self), attr)


def _load_real(standin: types.ModuleType) -> types.ModuleType:
    """Import the real package in place of `standin` and copy its namespace into the stand-in, so a
    reference taken earlier (requests keeps one as `requests.compat.chardet`) sees the real thing."""
    with _loading:
        name = standin.__name__
        current = sys.modules.get(name)
        if current is not None and current is not standin:
            return current  # loaded already (by another thread, or on an earlier use)
        # The stand-in's submodules (its version module) go too: the real package imports them again
        # and binds them to itself.
        for loaded in [m for m in list(sys.modules) if m == name or m.startswith(name + ".")]:
            del sys.modules[loaded]
        try:
            real = importlib.import_module(name)  # the hook answers each name once: this is the real one
        except BaseException:
            sys.modules[name] = standin
            raise
        standin.__dict__.update(real.__dict__)
        return real


class DeferringFinder:
    """The import hook: answers the first import of each detector with a `DeferredModule`."""

    def __init__(self, names: Sequence[str]) -> None:
        self.pending = set(names)

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in self.pending:
            return None
        self.pending.discard(name)  # later imports of it (the real load) go to the usual finders
        real = importlib.machinery.PathFinder.find_spec(name, path)
        if real is None or real.submodule_search_locations is None:
            return None  # not installed (the usual ImportError follows), or not the package we know
        # A loader by duck typing: importing importlib.abc for the base class would cost what is saved.
        loader = cast("importlib.abc.Loader", self)
        spec = importlib.machinery.ModuleSpec(name, loader, origin=real.origin, is_package=True)
        spec.submodule_search_locations = list(real.submodule_search_locations)
        spec.has_location = real.has_location  # so the stand-in has the package's __file__
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return DeferredModule(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        # The version lives in a module of its own in both packages (`<name>/version.py`); read
        # through the stand-in's __path__, it loads without running the package's __init__.
        try:
            version = importlib.import_module(module.__name__ + ".version").__version__
        except (ImportError, AttributeError):
            _load_real(module)  # a layout we do not know: no deferring, the real package now
            return
        module.__dict__["__version__"] = version


def install() -> None:
    """Defer the detector's import in this process (the CLI's), unless requests or a detector is
    loaded already: then there is nothing left to save, and nothing is changed."""
    if "requests" in sys.modules or any(name in sys.modules for name in DETECTORS):
        return
    if any(isinstance(finder, DeferringFinder) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, DeferringFinder(DETECTORS))
