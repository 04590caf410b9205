"""rcauth's version, on its own: the modules that need it (`client`'s User-Agent, `cli`'s `--version`) read
it here, not from the package's public face (`rcauth/__init__.py`), which imports those modules in turn;
so every import arrow between rcauth's modules points one way."""

from __future__ import annotations

# A literal, not importlib.metadata: `rcauth --version` must not pay for a metadata scan at start-up.
__version__ = "0.1.0"
