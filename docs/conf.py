"""Sphinx configuration of rcauth's documentation site.

Built by `bash scripts/test` (its `docs` phase) with warnings as errors:

    .venv/bin/python -m sphinx -W --keep-going -n -b html docs <a throwaway directory>

Pages are Markdown (MyST). `reference/cli.md`, `exit-codes.md`, `environment.md` and `api.md` are
written by `scripts/docs_reference.py` from the code (the click commands, `rcauth.errors.ExitCode`,
`rcauth.config`'s tables, `rcauth.__all__`); `tests/test_docs_reference.py` fails when they are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

# autodoc imports rcauth from this checkout, whether or not it is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rcauth import __version__  # noqa: E402

project = "rcauth"
author = "rcauth's authors"
copyright = "rcauth's authors"  # noqa: A001 - the name Sphinx reads
release = __version__
version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# MyST: an anchor for every heading down to ####, so `[text](page.md#some-heading)` links resolve, and
# one to a heading that is not there is a warning (and so, under -W, a failed build).
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence", "deflist"]

# Docstrings write code as `name` (one pair of backticks, as in Markdown): shown as code, not italics.
default_role = "literal"

# The API reference: signatures as written in the code, members in the order the code gives them.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True

# Signatures name classes of the standard library and requests, documented elsewhere (the build is
# offline: no intersphinx), and a TypeVar; -n would report each as a reference it cannot resolve. Any
# other unresolved reference, rcauth's own included, is an error.
nitpick_ignore_regex = [
    ("py:class", r"(collections\.abc|datetime|os|pathlib|requests)\.\w+(\.\w+)*"),
    ("py:class", r"datetime"),
    ("py:class", r"rcauth\.errors\._Error"),
]

html_theme = "furo"
html_title = f"rcauth {release}"
html_static_path: list[str] = []
