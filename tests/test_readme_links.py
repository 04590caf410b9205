"""The README is a landing page whose links lead into the docs: every relative link must reach a file of
the repository, and every `#anchor` a heading of that file (as GitHub and MyST make heading anchors).
The docs site's own links are checked by its build (`sphinx -W`, scripts/test's docs phase), which
the README is not part of; the docs pages are also read on GitHub, whose anchors this checks."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's heading anchor (MyST's too): lower case, punctuation dropped, spaces as hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The page's heading anchors, with those of a file it includes (MyST's `{include}`)."""
    raw = page.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", raw, flags=re.DOTALL | re.MULTILINE)  # '# comments' in code
    found = {slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)}
    for included in re.findall(r"^```\{include\} (\S+)", raw, flags=re.MULTILINE):
        found |= anchors((page.parent / included).resolve())
    return found


def broken_links(source: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", source.read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)
    text = re.sub(r"`[^`\n]*`", "", text)  # a link shown as code is no link
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("<"):
            continue
        path, _, anchor = target.partition("#")
        page = (source.parent / path).resolve() if path else source
        if not page.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (not page.is_file() or anchor not in anchors(page)):
            broken.append(f"{target}: no heading with that anchor")
    return broken


def test_every_relative_link_of_the_readme_reaches_a_file_and_a_heading() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(LINK.findall(readme)) >= 20, "the README should link into the docs"
    assert not broken_links(REPO / "README.md")


def test_the_docs_links_work_on_github_too() -> None:
    """Sphinx also accepts docutils' own section ids (`no-keyring-insecure-storage`), which GitHub,
    where the pages are read too, does not make (`no-keyring---insecure-storage`)."""
    pages = [p for p in sorted((REPO / "docs").rglob("*.md"))]
    broken = {str(p.relative_to(REPO)): b for p in pages if (b := broken_links(p))}
    assert not broken, broken


def test_slugs_are_made_as_github_makes_them() -> None:
    assert slug("RingCentral's SDKs with rcauth's session") == "ringcentrals-sdks-with-rcauths-session"
    assert slug("Over SSH, in a container, or on WSL") == "over-ssh-in-a-container-or-on-wsl"
    assert slug("No keyring: `--insecure-storage`") == "no-keyring---insecure-storage"
